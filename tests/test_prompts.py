"""qa.prompts: the reply parser (sentences and [n] markers) and the sentinel for "the sources do not say"
(pure, table-driven)."""

from __future__ import annotations

import pytest

from qa.prompts import SENTINEL, is_sentinel, parse_answer, parse_markers


@pytest.mark.parametrize("text, expected", [
    pytest.param("joined in 1992 [1].", (1,), id="single"),
    pytest.param("a [1, 3] b", (1, 3), id="comma-list"),
    pytest.param("a [2-4]", (2, 3, 4), id="range"),
    pytest.param("a [Passage 3].", (3,), id="word-passage"),
    pytest.param("a [1][1] and [1]", (1,), id="duplicates-once"),
    pytest.param("a [2] b [1]", (2, 1), id="order-kept"),
    pytest.param("a [12]", (12,), id="two-digits"),
    pytest.param("no markers, [x] or (1)", (), id="none"),
])
def test_parse_markers(text, expected):
    assert parse_markers(text) == expected


@pytest.mark.parametrize("raw, expected", [
    pytest.param("Azerbaijan joined on 2 March 1992 [1]. It regained independence in 1991 [2].",
                 [("Azerbaijan joined on 2 March 1992.", (1,)), ("It regained independence in 1991.", (2,))],
                 id="marker-before-stop"),
    pytest.param("A fact here. [3] Another fact [1].", [("A fact here.", (3,)), ("Another fact.", (1,))],
                 id="marker-after-stop"),
    pytest.param("Dr. Vasif Huseynov wrote it [2].", [("Dr. Vasif Huseynov wrote it.", (2,))], id="abbreviation"),
    pytest.param("The U.N. offices closed [1].", [("The U.N. offices closed.", (1,))], id="dotted-acronym"),
    pytest.param("- First point [1]\n- Second point [2]", [("First point", (1,)), ("Second point", (2,))],
                 id="bullets"),
    pytest.param("A fact here.\n[2]", [("A fact here.", (2,))], id="stray-marker-joins-previous"),
    pytest.param("Answer: It rose [1, 3].", [("It rose.", (1, 3))], id="answer-prefix"),
    pytest.param("Unmarked sentence.", [("Unmarked sentence.", ())], id="no-marker"),
    pytest.param("   ", [], id="empty"),
])
def test_parse_answer(raw, expected):
    assert [(s.text, s.markers) for s in parse_answer(raw)] == expected


@pytest.mark.parametrize("raw, stand_in, text", [
    pytest.param("Azerbaijan sponsored two resolutions: [3] and [4].", True, None, id="markers-after-a-colon"),
    pytest.param("Resolutions [1] and [2] were adopted.", True, None, id="markers-joined-inside"),
    pytest.param("The offices were closed [1] and [2].", False, "The offices were closed.", id="two-sources-at-end"),
    pytest.param("UNDP [1] and UNICEF [2] work there.", False, "UNDP and UNICEF work there.", id="names-each-cited"),
    pytest.param("It was founded in 1992 [1][2].", False, "It was founded in 1992.", id="adjacent-markers"),
])
def test_markers_standing_in_for_words(raw, stand_in, text):
    """A marker put where the answer's words belong leaves a sentence that says nothing once markers are removed
    ("... two resolutions: and."): it is flagged, and qa.generate drops it; "[1] and [2]" closing a sentence lists
    its sources."""
    (s,) = parse_answer(raw)
    assert s.stand_in is stand_in
    if text is not None:
        assert s.text == text


@pytest.mark.parametrize("text, expected", [
    pytest.param(SENTINEL, True, id="exact"),
    pytest.param("the sources do not say", True, id="lowercase-no-stop"),
    pytest.param("The sources don't say.", True, id="contraction"),
    pytest.param("The passages do not mention this.", True, id="variant"),
    pytest.param("The sources say it closed in 2024 [1].", False, id="a-claim"),
    pytest.param("Azerbaijan joined in 1992.", False, id="plain-answer"),
])
def test_is_sentinel(text, expected):
    assert is_sentinel(text) is expected


@pytest.mark.parametrize("question, written", [
    ("how long will it take to clear the landmines and what will it cost",
     "How long will it take to clear the landmines and what will it cost?"),
    ("who wrote the report", "Who wrote the report?"),
    ("is the office closed", "Is the office closed?"),
    ("When did Azerbaijan join the UN?", "When did Azerbaijan join the UN?"),
    ("tell me about the closure", "Tell me about the closure"),  # not phrased as a question: no mark added
    ("  what   happened.  ", "What happened."),
])
def test_the_model_reads_the_question_as_a_written_question(question, written):
    from qa.generate import Passage, as_written_question, build_messages

    assert as_written_question(question) == written
    user = build_messages(question, [Passage(1, "d", "Src", "Some text.", ((0, 10),), 1.0)])[1]["content"]
    assert user.endswith("Question: " + written)
