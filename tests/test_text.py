"""qa.text: the one home of tokens, stems, stopwords, months, number words and abbreviations (pure, table-driven)."""

import re

import pytest

from qa import text as T
from qa.chunk import split_sentences
from qa.prompts import parse_answer


@pytest.mark.parametrize("raw, expected", [
    pytest.param("The Council's Secretary-General", ["the", "council", "secretary", "general"], id="possessive-dropped"),
    pytest.param("It’s Smith’s “book”", ["it", "smith", "book"], id="curly-quotes"),
    pytest.param("Ｆｕｌｌ width", ["full", "width"], id="nfkc"),
    pytest.param("in 1992, 3.5%", ["in", "1992", "3", "5"], id="numbers"),
])
def test_tokens(raw, expected):
    assert T.tokens(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    pytest.param("What did the organisations say about closing offices?", ["organis", "clos", "offic"], id="question"),
    pytest.param("a 5 b", ["5"], id="single-letters-out-digits-kept"),
    # an acronym in capitals is a term though its lower case is a stopword; not in a run of capitals
    pytest.param("How long has WHO operated?", ["long", "who", "operat"], id="acronym-kept"),
    pytest.param("Who operated the WHO's office?", ["operat", "who", "offic"], id="acronym-possessive"),
    pytest.param("WHO WE ARE", [], id="capitals-run-stopwords-out"),
    pytest.param("The Council’s SECRETARY", ["council", "secretary"], id="curly-possessive"),
])
def test_content_terms(raw, expected):
    assert T.content_terms(raw) == expected


@pytest.mark.parametrize("fn, word, expected", [
    pytest.param(T.stem, "organisations", "organis", id="stem-derivational"),
    pytest.param(T.stem, "studies", "study", id="stem-ies"),
    pytest.param(T.stem, "uses", "use", id="stem-keeps-3"),
    pytest.param(T.stem, "bus", "bus", id="stem-short"),
    # a word and its -es/-ed/-ing forms share a stem whether or not it ends in a silent e
    pytest.param(T.stem, "office", "offic", id="stem-final-e"),
    pytest.param(T.stem, "closed", "clos", id="stem-ed-of-e-word"),
    pytest.param(T.stem, "close", "clos", id="stem-e-word"),
    pytest.param(T.stem, "states", "stat", id="stem-es-of-e-word"),
    # a word ending in -ss is no plural: it keeps the stem its -es/-ed/-ing forms have
    pytest.param(T.stem, "reassess", "reassess", id="stem-ss-word"),
    pytest.param(T.stem, "reassessing", "reassess", id="stem-ing-of-ss-word"),
    pytest.param(T.stem, "processes", "process", id="stem-es-of-ss-word"),
    pytest.param(T.stem, "state", "stat", id="stem-e-word-2"),
    pytest.param(T.stem, "use", "use", id="stem-e-keeps-3"),
    # one spelling for -ise/-ize, and the singular like the plural
    pytest.param(T.stem, "organizations", "organis", id="stem-ize"),
    pytest.param(T.stem, "organisation", "organis", id="stem-singular-like-plural"),
    pytest.param(T.stem, "organized", "organis", id="stem-ized"),
    pytest.param(T.stem, "analyze", "analys", id="stem-yze"),
    pytest.param(T.stem, "size", "siz", id="stem-short-z-kept"),
    pytest.param(T.stem, "citizen", "citizen", id="stem-z-not-a-suffix"),
    pytest.param(T.snowball_stem, "directed", "direct", id="snowball-ed"),
    pytest.param(T.snowball_stem, "studies", "studi", id="snowball-ies"),
    pytest.param(T.snowball_stem, "governments", "govern", id="snowball-derivational"),
    pytest.param(T.word_stem, "Minister’s", "minist", id="word-possessive"),
    pytest.param(T.word_stem, "Offices", "offic", id="word-lower"),
    pytest.param(T.match_stem, "born", "bear", id="match-irregular"),
    pytest.param(T.match_stem, "birth", "bear", id="match-irregular-noun"),
    pytest.param(T.match_stem, "directing", "direct", id="match-regular"),
    pytest.param(T.singular, "prisoners", "prisoner", id="singular"),
    pytest.param(T.singular, "press", "press", id="singular-ss"),
    pytest.param(T.singular, "bus", "bus", id="singular-short"),
])
def test_stems(fn, word, expected):
    assert fn(word) == expected


def test_claim_stems_drop_claim_stopwords_and_short_words():
    assert T.claim_stems("The government said two new taxes were unconstitutional") == {
        "govern", "tax", "unconstitut"}


@pytest.mark.parametrize("name, word, inside", [
    pytest.param("STOPWORDS", "many", True, id="relevance-many"),
    pytest.param("QUESTION_STOPWORDS", "many", False, id="question-keeps-many"),
    pytest.param("SUPPORT_STOPWORDS", "passage", True, id="support-source-words"),
    pytest.param("STOPWORDS", "passage", False, id="relevance-keeps-passage"),
    pytest.param("CLAIM_STOPWORDS", "two", True, id="claim-two"),
    pytest.param("UNIT_STOPWORDS", "people", False, id="unit-keeps-nouns"),
    pytest.param("UNIT_STOPWORDS", "in", True, id="unit-in"),
])
def test_stopword_lists(name, word, inside):
    assert (word in getattr(T, name)) is inside


def test_unit_stopwords_are_function_words():
    assert T.UNIT_STOPWORDS - {"s"} <= T.STOPWORDS | T.QUESTION_STOPWORDS


@pytest.mark.parametrize("name, number", [
    pytest.param("March", 3, id="full"), pytest.param("Sept.", 9, id="sept"), pytest.param("sep", 9, id="sep"),
    pytest.param("dec", 12, id="abbrev"), pytest.param("May", 5, id="may"),
])
def test_month_number(name, number):
    assert T.month_number(name) == number
    assert re.fullmatch(T.MONTH_PATTERN, name, re.I)


def test_months_table():
    assert len(T.MONTH_NAMES) == 12 and T.MONTHS["january"] == 1 and T.MONTHS["dec"] == 12


@pytest.mark.parametrize("word, value", [
    pytest.param("zero", 0, id="zero"), pytest.param("nineteen", 19, id="nineteen"),
])
def test_small_numbers(word, value):
    assert T.SMALL_NUMBERS[word] == value


@pytest.mark.parametrize("word, digits", [
    pytest.param("two", "2", id="two"), pytest.param("twenty", "20", id="twenty"),
    pytest.param("one", None, id="one-is-a-pronoun"), pytest.param("zero", None, id="zero"),
])
def test_count_words(word, digits):
    assert T.COUNT_WORDS.get(word) == digits


def test_tens():
    assert T.TENS["twenty"] == 20 and T.TENS["ninety"] == 90


def test_reply_abbreviations_are_abbreviations():
    assert {a.lower() for a in T.REPLY_ABBREVIATIONS} <= T.ABBREVIATIONS


@pytest.mark.parametrize("prose, sentences", [
    pytest.param("Dr. Smith came. He left.", ["Dr. Smith came.", "He left."], id="title"),
    pytest.param("See the U.N. report. Next one.", ["See the U.N. report.", "Next one."], id="initialism"),
    pytest.param("It ends in Jan. It starts again.", ["It ends in Jan. It starts again."], id="month-abbrev"),
    pytest.param("J. Smith wrote it. Done.", ["J. Smith wrote it.", "Done."], id="initial"),
])
def test_source_sentences_use_abbreviations(prose, sentences):
    assert [prose[s.start:s.end] for s in split_sentences(prose)] == sentences


@pytest.mark.parametrize("reply, n", [
    pytest.param("Dr. Smith said so [1]. He left [2].", 2, id="title"),
    pytest.param("The answer is no. It was never built [1].", 2, id="no-ends-a-reply-sentence"),
])
def test_reply_sentences_use_reply_abbreviations(reply, n):
    assert len(parse_answer(reply)) == n


@pytest.mark.parametrize("text, heading", [
    pytest.param("Relations between Azerbaijan and the United Nations (UN)", True, id="title-line"),
    pytest.param("Azerbaijan joined the UN in 1992.", False, id="sentence"),
    pytest.param("Why?", False, id="question"),
    pytest.param('He said "no"', False, id="closing-quote"),
    pytest.param("The ICRC acts as a neutral mediator in the exchange of prisoners, hostages and detainees in the "
                 "region", False, id="long-line-without-a-stop"),
    pytest.param("", False, id="empty"),
])
def test_is_heading(text, heading):
    assert T.is_heading(text) is heading
