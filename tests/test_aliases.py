"""Abbreviations a corpus defines for itself (qa.aliases): table-driven pure functions, then the real corpus."""

from __future__ import annotations

import pytest

from qa.aliases import (Alias, best_long_form, definitions, expand_terms, expanded_query, names_in, question_aliases,
                        spelled_out, states)
from qa.retrieve import corpus_aliases, retrieve, term_coverage
from qa.text import content_terms


@pytest.mark.parametrize("short, before, long", [
    pytest.param("ICRC", "offices of the International Committee of the Red Cross",
                 "International Committee of the Red Cross", id="initials-with-small-words"),
    pytest.param("UNDP", "institutions including the UN Development Program", "UN Development Program",
                 id="abbreviation-inside-the-long-form"),
    pytest.param("OIC", "the United Nations and the Organisation of Islamic Cooperation",
                 "Organisation of Islamic Cooperation", id="first-letter-never-a-stopword"),
    pytest.param("NGOs", "its cooperation with non-governmental organizations", "non-governmental organizations",
                 id="plural-short-form"),
    pytest.param("WHO", "Relationships with the World Health Organisation", "World Health Organisation",
                 id="a-word-in-capitals"),
    pytest.param("KFOR", "the NATO-led operation in the Kosovo region of Serbia", None, id="letters-not-there"),
    pytest.param("TB", "the joint project on tuberculosis", None, id="one-word-is-no-long-form"),
    pytest.param("AB", "", None, id="nothing-before"),
])
def test_best_long_form(short, before, long):
    assert best_long_form(short, before) == long


def test_definitions_reads_each_in_order_and_stays_in_its_clause():
    text = ("Azerbaijan works with the International Organisation for Migration (IOM). It supports the World Health "
            "Organisation (WHO); rates (GDP) are high. Released (1999).")
    assert definitions(text) == [("IOM", "International Organisation for Migration"),
                                 ("WHO", "World Health Organisation")]


@pytest.mark.parametrize("question, abbrevs, runs", [
    pytest.param("Is the ICRC neutral?", ["ICRC"], ["Is the ICRC"], id="abbreviation"),
    pytest.param("What role has the Red Cross played?", [], ["Red Cross"], id="name-run"),
    pytest.param("how many people live there?", [], [], id="neither"),
    pytest.param("Did NGOs object?", ["NGOs"], ["Did NGOs"], id="plural"),
])
def test_names_in(question, abbrevs, runs):
    assert names_in(question) == (abbrevs, runs)


DEFINING = ["The closure hits the International Committee of the Red Cross (ICRC) and the United Nations (UN)."]


@pytest.mark.parametrize("question, expect", [
    pytest.param("Is the ICRC neutral?", [("ICRC", {"icrc"})], id="short-form-asked"),
    pytest.param("What role has the Red Cross played?", [("ICRC", {"red", "cross"})], id="long-form-part-asked"),
    pytest.param("When did Azerbaijan join the UN?", [("UN", {"un"})], id="two-letters"),
    pytest.param("When did Armenia join the United Nations?", [], id="whole-long-form-left-alone"),
    pytest.param("What role has the Blue Cross played?", [], id="other-name"),
    pytest.param("Is the IMF neutral?", [], id="not-defined-here"),
])
def test_question_aliases(question, expect):
    got = question_aliases(question, DEFINING)
    assert [(a.short, set(a.answers_for)) for a in got] == expect


ICRC_ASKED = Alias("ICRC", "International Committee of the Red Cross", frozenset({"icrc"}))
RED_CROSS_ASKED = Alias("ICRC", "International Committee of the Red Cross", frozenset({"red", "cross"}))


@pytest.mark.parametrize("alias, text, stated", [
    pytest.param(ICRC_ASKED, "The ICRC visits prisons.", True, id="short-form"),
    pytest.param(ICRC_ASKED, "The International Red Cross is also included.", True, id="most-of-the-long-form"),
    pytest.param(ICRC_ASKED, "The Red Cross is included.", False, id="too-little-of-the-long-form"),
    pytest.param(RED_CROSS_ASKED, "ICRC representatives visit prisons.", True, id="short-form-for-a-long-one"),
    pytest.param(ICRC_ASKED, "The committee met.", False, id="one-word"),
])
def test_states(alias, text, stated):
    assert states(alias, set(content_terms(text))) is stated


def test_expand_terms_and_coverage_count_the_other_form():
    text = "ICRC representatives visit prisons to improve the detention conditions."
    q = "What role has the Red Cross played in prisons?"
    plain = term_coverage(content_terms(q), text)
    aliased = term_coverage(content_terms(q), text, None, [RED_CROSS_ASKED])
    assert aliased > plain
    assert {"red", "cross"} <= expand_terms(set(content_terms(text)), [RED_CROSS_ASKED])
    assert expand_terms(set(content_terms("Nothing here.")), [RED_CROSS_ASKED]) == set(content_terms("Nothing here."))


def test_query_forms():
    assert expanded_query("What role has the Red Cross played?", [RED_CROSS_ASKED]).endswith(" ICRC")
    assert expanded_query("Is the ICRC neutral?", [ICRC_ASKED]) == "Is the ICRC neutral?"  # long words dilute BM25
    assert spelled_out("Is the ICRC neutral?", [ICRC_ASKED]) == \
        "Is the ICRC (International Committee of the Red Cross) neutral?"
    assert spelled_out("What role has the Red Cross played?", [RED_CROSS_ASKED]) == \
        "What role has the Red Cross played?"
    two = [Alias("OUCC", "Oxford University Chess Club", frozenset({"oucc"})),
           Alias("OUCC", "Oxford University Cycling Club", frozenset({"oucc"}))]
    assert spelled_out("What is the OUCC?", two) == \
        "What is the OUCC (Oxford University Cycling Club) (Oxford University Chess Club)?"  # both things


# ---- the real corpus -----------------------------------------------------------------------------------------------

def test_real_corpus_defines_what_a_question_abbreviates(real_store):
    got = {(a.short, a.long) for a in corpus_aliases("Is the ICRC neutral in the Armenia-Azerbaijan conflict?",
                                                     real_store)}
    assert ("ICRC", "International Committee of the Red Cross") in got
    assert corpus_aliases("How long is a piece of string?", real_store) == []


def test_real_corpus_long_form_sentence_reaches_an_abbreviated_question(real_store):
    """The interview names "the International Red Cross", never "ICRC": a question about the ICRC reaches it."""
    hits = retrieve("Is the ICRC neutral in the Armenia-Azerbaijan conflict?", real_store)
    assert any("International Red Cross" in h.text and "ICRC" not in h.text for h in hits)


def test_real_corpus_answer_naming_the_long_form_is_on_focus(real_store):
    """An answer quoting "the International Red Cross" is about what "the ICRC" names: no off-focus abstention."""
    from qa.pipeline import _off_focus
    from qa.types import Citation

    doc_id = next(d for d, doc in real_store.docs.items() if "International Red Cross is also included" in doc.text)
    doc = real_store.docs[doc_id]
    start = doc.text.index("Although, among the organizations")
    end = doc.text.index("concluded.", start) + len("concluded.")
    cite = Citation(n=1, doc_id=doc_id, title=doc.title, quote=doc.text[start:end], start=start, end=end)
    question = "Is the ICRC neutral in the Armenia-Azerbaijan conflict?"
    assert _off_focus(question, [cite], real_store.docs) == ["ICRC"]  # the words alone miss it
    assert _off_focus(question, [cite], real_store.docs, real_store) == []
    assert _off_focus("Is the IMF neutral in the Armenia-Azerbaijan conflict?", [cite], real_store.docs,
                      real_store) == ["IMF"]


@pytest.mark.parametrize("text, expected", [
    pytest.param("NAM initiated two resolutions.", "NAM (Non-Aligned Movement) initiated two resolutions.",
                 id="short-form-gets-its-long-form"),
    pytest.param("The Non-Aligned Movement met.", "The Non-Aligned Movement (NAM) met.", id="long-form-gets-its-short"),
    pytest.param("The Non-Aligned Movement (NAM) met.", "The Non-Aligned Movement (NAM) met.", id="both-already"),
    pytest.param("NAMIBIA voted.", "NAMIBIA voted.", id="whole-words-only"),
])
def test_with_both_forms(text, expected):
    from qa.aliases import Alias, with_both_forms

    alias = Alias(short="NAM", long="Non-Aligned Movement", answers_for=frozenset({"non", "align", "movement"}))
    assert with_both_forms(text, [alias]) == expected


@pytest.mark.parametrize("text, expected", [
    pytest.param("NAM initiated two resolutions.", "NAM (Non-Aligned Movement) initiated two resolutions.",
                 id="initials-of-a-hyphenated-name"),
    pytest.param("The Non-Aligned Movement and NAM met.", "The Non-Aligned Movement and NAM met.",
                 id="name-spelled-out-already"),
    pytest.param("NAMIBIA voted.", "NAMIBIA voted.", id="whole-words-only"),
])
def test_with_initials(text, expected):
    from qa.aliases import with_initials

    assert with_initials(text, ["Non-Aligned Movement"]) == expected


@pytest.mark.parametrize("text, names, expected", [
    pytest.param("Most members are in the Non-Aligned Movement. It holds 55%.", ["NAM"],
                 "Most members are in the Non-Aligned Movement (NAM). It holds 55%.", id="hyphenated-run-spells-it"),
    pytest.param("The Ministry of Foreign Affairs of the Republic said so.", ["MFA"],
                 "The Ministry of Foreign Affairs of the Republic (MFA) said so.", id="leading-the-and-longer-run"),
    pytest.param("The NAM met.", ["NAM"], "The NAM met.", id="acronym-written-already"),
    pytest.param("The National Museum met.", ["NAM"], "The National Museum met.", id="run-spells-another"),
    pytest.param("The Non-Aligned Movement met.", ["Non-Aligned Movement"], "The Non-Aligned Movement met.",
                 id="names-that-are-no-acronym"),
])
def test_with_acronyms(text, names, expected):
    from qa.aliases import with_acronyms

    assert with_acronyms(text, names) == expected
