"""Who speaks a quoted passage (qa.speakers): table-driven units, then the real corpus, where an interview quotes two
experts at length, through `real_store` (focus check, attribution, retrieval, the citation's ``speaker``)."""

from __future__ import annotations

import re

import pytest

from qa import ask
from qa.answer import attribute, publisher
from qa.speakers import quotations, speaker_at
from qa.types import Citation

LONG = "The situation has changed and the offices have lost their meaning"


@pytest.mark.parametrize("text, speaker", [
    pytest.param(f'Intro.\n\n"{LONG}," emphasized Musabayov.', "Musabayov", id="verb-then-name-after"),
    pytest.param(f'Intro.\n\n"{LONG}," Shafiyev concluded.', "Shafiyev", id="name-then-verb-after"),
    pytest.param(f"“{LONG},” says Roberts.", "Roberts", id="curly-marks"),
    pytest.param(f'Minister Ann Lee stated: "{LONG}."', "Ann Lee", id="name-verb-colon-before"),
    pytest.param(f'According to Sam, "{LONG}."', "Sam", id="according-to-before"),
    pytest.param(f'According to Farid Shafiyev, the state is a donor.\n\n"{LONG}," he noted.', "Farid Shafiyev",
                 id="pronoun-resolved-to-last-named-speaker"),
    pytest.param(f'As noted by MP Rasim Musabayov, things change.\n\n"{LONG}," emphasized Musabayov.',
                 "Rasim Musabayov", id="short-name-in-its-fullest-form"),
    pytest.param(f'"{LONG}".\n\nAzerbaijan demands a seat.', "", id="a-new-sentence-after-the-mark-is-no-speaker"),
    pytest.param('Lady Gaga wrote "I Will Never Love Again In Time" for the film.', "", id="a-title-is-no-speech"),
    pytest.param('Who wrote “Hound Dog”?', "", id="a-short-quote-is-no-speech"),
    pytest.param(f'"{LONG}," the statement said.', "", id="no-name"),
    pytest.param(f'The Azerbaijani state.\n\n"{LONG}," he noted.', "", id="a-noun-of-saying-names-no-one"),
])
def test_the_speaker_of_a_quotation(text, speaker):
    assert quotations(text), text
    assert [q.speaker for q in quotations(text) if q.speaker] == ([speaker] if speaker else [])
    if "lost their" in text:
        inside = text.index("lost their")
        assert speaker_at(text, inside, inside + 10) == speaker


def test_a_quotation_over_several_paragraphs_is_one():
    """Each paragraph of a long quotation may reopen it; the one closing mark ends it, and names its speaker."""
    text = (f'Intro.\n\n"First paragraph of the quote, which goes on for a while.\n\n"Second paragraph, '
            f'{LONG}," emphasized Musabayov.\n\nAfter.')
    i = text.index("First")
    assert speaker_at(text, i, i + 20) == "Musabayov"
    assert speaker_at(text, text.index("After"), len(text)) == ""


def _cit(n: int, quote: str, speaker: str = "", source: str = "Caliber.az") -> Citation:
    return Citation(n=n, doc_id="d", title="t", source=source, quote=quote, start=0, end=len(quote), speaker=speaker)


@pytest.mark.parametrize("body, speaker, expected", [
    pytest.param("It is an optimization.", "Farid Shafiyev", "According to Farid Shafiyev (Caliber.az), it is",
                 id="a-quoted-sentence-names-the-person-and-the-publisher"),
    pytest.param('It is needed," emphasized Musabayov.', "Rasim Musabayov", "According to Caliber.az, it is",
                 id="a-sentence-naming-its-speaker-gets-the-publisher"),
    pytest.param("According to Farid Shafiyev, it is a signal.", "", "Caliber.az reports that, according to Farid",
                 id="a-sentence-naming-whom-it-reports"),
    pytest.param("It is an optimization.", "", "According to Caliber.az, it is", id="no-speaker"),
])
def test_attribution_names_the_person_quoted(body, speaker, expected):
    c = _cit(1, body, speaker)
    out = attribute(f"{body} [1]", [c], set(), lambda s: True, lambda w, s="": w.lower() in {"it"})
    assert out.startswith(expected), out


def test_publisher_label_with_and_without_a_speaker():
    assert publisher(_cit(1, "x", "Farid Shafiyev")) == "Farid Shafiyev (Caliber.az)"
    assert publisher(_cit(1, "x")) == "Caliber.az"
    assert publisher(_cit(1, "x", "Huseynov", "Dr. Vasif Huseynov (op-ed)")) == "Dr. Vasif Huseynov (op-ed)"


# ---- the real corpus -------------------------------------------------------------------------------------------

def test_the_interview_quotes_two_experts(real_store):
    doc = next(d for d in real_store.docs.values() if "Musabayov" in d.text)
    speakers = [q.speaker for q in quotations(doc.text) if q.speaker]
    assert set(speakers) == {"Rasim Musabayov", "Farid Shafiyev"}, speakers
    i = doc.text.index("less than $5 million")
    assert speaker_at(doc.text, i, i + 10) == "Rasim Musabayov"
    for d in real_store.docs.values():  # the other pages quote phrases and titles, not people
        if d is not doc:
            assert not [q.speaker for q in quotations(d.text) if q.speaker], d.doc_id


def test_a_question_naming_the_person_quoted_is_answered_from_his_words(real_settings, real_store):
    """His quoted sentences never name him: the focus check abstained on "According to Musabayov, ...?"."""
    a = ask("According to Musabayov, how much more aid does Azerbaijan provide than the UN provides in the country?",
            real_settings, store=real_store, llm="none")
    assert not a.abstained, a.notes
    assert "5–10 times" in a.text
    cited = [c for c in a.citations if "5–10 times" in c.quote]
    assert cited and cited[0].speaker == "Rasim Musabayov"


def test_who_said_it_names_the_person_quoted(real_settings, real_store):
    a = ask("Who said the situation has changed?", real_settings, store=real_store, llm="none")
    assert not a.abstained and a.citations
    assert re.search(r"According to Rasim Musabayov \(Caliber\.az\)", a.text), a.text
    assert a.to_dict()["citations"][0]["speaker"] == "Rasim Musabayov"


def test_the_quote_card_and_the_terminal_say_whom_the_document_quotes():
    from qa.render import render_card, render_terminal
    from qa.types import Answer

    c = _cit(1, "It is an optimization.", "Farid Shafiyev")
    assert "quoting Farid Shafiyev" in render_card(c)
    assert "quoting Farid Shafiyev" not in render_card(_cit(1, "It is an optimization."))
    text = render_terminal(Answer(question="q", text="It is an optimization. [1]", citations=(c,)))
    assert "quoting Farid Shafiyev, Caliber.az" in text
