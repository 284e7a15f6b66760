"""Pure logic of qa.values and qa.disagree: value normalisation, comparison, pairing, judging and grouping."""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from qa.disagree import asks_judgement, cue_phrase, find_disagreements, locate, stance_opposed, tone
from qa.settings import Settings
from qa.types import Document, Hit, Span
from qa.values import compare, compare_sets, extract_values, words_to_number


def one(text: str):
    vals = extract_values(text)
    assert len(vals) == 1, vals
    return vals[0]


@pytest.mark.parametrize("a, b, verdict", [
    pytest.param("admitted on 2 March 1992", "admitted on March 2, 1992", "agree", id="dmy-vs-mdy"),
    pytest.param("on 2 March 1992", "on 1992-03-02", "agree", id="dmy-vs-iso"),
    pytest.param("05 March 2025", "March 5, 2025", "agree", id="zero-padded-day"),
    pytest.param("the 31st of May 2021", "31 May 2021", "agree", id="ordinal-day"),
    pytest.param("on 2 March 1992", "in 1992", "agree", id="date-within-year"),
    pytest.param("in March 1992", "on 2 March 1992", "agree", id="date-within-month"),
    pytest.param("on 2 March 1992", "on 5 March 1992", "conflict", id="different-day"),
    pytest.param("in 1971", "in 1972", "conflict", id="different-year"),
    pytest.param("during 1992-1995", "in 1993", "agree", id="year-in-range"),
    pytest.param("during 1992-1995", "in 1999", "conflict", id="year-outside-range"),
    pytest.param("a million refugees", "one million Azerbaijani refugees", "agree", id="a-million-vs-one-million"),
    pytest.param("1 million refugees", "one million refugees", "agree", id="digits-vs-words"),
    pytest.param("$1 million", "1 million US Dollars", "agree", id="currency-forms"),
    pytest.param("$754,570", "$754570", "agree", id="thousands-separator"),
    pytest.param("5%", "55%", "conflict", id="5-vs-55-percent"),
    pytest.param("20 percent", "20%", "agree", id="percent-word"),
    pytest.param("nearly 20 percent", "19%", "agree", id="approximate"),
    pytest.param("less than $5 million", "$4.2 million", "agree", id="upper-bound-holds"),
    pytest.param("less than $5 million", "$10 million", "conflict", id="upper-bound-broken"),
    pytest.param("more than 360 prisoners", "400 prisoners", "agree", id="lower-bound-holds"),
    pytest.param("5–10 times greater", "7 times greater", "agree", id="range-contains"),
    pytest.param("5–10 times greater", "20 times greater", "conflict", id="range-excludes"),
    pytest.param("chaired the Council twice", "chaired it 2 times", "agree", id="twice-is-two-times"),
    pytest.param("chaired the Council twice", "chaired it three times", "conflict", id="twice-vs-three-times"),
    pytest.param("once a prison", "in 1992", "unrelated", id="once-is-no-count"),
    pytest.param("38 games", "173 games", "conflict", id="counts-of-same-thing"),
    pytest.param("38 games", "38", "agree", id="bare-count"),
    pytest.param("38 games", "173 countries", "unrelated", id="counts-of-different-things"),
    pytest.param("in 1992", "55%", "unrelated", id="year-vs-percent"),
    pytest.param("$10 million", "10 million people", "unrelated", id="money-vs-count"),
    pytest.param("$10 million", "€10 million", "unrelated", id="different-currencies"),
])
def test_compare_values(a, b, verdict):
    assert compare_sets(extract_values(a), extract_values(b)) == verdict


@pytest.mark.parametrize("text, kind, lo", [
    pytest.param("It holds 55% of the global population.", "percent", 55.0, id="percent"),
    pytest.param("UNDP allocated $754,570 to NGOs", "money:usd", 754570.0, id="money"),
    pytest.param("Azerbaijan has provided $ 10 million to WHO", "money:usd", 1e7, id="money-space-scale"),
    pytest.param("about 25 billion dollars", "money:usd", 25e9 * 0.85, id="approx-money"),
    pytest.param("thirty years of occupation", "count", 30.0, id="number-word"),
])
def test_extract_kinds(text, kind, lo):
    v = one(text)
    assert v.kind == kind and v.lo == pytest.approx(lo)


@pytest.mark.parametrize("text", [
    pytest.param("one of the key organisations", id="one-of"),
    pytest.param("the 49th session of the General Assembly", id="ordinal"),
    pytest.param("to fight the COVID-19 pandemic", id="name-with-number"),
    pytest.param("05 March 2025 11:41", id="clock-time-is-not-a-count"),
])
def test_not_values(text):
    assert [v.kind for v in extract_values(text)] in ([], ["time"])


@pytest.mark.parametrize("words, value", [
    pytest.param("one million", 1e6, id="one-million"), pytest.param("a million", 1e6, id="a-million"),
    pytest.param("twenty-five", 25, id="hyphenated"), pytest.param("three hundred", 300, id="hundreds"),
    pytest.param("two-thirds", 2 / 3, id="fraction"), pytest.param("blue", None, id="not-a-number"),
])
def test_words_to_number(words, value):
    assert words_to_number(words) == (pytest.approx(value) if value is not None else None)


def test_compare_is_symmetric():
    for a, b in [("5%", "55%"), ("in 1992", "on 2 March 1992"), ("less than $5 million", "$4 million")]:
        va, vb = one(a), one(b)
        assert compare(va, vb) == compare(vb, va)


@pytest.mark.parametrize("phrase, text, found", [
    pytest.param("a politically motivated attack", "this appears to be a politically motivated attack.", True,
                 id="exact"),
    pytest.param("A Politically  motivated attack", "this appears to be a politically motivated attack.", True,
                 id="case-and-spaces"),
    pytest.param("a brutal crackdown on dissent", "this appears to be a politically motivated attack.", False,
                 id="invented"),
    pytest.param("", "anything", False, id="empty"),
])
def test_locate(phrase, text, found):
    span = locate(phrase, text)
    assert bool(span) == found
    if span:
        assert text[span[0]:span[1]].lower().split() == phrase.lower().split()


@pytest.mark.parametrize("a, b, opposed", [
    pytest.param("The ICRC is one of the key organisations we cooperate with.",
                 "The Red Cross engaged in harmful, biased activities in our country.", 1.0, id="praise-vs-condemn"),
    pytest.param("I don't think it is a political message.", "It is a political message.", 0.5, id="negation"),
    pytest.param("UNICEF works on child care.", "UNICEF supports education.", 0.0, id="neutral"),
])
def test_stance_opposed(a, b, opposed):
    assert stance_opposed(a, b) == opposed


# --- find_disagreements on a tiny two-document store ----------------------------------------------------------

class _Store:
    def __init__(self, texts: dict[str, tuple[str, str]]):
        self.docs = {d: Document(doc_id=d, path=d, title=d, source=src, date="", text=t, sha256="x",
                                 content=(Span(start=0, end=len(t)),)) for d, (src, t) in texts.items()}


def _hits(store: _Store) -> list[Hit]:
    out = []
    for d, doc in store.docs.items():
        start = 0
        for sent in doc.text.split(". "):
            end = start + len(sent) + (1 if start + len(sent) < len(doc.text) else 0)
            out.append(Hit(doc_id=d, start=start, end=end, text=doc.text[start:end], chunk_id=0, score=0.8))
            start = end + 1
    return out


def _fake(*replies):
    return FakeListChatModel(responses=list(replies))


ADMIT_A = "Azerbaijan was admitted to the United Nations on 2 March 1992."
ADMIT_B = "Azerbaijan was admitted to the United Nations on March 2, 1992."
ADMIT_C = "Azerbaijan was admitted to the United Nations on 9 May 1993."


@pytest.mark.parametrize("b_text, expected", [
    pytest.param(ADMIT_B, 0, id="same-date-other-format"),
    pytest.param(ADMIT_C, 1, id="different-date"),
    pytest.param("The UN offices in Baku employ 5% of the staff they had in 1993.", 0, id="different-subject"),
])
def test_factual_without_model(b_text, expected):
    store = _Store({"a.txt": ("Site A", ADMIT_A), "b.txt": ("Site B", b_text)})
    found, timings = find_disagreements("When was Azerbaijan admitted to the United Nations?", _hits(store), store)
    assert len(found) == expected and "disagree" in timings
    for d in found:
        assert d.kind == "factual" and len({c.citation.doc_id for c in d.claims}) >= 2
        assert "Site A" in d.summary and "Site B" in d.summary
        for c in d.claims:
            assert store.docs[c.citation.doc_id].text[c.citation.start:c.citation.end] == c.citation.quote


def test_only_one_source_speaks():
    store = _Store({"a.txt": ("Site A", ADMIT_A + " It was admitted on 9 May 1993.")})
    found, _ = find_disagreements("When was Azerbaijan admitted?", _hits(store), store)
    assert found == []


OPINION_A = "Therefore, I don't think it should be perceived as a political message, it is an optimization of relations."
OPINION_B = "This decision appears to be a politically motivated attack on civil society."
JUDGE_YES = ("VERDICT: CONTRADICT\nA: I don't think it should be perceived as a political message\n"
             "B: a politically motivated attack on civil society")
Q_POL = "Is closing the UN offices a political message?"


def _opinion_store():
    return _Store({"cal.txt": ("Caliber.az", OPINION_A), "ihr.txt": ("IHR", OPINION_B)})


WHY_A = "The offices close because Azerbaijan has become a donor of aid to other countries."
WHY_B = "The offices close because the UNDP worked with local NGOs in Azerbaijan."
WHY_YES = "VERDICT: CONTRADICT\nA: Azerbaijan has become a donor of aid\nB: the UNDP worked with local NGOs"
Q_WHY = "Why are the UN offices in Azerbaijan closing?"


@pytest.mark.parametrize("texts, question, replies, expected, calls", [
    pytest.param((OPINION_A, OPINION_B), Q_POL, [JUDGE_YES], 1, 1, id="contradict-plus-opposed-stance-markers"),
    pytest.param((WHY_A, WHY_B), Q_WHY, [WHY_YES, "NO"], 1, 2, id="contradict-confirmed-by-second-call"),
    pytest.param((WHY_A, WHY_B), Q_WHY, [WHY_YES, "YES, both can be true"], 0, 2, id="second-call-disagrees"),
    pytest.param((OPINION_A, OPINION_B), Q_POL, ["VERDICT: COMPATIBLE\nA: -\nB: -"], 0, 1, id="compatible"),
    pytest.param((OPINION_A, OPINION_B), Q_POL,
                 ["VERDICT: CONTRADICT\nA: a brutal crackdown\nB: an invented phrase here", "NO"], 0, 1,
                 id="phrases-not-in-quotes"),
    pytest.param((WHY_A, WHY_B), Q_WHY, ["VERDICT: CONTRADICT\nA: The offices close because\n"
                                         "B: The offices close because", "NO"], 0, 1, id="same-words-both-sides"),
    pytest.param((OPINION_A, OPINION_B), Q_POL, ["I think they might disagree, hard to say."], 0, 1, id="garbage"),
])
def test_opinion_judge(texts, question, replies, expected, calls):
    store = _Store({"cal.txt": ("Caliber.az", texts[0]), "ihr.txt": ("IHR", texts[1])})
    found, timings = find_disagreements(question, _hits(store), store, chat_model=_fake(*replies),
                                        settings=Settings(disagreement_judge_calls=2))
    assert len(found) == expected
    assert timings["disagree_judge_calls"] == calls
    if found:
        d = found[0]
        assert d.kind == "opinion"
        assert {c.citation.source for c in d.claims} == {"Caliber.az", "IHR"}
        assert "Caliber.az" in d.summary and "IHR" in d.summary
        for c in d.claims:
            assert c.stance and c.stance in c.citation.quote  # stances are the sources' own words


def test_judge_budget_is_respected():
    store = _Store({f"d{i}.txt": (f"S{i}", t) for i, t in enumerate([OPINION_A, OPINION_B, OPINION_B + " Again."])})
    model = _fake(*(["VERDICT: COMPATIBLE"] * 10))
    _, timings = find_disagreements(Q_POL, _hits(store), store, chat_model=model,
                                    settings=Settings(disagreement_judge_calls=3))
    assert timings["disagree_judge_calls"] <= 3


class _Boom:
    def invoke(self, messages):
        raise TimeoutError("model timed out")


def test_model_failure_is_skipped_not_raised():
    store = _opinion_store()
    found, timings = find_disagreements(Q_POL, _hits(store), store, chat_model=_Boom())
    assert found == [] and timings["disagree_judge_calls"] >= 1


def test_pairs_sharing_a_sentence_are_grouped():
    store = _Store({"a.txt": ("A", OPINION_A), "b.txt": ("B", OPINION_B), "c.txt": ("C", OPINION_B + " Indeed.")})
    model = _fake(JUDGE_YES, JUDGE_YES, JUDGE_YES)
    found, _ = find_disagreements(Q_POL, _hits(store), store, chat_model=model,
                                  settings=Settings(disagreement_judge_calls=4))
    assert len(found) == 1 and len({c.citation.doc_id for c in found[0].claims}) == 3


# --- opinion conflicts read from wording, without a model ------------------------------------------------------

@pytest.mark.parametrize("question, judgement", [
    ("Is closing the UN offices a political message?", True),
    ("Does Azerbaijan respect human rights?", True),
    ("Didn't the government promise reforms?", True),
    ("Why are the offices being closed?", True),
    ("What role has the Red Cross played?", True),
    ("What are the consequences of the closure?", True),
    ("How should the decision be understood?", True),
    ("To what extent is the ICRC neutral?", True),
    ("When did Azerbaijan join the UN?", False),
    ("How many refugees did Azerbaijan have?", False),
    ("How much did Azerbaijan give to the WHO?", False),
    ("Which offices are being closed?", False),
    ("Who wrote the op-ed?", False),
    ("What year did the Baku Process begin?", False),
    ("Where is the UNHCR office?", False),
    ("What did the ICRC say publicly about why it is leaving?", False),  # one speaker's words are asked for
    ("Is the Security Council outdated, according to Azerbaijan?", False),
    ("How did the ministry explain the closure?", False),
])
def test_asks_judgement(question, judgement):
    assert asks_judgement(question) is judgement


@pytest.mark.parametrize("text, critical, favourable, denial", [
    ("We strongly condemn this harmful decision.", 2, 0, 0),
    ("This is a politically motivated attack on civil society.", 2, 0, 0),
    ("Azerbaijan has no issues with the UN.", 0, 0, 1),
    ("I don't think it is a political message, rather an optimization of relations.", 0, 1, 1),
    ("The ICRC is a key partner and its work is vital.", 0, 3, 0),
    ("UNHCR has worked in Azerbaijan since 1992.", 0, 0, 0),
    ("The threat of landmines remains and the harvest failed.", 0, 0, 0),  # trouble is no verdict on anyone
])
def test_tone(text, critical, favourable, denial):
    t = tone(text)
    assert (t.critical, t.favourable, t.denial) == (critical, favourable, denial)
    assert (t.cue is None) == (critical + favourable + denial == 0)


@pytest.mark.parametrize("text", [
    OPINION_A, OPINION_B,
    "The closure of these offices represents a deliberate effort to silence independent actors and curtail "
    "international scrutiny, further endangering the already fragile civil society landscape in Azerbaijan.",
    "Short text.",
])
def test_cue_phrase_is_the_sources_own_words(text):
    phrase = cue_phrase(text, tone(text).cue)
    assert phrase and phrase in text and len(phrase.split()) <= 16


def test_cue_phrase_does_not_cut_a_number_range():
    text = "Moreover, the country now gives aid itself, and its aid is 5–10 times greater than the support it gets."
    assert cue_phrase(text, tone(text).cue) == "its aid is 5–10 times greater than the support it gets"


def test_cue_phrase_keeps_the_cue():
    text = "Overall, Shafiyev said, Azerbaijan has no issues with the UN, although isolated incidents do occur."
    assert cue_phrase(text, tone(text).cue) == "Azerbaijan has no issues with the UN"


DEFEND = "The government says the ICRC remains a key partner and that its work on missing persons is vital."
ACCUSE = "The ICRC engaged in biased, hostile activities and its work on missing persons was a pretext."


@pytest.mark.parametrize("texts, question, expected", [
    pytest.param((OPINION_A, OPINION_B), Q_POL, 1, id="denial-vs-condemnation"),
    pytest.param((DEFEND, ACCUSE), "What role has the ICRC played on missing persons?", 1, id="praise-vs-accusation"),
    pytest.param((OPINION_A, OPINION_B), "When was the decision to close the offices taken?", 0,
                 id="not-a-judgement-question"),
    pytest.param((OPINION_B, OPINION_B.replace("attack", "assault, an abuse,")), Q_POL, 0, id="both-critical"),
    pytest.param((DEFEND, DEFEND.replace("vital", "valuable")), "What role has the ICRC played on missing persons?", 0,
                 id="both-favourable"),
    pytest.param((OPINION_A, "UNICEF runs schools for children."), Q_POL, 0, id="unrelated"),
])
def test_stance_conflicts_without_model(texts, question, expected):
    store = _Store({"a.txt": ("Site A", texts[0]), "b.txt": ("Site B", texts[1])})
    found, timings = find_disagreements(question, _hits(store), store)
    assert len(found) == expected, [d.summary for d in found]
    assert timings.get("disagree_judge_calls", 0) == 0
    for d in found:
        assert d.kind == "opinion" and {c.citation.source for c in d.claims} == {"Site A", "Site B"}
        assert "Site A" in d.summary and "Site B" in d.summary
        for c in d.claims:
            assert c.stance and c.stance in c.citation.quote
            assert store.docs[c.citation.doc_id].text[c.citation.start:c.citation.end] == c.citation.quote


def test_stance_conflicts_can_be_turned_off():
    store = _opinion_store()
    found, _ = find_disagreements(Q_POL, _hits(store), store, settings=Settings(stance_conflicts=False))
    assert found == []


def test_one_publisher_does_not_disagree_with_itself():
    store = _Store({"a.txt": ("Same Site", OPINION_A), "b.txt": ("Same Site", OPINION_B)})
    found, _ = find_disagreements(Q_POL, _hits(store), store)
    assert found == []


def test_judge_must_confirm_a_clash_of_wording():
    store = _opinion_store()
    model = _fake("VERDICT: COMPATIBLE\nA: -\nB: -", "VERDICT: COMPATIBLE\nA: -\nB: -")
    found, timings = find_disagreements(Q_POL, _hits(store), store, chat_model=model,
                                        settings=Settings(disagreement_judge_calls=2))
    assert found == [] and timings["disagree_judge_calls"] >= 1


@pytest.mark.parametrize("text, stretch, whole", [
    ("The bridge opened on January 1, 1900 in the rain.", "1900", "January 1, 1900"),
    ("The town had 50,000 people in 2001.", "50", "50,000"),
    ("The town had a new mayor in 2001.", "new", "new"),  # no value: the stretch as it is
])
def test_a_changed_stretch_is_widened_to_the_whole_value(text, stretch, whole):
    from qa.disagree import _whole_values

    s = text.index(stretch)
    a, b = _whole_values(text, s, s + len(stretch))
    assert text[a:b] == whole


@pytest.mark.parametrize("text, stretch, whole", [
    ("The dub premiered on the Toonami channel in Southeast Asia and India in January 2017.", "Southeast",
     "Southeast Asia"),  # a copy reading "Western Asia" differs in one word, but states a whole place
    ("Tesla CEO Elon Musk said the company would grow.", "Elon Musk", "Elon Musk"),  # the whole name already
    ("The town had a new mayor in 2001.", "new", "new"),  # no name: the stretch as it is
])
def test_a_changed_stretch_is_widened_to_the_whole_name(text, stretch, whole):
    from qa.disagree import _whole_names

    s = text.index(stretch)
    a, b = _whole_names(text, s, s + len(stretch))
    assert text[a:b] == whole


@pytest.mark.parametrize("question, texts, expected", [
    pytest.param("Did the ICRC confirm the closure?",
                 ["We demand the immediate reversal of this harmful decision.", "The ICRC confirmed the closure."],
                 [False, True], id="relation-word-stated-or-not"),
    pytest.param("Is the ICRC neutral?", ["The ICRC acts as a neutral mediator.", "The ICRC is pro-Armenian."],
                 [True, False], id="judgement-word"),
    pytest.param("Is the ICRC in Baku?", ["Anything at all."], [True], id="a-question-of-names-only-rules-nothing-out"),
])
def test_speaks_to(question, texts, expected):
    from qa.disagree import speaks_to

    assert speaks_to(question, texts) == expected
