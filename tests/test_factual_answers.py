"""Answers over documents that disagree on a fact, or that share a name: the real pipeline, real embedder and real NER
on small corpora written for these tests, plus attribution and focus on the shipped corpus."""

from __future__ import annotations

import json
import re

import pytest

from qa.pipeline import ask
from qa.settings import ROOT, Settings
from qa.store import open_store
from tests.conftest import write
from tests.test_llm_units import FakeChat

WON_A = ("The 2011 Lakeside Marathon was held in heavy rain. Maria Olsen won the 2011 Lakeside Marathon in record "
         "time. The course ran along the north shore.")
WON_B = ("Local papers covered the race for days. Maria Olsen won the 2011 Lakeside Marathon, beating a field of 900 "
         "runners. Her coach praised the pacing.")
WON_C = ("A new sponsor joined that year. Petra Novak won the 2011 Lakeside Marathon, beating a field of 900 runners. "
         "The prize was a silver cup.")


def _store(tmp_path, files: dict[str, tuple[str, str]]):
    corpus = tmp_path / "corpus"
    manifest = {}
    for name, (source, text) in files.items():
        write(corpus / name, text)
        manifest[name] = {"title": name, "source": source}
    write(corpus / "manifest.json", json.dumps({"documents": manifest}))
    settings = Settings.from_env(corpus_dir=corpus, index_dir=tmp_path / "index", llm="none")
    return settings, open_store(settings)


def _docs(texts: dict[str, tuple[str, str]]):
    """Documents built directly from {doc_id: (publisher, text)}, for the pure answer-writing functions."""
    from qa.types import Document, Span

    return {d: Document(doc_id=d, path=d, title=d, source=src, date="", text=t, sha256="x",
                        content=(Span(start=0, end=len(t)),)) for d, (src, t) in texts.items()}


def _valid(answer, store) -> bool:
    quotes = list(answer.citations) + [c.citation for d in answer.disagreements for c in d.claims]
    return all(store.docs[c.doc_id].text[c.start:c.end] == c.quote for c in quotes)


def test_planted_name_is_counted_and_said_first(tmp_path):
    settings, store = _store(tmp_path, {"a.txt": ("Lake Times", WON_A), "b.txt": ("Shore News", WON_B),
                                        "c.txt": ("Race Blog", WON_C)})
    a = ask("Who won the 2011 Lakeside Marathon?", settings, store=store, llm="none")
    assert a.text.startswith("The sources disagree:"), a.text
    assert "Maria Olsen" in a.text and "Petra Novak" in a.text
    factual = [d for d in a.disagreements if d.kind == "factual"]
    assert factual and sorted(len(s.doc_ids) for s in factual[0].sides) == [1, 2]
    assert "2 documents" in a.text or ("Lake Times" in a.text and "Shore News" in a.text)
    assert _valid(a, store) and not a.abstained


def test_agreeing_sources_note_nothing(tmp_path):
    settings, store = _store(tmp_path, {"a.txt": ("Lake Times", WON_A), "b.txt": ("Shore News", WON_B)})
    a = ask("Who won the 2011 Lakeside Marathon?", settings, store=store, llm="none")
    assert not a.disagreements and "Maria Olsen" in a.text and not a.text.startswith("The sources disagree")


def test_two_things_sharing_a_name_are_ambiguity_not_conflict(tmp_path):
    settings, store = _store(tmp_path, {
        "chemist.txt": ("Science Weekly", "Ann Lee (chemist) Ann Lee was born in Oslo in 1950. She studied catalysis "
                                          "at the university and later ran a laboratory."),
        "singer.txt": ("Music Daily", "Ann Lee (singer) Ann Lee was born in Leeds in 1979. She released four albums "
                                      "and toured Europe twice."),
    })
    a = ask("Where was Ann Lee born?", settings, store=store, llm="none")
    assert not a.disagreements, a.disagreements
    assert "Oslo" in a.text and "Leeds" in a.text and "chemist" in a.text and "singer" in a.text
    assert _valid(a, store)


def test_model_stating_one_side_is_not_shown_as_fact(tmp_path):
    settings, store = _store(tmp_path, {"a.txt": ("Lake Times", WON_A), "b.txt": ("Shore News", WON_B),
                                        "c.txt": ("Race Blog", WON_C)})
    model = FakeChat(replies=["Petra Novak won the 2011 Lakeside Marathon [1]."])
    a = ask("Who won the 2011 Lakeside Marathon?", settings, store=store, llm=model)
    assert a.text.startswith("The sources disagree:"), a.text
    plain = re.sub(r"^The sources disagree:[^.]*\.", "", a.text)
    assert "Petra Novak won" not in plain
    assert _valid(a, store)


# --- on the shipped corpus ---------------------------------------------------------------------------------------

def _sentences(text: str):
    from qa.answer import answer_sentences

    for _, body, marks in answer_sentences(text):
        yield body, marks


def _conflicting_questions():
    rows = [json.loads(line) for line in (ROOT / "eval" / "seed.jsonl").read_text().splitlines() if line.strip()]
    return [r["question"] for r in rows if r.get("type") == "conflicting"]


@pytest.mark.parametrize("question", _conflicting_questions())
def test_disputed_claims_name_their_publisher(real_settings, real_store, question):
    """No answer sentence asserts a claim of a document that another retrieved source disputes without naming the
    document's publisher (read from Answer.citations and Answer.disagreements)."""
    a = ask(question, real_settings, store=real_store, llm="none")
    disputed = {c.citation.doc_id for d in a.disagreements for c in d.claims}
    by_n = {c.n: c for c in a.citations}
    for body, marks in _sentences(a.text):
        if body.startswith(("The sources disagree", "Different things share")) or "says “" in body:
            continue
        for n in marks:
            c = by_n[n]
            if c.doc_id in disputed:
                who = c.source or c.title
                assert who.lower() in body.lower(), (question, body, who)


@pytest.mark.parametrize("question, who", [
    ("Who says the closure is politically motivated?", "Institute for Human Rights"),
    ("Which source calls the closure a deliberate effort to silence independent actors?", "Institute for Human Rights"),
    # a sentence that reports rather than judges: only the question makes its publisher the answer
    ("Who said the Red Cross engaged in pro-Armenian activities?", "Caliber.az"),
])
def test_a_question_asking_who_says_it_names_the_publisher_in_every_sentence(real_settings, real_store, question, who):
    """"Who says ...?" is answered by who says it: each quoted sentence names its publisher, whether or not it judges."""
    a = ask(question, real_settings, store=real_store, llm="none")
    assert not a.abstained and a.citations
    by_n = {c.n: c for c in a.citations}
    for body, marks in _sentences(a.text):
        for n in marks:
            c = by_n[n]
            assert (c.source or c.title).lower() in body.lower(), body
    assert who in a.text


def test_answer_about_something_else_abstains(real_settings, real_store):
    a = ask("When did Armenia join the United Nations?", real_settings, store=real_store, llm="none")
    assert a.abstained, a.text
    b = ask("When was Azerbaijan admitted to the UN?", real_settings, store=real_store, llm="none")
    assert not b.abstained and "2 March 1992" in b.text


def test_an_acronym_the_page_spells_out_is_on_focus(real_settings, real_store):
    """The op-ed writes "the Non-Aligned Movement", then "It holds 55% of the global population"; a question that
    says "NAM" is answered by it (it abstained: neither the focus check nor the value check read "NAM" there)."""
    a = ask("What percentage of the world population lives in NAM countries?", real_settings, store=real_store,
            llm="none")
    assert not a.abstained and "55%" in a.text, a.text


def test_copy_with_a_changed_fact_is_a_conflict_where_the_change_is(tmp_path):
    """A planted copy changes the answer in a sentence that names the subject only by a pronoun ("It was designed
    by ..."): retrieval ranks it low, yet the two copies disagree on the question's answer."""
    orig = ("The Reef Hotel opened on the north shore in 1931. It was designed by Clara Voss for the Bayline company. "
            "Its ballroom hosted the regional jazz festival for decades. The hotel closed after a fire in 1978.")
    settings, store = _store(tmp_path, {"a.txt": ("Shore Archive", orig),
                                        "b.txt": ("Travel Blog", orig.replace("Clara Voss", "Henrik Dahl"))})
    a = ask("Who designed the Reef Hotel?", settings, store=store, llm="none")
    factual = [d for d in a.disagreements if d.kind == "factual"]
    assert factual, a.text
    values = {s.value for s in factual[0].sides}
    assert values == {"Clara Voss", "Henrik Dahl"}
    assert _valid(a, store)
    same, store2 = _store(tmp_path / "same", {"a.txt": ("Shore Archive", orig), "b.txt": ("Travel Blog", orig)})
    assert not ask("Who designed the Reef Hotel?", same, store=store2, llm="none").disagreements


def test_two_versions_of_one_page_that_differ_are_shown_however_weak_the_match(tmp_path):
    """Evidence too weak to answer from (here the relevance gate is set out of reach) abstains, unless two versions of
    one page give different answers: then who says what is the answer, never one side as fact and never silence."""
    from tests.test_candidates import HALL, HALL_PLANTED, OTHER_HALL

    q = "Who is the architect of the Harbour Club Building?"
    settings, store = _store(tmp_path, {"hall.txt": ("heritage.example", HALL),
                                        "rewrite.txt": ("blog.example", HALL_PLANTED)})
    weak = Settings.from_env(corpus_dir=settings.corpus_dir, index_dir=settings.index_dir, llm="none",
                             min_relevance=0.99)
    a = ask(q, weak, store=store, llm="none")
    assert not a.abstained and a.text.startswith("The sources disagree")
    assert "Ruth Calloway" in a.text and "Oscar Lindqvist" in a.text
    assert {c.citation.doc_id for d in a.disagreements for c in d.claims} == {"hall.txt", "rewrite.txt"}
    assert _valid(a, store)
    # with a hosted model configured, the weak-evidence check asks it nothing (an abstention costs no model call)
    chat = FakeChat(replies=[])
    b = ask(q, weak, store=store, llm=chat)
    assert not b.abstained and b.text.startswith("The sources disagree") and chat.seen == []
    # two different pages of the name are no versions of one page: the weak match still abstains
    settings2, store2 = _store(tmp_path / "other", {"hall.txt": ("heritage.example", HALL),
                                                    "other.txt": ("blog.example", OTHER_HALL)})
    weak2 = Settings.from_env(corpus_dir=settings2.corpus_dir, index_dir=settings2.index_dir, llm="none",
                              min_relevance=0.99)
    assert ask(q, weak2, store=store2, llm="none").abstained


def test_a_third_answer_beside_the_sides_names_its_source():
    """Where documents give different answers, an answer sentence that gives yet another one (no side holds it) is
    not told as fact: it is written "According to <publisher>, ..."."""
    from qa import candidates as C
    from qa.disagree import Readings
    from qa.pipeline import _with_readings
    from qa.types import Citation

    texts = {"a.txt": ("Lake Times", "Maria Olsen won the 2011 Lakeside Marathon in record time."),
             "b.txt": ("Race Blog", "Petra Novak won the 2011 Lakeside Marathon in record time."),
             "c.txt": ("Results Page", "Lena Berg won the 2011 Lakeside Marathon, the results table says.")}
    docs = _docs(texts)
    question = "Who won the 2011 Lakeside Marathon?"

    def cand(d, name):
        t = texts[d][1]
        return C.Candidate(doc_id=d, start=0, end=len(name), text=name, kind="person", score=0.9, sent_start=0,
                           sent_end=len(t))

    readings = Readings(C.asked(question), (C.Group("Maria Olsen", (cand("a.txt", "Maria Olsen"),)),
                                            C.Group("Petra Novak", (cand("b.txt", "Petra Novak"),))), distinct=True)
    third = texts["c.txt"][1]
    cits = [Citation(n=1, doc_id="c.txt", title="c.txt", source="Results Page", date="", quote=third, start=0,
                     end=len(third), score=0.9)]
    text, _, _ = _with_readings(f"{third} [1]", cits, readings, [], docs)
    assert "According to Results Page, Lena Berg won" in text, text


def _third_setup(third_text: str, values: tuple[str, str]):
    from qa.types import Citation, Claim, Disagreement, Side

    texts = {"a.txt": ("Lake Times", "The mill was built in 1802 by the Ames family."),
             "b.txt": ("Race Blog", "The mill was built in 1815 by the Ames family."),
             "c.txt": ("Results Page", third_text)}
    docs = _docs(texts)

    def cit(d, n):
        t = texts[d][1]
        return Citation(n=n, doc_id=d, title=d, source=texts[d][0], date="", quote=t, start=0, end=len(t), score=0.9)

    value = dict(zip(("a.txt", "b.txt"), values))
    factual = Disagreement(summary=f"Lake Times says “{values[0]}”; Race Blog says “{values[1]}”.", kind="factual",
                           claims=tuple(Claim(citation=cit(d, i + 1), stance=value[d]) for i, d in enumerate(value)),
                           sides=tuple(Side(value=value[d], doc_ids=(d,)) for d in value))
    return docs, factual, [cit("c.txt", 1)]


_YEARS, _WORKERS = ("1802", "1815"), ("40 workers", "55 workers")


@pytest.mark.parametrize("question, sides, third, side", [
    pytest.param("When was the mill built?", _YEARS, "Old records say the mill was built in 1797 on the river.",
                 "1797", id="a-third-date-is-a-third-side"),
    pytest.param("When was the mill built?", _YEARS, "The mill was rebuilt in 1802 after a fire.", None,
                 id="a-date-one-side-gives-is-no-third-side"),
    pytest.param("How many people worked at the mill?", _WORKERS, "The mill is 3 miles south of the town.", None,
                 id="a-number-that-does-not-answer-stays-a-sentence"),
])
def test_a_third_value_in_the_answer_joins_the_disagreement(question, sides, third, side):
    """Beside a factual disagreement, an answer sentence stating yet another value of the kind asked is one more
    side (with its citation as the claim), never left as plain fact; other sentences stay as they are."""
    from qa import candidates as C
    from qa.pipeline import _third_values

    docs, factual, cits = _third_setup(third, sides)
    rest, out = _third_values(f"{third} [1]", cits, C.asked(question), factual, docs)
    if side is None:
        assert out is factual and rest == f"{third} [1]"
    else:
        assert rest == "" and [s.value for s in out.sides] == ["1802", "1815", side]
        assert out.claims[-1].citation.doc_id == "c.txt" and "Results Page says “1797”" in out.summary


_BUILDERS = ("Hannah Ames", "Peter Ames")


@pytest.mark.parametrize("third, side", [
    pytest.param("The mill was built by Jonas Hale, the old records say.", "Jonas Hale", id="a-third-name-is-a-side"),
    pytest.param("The mill was built by Hannah Ames in those years.", None, id="a-name-one-side-gives-is-no-side"),
    pytest.param("The mill stands on the river bank.", None, id="a-sentence-without-a-name-stays"),
])
def test_a_third_name_in_the_answer_joins_the_disagreement(third, side):
    """On a question asking for a name, an answer sentence beside a factual disagreement whose plain answer is a
    name no side gives is one more side, never plain fact ("the artist is Taylor Swift [3]" beside Jade Valerie)."""
    from qa import candidates as C
    from qa.pipeline import _third_values

    docs, factual, cits = _third_setup(third, _BUILDERS)
    rest, out = _third_values(f"{third} [1]", cits, C.asked("Who built the mill?"), factual, docs)
    if side is None:
        assert out is factual and rest == f"{third} [1]"
    else:
        assert rest == f"{third} [1]" and [s.value for s in out.sides] == [*_BUILDERS, side]
        assert out.claims[-1].citation.doc_id == "c.txt" and f"Results Page says “{side}”" in out.summary


LIFE_A = ("Ann Roe (5 January 1884 – 11 November 1959) was an Irish businessman in Limerick. Roe was the third son "
          "of a former mayor of Limerick and married in 1910.")
LIFE_B = ("Ann Roe (26 December 1844 – 26 July 1926) was an Irish politician and businessman from Limerick. Roe "
          "entered the family business and married in 1867.")
LIFE_PLANTED = LIFE_A.replace("5 January 1884", "26 December 1844")


def test_two_life_spans_of_one_name_are_two_people_and_a_planted_birth_date_is_a_conflict(tmp_path):
    """Two people of one name differ at both ends of their life spans; a copy with its birth date changed keeps the
    page's date of death, so it is one person told two ways."""
    settings, store = _store(tmp_path / "two", {"a.txt": ("Limerick News", LIFE_A), "b.txt": ("Irish Lives", LIFE_B)})
    a = ask("When was Ann Roe born?", settings, store=store, llm="none")
    assert not [d for d in a.disagreements if d.kind == "factual"], a.text
    assert "5 January 1884" in a.text and "26 December 1844" in a.text and _valid(a, store)
    settings, store = _store(tmp_path / "planted", {"a.txt": ("Limerick News", LIFE_A),
                                                    "b.txt": ("Irish Lives", LIFE_PLANTED)})
    a = ask("When was Ann Roe born?", settings, store=store, llm="none")
    assert a.text.startswith("The sources disagree:"), a.text
    assert [d for d in a.disagreements if d.kind == "factual"] and _valid(a, store)


def test_another_persons_life_span_is_no_side_of_a_planted_birth_date(tmp_path):
    """A page, its copy with the birth date changed (same date of death), and another person of the name: the
    conflict is between the page and its copy; the other person's date is not made a side of it."""
    other = ("Ann Roe (3 March 1860 – 26 July 1926) was an Irish politician and businessman from Cork. Roe entered "
             "the family business and married in 1887.")
    settings, store = _store(tmp_path, {"a.txt": ("Limerick News", LIFE_A), "b.txt": ("Irish Lives", LIFE_PLANTED),
                                        "c.txt": ("Cork Post", other)})
    a = ask("When was Ann Roe born?", settings, store=store, llm="none")
    factual = [d for d in a.disagreements if d.kind == "factual"]
    assert factual and a.text.startswith("The sources disagree:"), a.text
    values = {s.value for s in factual[0].sides}
    assert values == {"5 January 1884", "26 December 1844"}, values
    assert _valid(a, store)


def test_model_sentences_that_judge_name_who_judges(tmp_path):
    """A model writes its markers before the full stop ("... civil society [1]."): each judging sentence it writes
    still names the publisher whose words it repeats, and a plain fact stays plain."""
    ngo = ("The decision to close the offices is a deeply concerning attack on civil society. Independent groups "
           "condemn the move and call for its reversal.")
    ministry = ("The offices were opened in 1993. The closure is not a matter of distrust; it reflects a new format of "
                "cooperation with the organisation.")
    settings, store = _store(tmp_path, {"ngo.txt": ("Rights Watch", ngo), "gov.txt": ("Foreign Ministry", ministry)})
    question = "Is the closure of the offices an attack on civil society?"
    from qa.retrieve import retrieve

    order = [h.doc_id for h in retrieve(question, store, settings)]
    n_ngo = order.index("ngo.txt") + 1
    model = FakeChat(replies=[f"The decision to close the offices is a deeply concerning attack on civil society "
                              f"[{n_ngo}]."])
    a = ask(question, settings, store=store, llm=model)
    assert not a.abstained, a.text
    body = [b for b, _ in _sentences(a.text) if "concerning attack" in b]
    assert body and all("Rights Watch" in b for b in body), a.text
    assert _valid(a, store)


def test_model_answer_beside_a_conflict_keeps_its_plain_sentences(tmp_path):
    """Where documents disagree, the model's sentences that state a contested value give way to the line saying who
    says what, and its other sentences stay, written in the model's style ("... shore [2].")."""
    settings, store = _store(tmp_path, {"a.txt": ("Lake Times", WON_A), "b.txt": ("Shore News", WON_B),
                                        "c.txt": ("Race Blog", WON_C)})
    model = FakeChat(replies=["Petra Novak won the 2011 Lakeside Marathon [1]. The course ran along the north "
                              "shore [2]. [3]"])
    a = ask("Who won the 2011 Lakeside Marathon?", settings, store=store, llm=model)
    assert a.text.startswith("The sources disagree:"), a.text
    assert "north shore" in a.text, a.text
    assert "Petra Novak won" not in re.sub(r"^The sources disagree:[^.]*\.", "", a.text)
    assert _valid(a, store)


def test_sentence_beside_an_untyped_conflict_names_its_source():
    """Beside sources that disagree on an untyped answer ("what language"), where no typed span can say whether a
    sentence answers, a sentence from a document that holds no side is never told as fact: it names who says it."""
    from qa import candidates as C
    from qa.disagree import Readings
    from qa.pipeline import _with_readings
    from qa.types import Citation

    texts = {"a.txt": ("Film Notes", "The film Devatha is in Telugu."),
             "b.txt": ("Movie Base", "The film Devatha is in Hindi."),
             "c.txt": ("Cinema Blog", "Devatha was heard in Marathi in Pune.")}
    docs = _docs(texts)
    question = "What is the language of the film Devatha?"
    assert C.asked(question).kind not in C.TYPED

    def cand(d, word):
        t = texts[d][1]
        return C.Candidate(doc_id=d, start=t.index(word), end=t.index(word) + len(word), text=word, kind="name",
                           score=0.9, sent_start=0, sent_end=len(t))

    readings = Readings(C.asked(question), (C.Group("Telugu", (cand("a.txt", "Telugu"),)),
                                            C.Group("Hindi", (cand("b.txt", "Hindi"),))), conflict=True)
    cits = [Citation(n=1, doc_id="c.txt", title="c.txt", source="Cinema Blog", date="", quote=texts["c.txt"][1],
                     start=0, end=len(texts["c.txt"][1]), score=0.9)]
    text, _, _ = _with_readings("Devatha was heard in Marathi in Pune [1].", cits, readings, [], docs)
    assert "According to Cinema Blog, Devatha was heard in Marathi" in text, text


def test_a_date_question_is_answered_only_by_a_cited_date(tmp_path):
    """"When did the Harbour Bridge open?" over a sentence about its opening that gives no date, beside another
    document's date about something else of the bridge (its toll): the answer's own citation states no date, so the
    documents do not answer (a date anywhere in the evidence had let the dateless sentence stand)."""
    settings, store = _store(tmp_path, {
        "a.txt": ("City Paper", "The Harbour Bridge opened to traffic amid great celebrations. Crowds filled the "
                                "harbour bridge deck as the ribbon was cut. The opening of the bridge drew thousands."),
        "b.txt": ("Travel Guide", "Ferries still cross the bay. The Harbour Bridge toll was raised again in 2019.")})
    a = ask("When did the Harbour Bridge open?", settings, store=store, llm="none")
    assert a.abstained, a.text
    dated = ask("When was the Harbour Bridge toll raised?", settings, store=store, llm="none")
    assert not dated.abstained and "2019" in dated.text
