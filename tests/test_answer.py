"""qa.answer.attribute: who says a disputed or judging sentence, in the sentence's own words (pure)."""

from __future__ import annotations

import pytest

from qa.answer import answer_sentences, attribute
from qa.types import Citation


def _cit(n: int, doc_id: str, source: str, quote: str) -> Citation:
    return Citation(n=n, doc_id=doc_id, title=doc_id, source=source, date="", quote=quote, start=0, end=len(quote))


@pytest.mark.parametrize("sentence, expected", [
    pytest.param("The closure is deeply concerning. [1]", "According to Rights Watch, the closure is deeply concerning. [1]",
                 id="article-lowercased"),
    pytest.param("Although the offices close, work goes on. [1]",
                 "According to Rights Watch, although the offices close, work goes on. [1]", id="conjunction-lowercased"),
    pytest.param("Moreover, the offices close. [1]", "According to Rights Watch, moreover, the offices close. [1]",
                 id="connective-with-its-comma-lowercased"),
    pytest.param("Shafiyev, however, disagreed. [1]", "According to Rights Watch, Shafiyev, however, disagreed. [1]",
                 id="name-with-a-comma-keeps-its-capital"),
    pytest.param("Azerbaijan has no issues with the UN. [1]",
                 "According to Rights Watch, Azerbaijan has no issues with the UN. [1]", id="name-keeps-its-capital"),
    pytest.param("ICRC staff left in March. [1]", "According to Rights Watch, ICRC staff left in March. [1]",
                 id="acronym-keeps-its-capitals"),
    pytest.param("US officials left in March. [1]", "According to Rights Watch, US officials left in March. [1]",
                 id="acronym-that-is-also-a-stopword"),
    pytest.param("May 2025 saw the offices close. [1]", "According to Rights Watch, May 2025 saw the offices close. [1]",
                 id="month-that-is-also-a-stopword"),
    pytest.param("According to the 2016 census, the town had 11,012 people. [1]",
                 "Rights Watch reports that, according to the 2016 census, the town had 11,012 people. [1]",
                 id="a-source-the-sentence-names-is-not-the-publisher"),
])
def test_disputed_sentence_names_its_publisher(sentence, expected):
    cit = _cit(1, "a.txt", "Rights Watch", sentence.split(" [")[0])
    assert attribute(sentence, [cit], disputed={"a.txt"}, judges=lambda s: False) == expected


def test_undisputed_plain_sentence_is_left_alone():
    sentence = "The offices opened in 1993. [1]"
    cit = _cit(1, "a.txt", "Rights Watch", "The offices opened in 1993.")
    assert attribute(sentence, [cit], disputed=set(), judges=lambda s: False) == sentence


def test_sentence_that_names_its_publisher_is_left_alone():
    sentence = "Rights Watch says the closure is deeply concerning. [1]"
    cit = _cit(1, "a.txt", "Rights Watch", "Rights Watch says the closure is deeply concerning.")
    assert attribute(sentence, [cit], disputed={"a.txt"}, judges=lambda s: True) == sentence


@pytest.mark.parametrize("sentence, common_words, expected", [
    pytest.param("Along with this, work goes on. [1]", {"along"},
                 "According to Rights Watch, along with this, work goes on. [1]", id="ordinary-word-by-its-documents"),
    pytest.param("Along with this, work goes on. [1]", set(),
                 "According to Rights Watch, Along with this, work goes on. [1]", id="unknown-word-keeps-its-capital"),
    pytest.param("Bill Gates left. [1]", set(), "According to Rights Watch, Bill Gates left. [1]", id="name"),
])
def test_first_word_read_by_its_documents(sentence, common_words, expected):
    cit = _cit(1, "a.txt", "Rights Watch", sentence.split(" [")[0])
    got = attribute(sentence, [cit], disputed={"a.txt"}, judges=lambda s: False,
                    common=lambda word, sentence: word in common_words)
    assert got == expected


@pytest.mark.parametrize("sentence, expected", [
    pytest.param("Along with the issue of common standards, Azerbaijan calls for attention.", "ADP", id="preposition"),
    pytest.param("Guided by its purpose, the UN adopted resolutions.", "VERB", id="verb"),
    pytest.param("Shafiyev further stated that Azerbaijan has no issues with the UN.", "PROPN", id="name"),
])
def test_first_word_part_of_speech(sentence, expected):
    from qa.candidates import first_pos
    from qa.pipeline import _ORDINARY_POS

    pos = first_pos(sentence)
    assert (pos in _ORDINARY_POS) == (expected in _ORDINARY_POS), pos


@pytest.mark.parametrize("text, expected", [
    pytest.param("The closure is deeply concerning [1].", "According to Rights Watch, the closure is deeply concerning. [1]",
                 id="model-style-full-stop-after-the-marker"),
    pytest.param("The offices opened in 1993 [2]. The closure is deeply concerning [1].",
                 "The offices opened in 1993 [2]. According to Rights Watch, the closure is deeply concerning. [1]",
                 id="only-the-disputed-one-of-two-model-sentences"),
    pytest.param("The closure is deeply concerning [1] [2].",
                 "According to Rights Watch and Ministry, the closure is deeply concerning. [1] [2]",
                 id="a-run-of-markers"),
    pytest.param("The offices opened in 1993. [2] The closure is deeply concerning. [1] It was sudden.",
                 "The offices opened in 1993. [2] According to Rights Watch, the closure is deeply concerning. [1] "
                 "It was sudden.", id="words-after-the-last-marker-are-kept"),
])
def test_model_written_sentences_are_attributed_one_by_one(text, expected):
    cits = [_cit(1, "a.txt", "Rights Watch", "The closure is deeply concerning."),
            _cit(2, "b.txt", "Ministry", "The offices opened in 1993.")]
    assert attribute(text, cits, disputed={"a.txt"}, judges=lambda s: False) == expected


@pytest.mark.parametrize("text, expected", [
    pytest.param("A b. [1] C d [2][3].", [("A b.", [1]), ("C d.", [2, 3])], id="both-styles"),
    pytest.param("A b [1]. C d [2] [3]", [("A b.", [1]), ("C d", [2, 3])], id="spaced-run"),
    pytest.param("No marker at all.", [], id="uncited"),
])
def test_answer_sentences(text, expected):
    assert [(body, marks) for _, body, marks in answer_sentences(text)] == expected


# ---- a list question: the item-listing sentence beside a chosen one joins it ------------------------------------

_LIST_SENTENCES = {"decided": "The government decided to close the offices of major UN organisations.",
                   "list": "This affects UNDP, UNHCR, UNICEF and ICMPD.", "told": "Staff were told in March.",
                   "gap": "The decision came as a surprise.", "far": "Other bodies include WHO, ILO and FAO."}
_LIST_DOC = " ".join(_LIST_SENTENCES.values())


@pytest.mark.parametrize("chosen, others, expected", [
    pytest.param(["decided"], ["list"], ["decided", "list"], id="list-after-the-chosen-sentence"),
    pytest.param(["told"], ["list"], ["list", "told"], id="list-before-the-chosen-sentence"),
    pytest.param(["decided"], ["far"], ["decided", "list"], id="a-list-further-away-stays-out"),
    pytest.param(["list"], ["told"], ["list"], id="a-neighbour-that-lists-nothing-stays-out"),
    pytest.param(["decided"], [], ["decided", "list"], id="a-neighbour-retrieval-left-out-joins-too"),
])
def test_with_list_neighbours(chosen, others, expected):
    from qa.answer import with_list_neighbours
    from qa.types import Document, Hit

    doc = Document(doc_id="d", path="d", title="d", text=_LIST_DOC, content=[{"start": 0, "end": len(_LIST_DOC)}], sha256="x")
    hits = []
    for i, key in enumerate(chosen + others):
        start = _LIST_DOC.index(_LIST_SENTENCES[key])
        hits.append(Hit(doc_id="d", start=start, end=start + len(_LIST_SENTENCES[key]), text=_LIST_SENTENCES[key],
                        chunk_id=0, score=0.9 - 0.1 * i))
    got = with_list_neighbours(hits[:len(chosen)], hits, {"d": doc})
    assert [h.text for h in got] == [_LIST_SENTENCES[k] for k in expected]


def test_a_list_of_items_after_a_shared_preposition_joins():
    from qa.answer import with_list_neighbours
    from qa.types import Document, Hit

    first = "Since 1999 the country has contributed to a number of peacekeeping operations."
    text = (f"{first} It took part in the operation in the Kosovo region (KFOR), in Afghanistan (ISAF), and in Iraq "
            "(MNF-I). The troops came home in 2021.")
    doc = Document(doc_id="d", path="d", title="d", text=text, content=[{"start": 0, "end": len(text)}], sha256="x")
    got = with_list_neighbours([Hit(doc_id="d", start=0, end=len(first), text=first, chunk_id=0, score=0.9)], [],
                               {"d": doc})
    assert [h.text for h in got][1].startswith("It took part") and len(got) == 2
    assert text[got[1].start:got[1].end] == got[1].text


def test_a_heading_joins_the_extractive_answer_only_when_no_sentence_is_close():
    from qa.answer import pick
    from qa.types import Hit

    def hit(text: str, score: float, start: int) -> Hit:
        return Hit(doc_id="d", start=start, end=start + len(text), text=text, chunk_id=0, score=score)

    heading = "Relations between Azerbaijan and the United Nations (UN)"
    sentence = "Azerbaijan has no issues with the UN, although isolated incidents do occur."
    assert [h.text for h in pick([hit(sentence, 0.9, 100), hit(heading, 0.88, 0)])] == [sentence]
    assert [h.text for h in pick([hit(heading, 0.9, 0)])] == [heading]  # nothing better: it stays
    # a keyword query ("azerbaijan un relations history") ranks the page's title line first: the sentence close to it
    # answers; a line that only looks like a heading (a cut sentence) stays where it ranks
    titles = {"d": heading}
    assert [h.text for h in pick([hit(heading, 0.9, 0), hit(sentence, 0.85, 100)], titles=titles)] == [sentence]
    assert [h.text for h in pick([hit(heading, 0.9, 0), hit(sentence, 0.3, 100)], titles=titles)] == [heading]
    assert [h.text for h in pick([hit(heading, 0.9, 0), hit(sentence, 0.85, 100)])] == [heading, sentence]


_THINGS = {
    "comedian": "Tom Reyes (comedian) Tom Paul Reyes (November 29, 1939 - March 9, 2012) was an American comedian.",
    "actor": "Tom Reyes Tom Michael Reyes (born June 11, 1953) is an American actor known for soap operas.",
    "copy": "Tom Reyes (comedian) Tom Paul Reyes (November 29, 1939 - March 9, 2012) was an American chef.",
    "plain": "Tom Reyes is well known as an American chef in the city.",
    "weak": "Tom Reyes Tom Michael Reyes (born June 11, 1953) is an American actor known for soap operas.",
}


@pytest.mark.parametrize("others, question, expected", [
    pytest.param(["actor"], "What is the profession of Tom Reyes?", ["comedian", "actor"],
                 id="another-thing-of-the-name-gets-its-sentence"),
    pytest.param(["copy"], "What is the profession of Tom Reyes?", ["comedian"],
                 id="the-same-qualifier-is-the-same-thing"),
    pytest.param(["plain"], "What is the profession of Tom Reyes?", ["comedian"],
                 id="an-unqualified-page-may-be-a-planted-copy"),
    pytest.param(["actor"], "Why is Tom Reyes famous?", ["comedian"], id="only-a-question-asking-a-fact"),
    pytest.param(["weak"], "What is the profession of Tom Reyes?", ["comedian"], id="too-far-below-the-best"),
])
def test_with_other_things(others, question, expected):
    from qa.answer import with_other_things
    from qa.types import Document, Hit

    keys = ["comedian"] + others
    docs = {k: Document(doc_id=k, path=k, title=k, text=_THINGS[k], content=[{"start": 0, "end": len(_THINGS[k])}],
                        sha256=k) for k in keys}
    hits = [Hit(doc_id=k, start=0, end=len(_THINGS[k]), text=_THINGS[k], chunk_id=0,
                score=0.3 if k == "weak" else 0.9 - 0.1 * i) for i, k in enumerate(keys)]
    got = with_other_things(hits[:1], hits, docs, question)
    assert [h.doc_id for h in got] == expected


@pytest.mark.parametrize("text, expected", [
    pytest.param("Tom Reyes (comedian) Tom Reyes was an American comedian.", "comedian", id="at-the-first-mention"),
    pytest.param("Tom Reyes Tom Michael Reyes (born June 11, 1953) is an actor.", "born June 11, 1953",
                 id="the-fuller-name-on-the-same-line"),
    pytest.param("^ \"New single by Tom Reyes.\" Pitchfork.\n^ \"Tom Reyes (Remixes)\" iTunes.", "",
                 id="a-qualified-mention-further-down-is-not-the-page's-subject"),
    pytest.param("A page that never names him.", "", id="no-mention"),
    pytest.param("The office of Tom Reyes (TR) closed.", "", id="an-abbreviation-is-no-qualifier"),
    pytest.param("dbr : Tom Reyes (en) page", "", id="a-two-letter-code-is-no-qualifier"),
    pytest.param("Tom Reyes is a 2009 American film.", "2009", id="the-year-of-the-defining-sentence"),
])
def test_lead_qualifier(text, expected):
    from qa.answer import lead_qualifier
    from qa.candidates import asked
    from qa.types import Document

    doc = Document(doc_id="d", path="d", title="d", text=text, content=[{"start": 0, "end": len(text)}], sha256="d")
    assert lead_qualifier(asked("What is the profession of Tom Reyes?"), doc) == expected


def _things(keys):
    from qa.types import Document, Hit

    docs = {k: Document(doc_id=k, path=k, title=k, text=_THINGS[k], content=[{"start": 0, "end": len(_THINGS[k])}],
                        sha256=k) for k in keys}
    hits = [Hit(doc_id=k, start=0, end=len(_THINGS[k]), text=_THINGS[k], chunk_id=0, score=0.9 - 0.1 * i)
            for i, k in enumerate(keys)]
    return docs, hits


def test_a_model_answer_about_one_thing_is_followed_by_the_other_thing_of_the_name():
    from qa.answer import other_things_line
    from qa.verify import citation_at

    docs, hits = _things(["comedian", "actor"])
    cited = [citation_at(docs["comedian"], 0, len(_THINGS["comedian"]), n=1, score=0.9)]
    text, cits = other_things_line("Tom Reyes was a comedian [1].", cited, hits, docs,
                                   "What is the profession of Tom Reyes?")
    assert text.startswith("Tom Reyes was a comedian [1]. "
                           "Another “Tom Reyes” (born June 11, 1953): “Tom Reyes Tom")
    assert text.endswith("[2]") and [c.doc_id for c in cits] == ["comedian", "actor"]
    assert docs["actor"].text[cits[1].start:cits[1].end] == cits[1].quote  # a verbatim quote at its offsets
    # an answer that cites both already, or a page that may be a planted copy, gets nothing more
    both = cited + [citation_at(docs["actor"], 0, len(_THINGS["actor"]), n=2, score=0.8)]
    question = "What is the profession of Tom Reyes?"
    assert other_things_line("A [1]. B [2].", both, hits, docs, question)[0] == "A [1]. B [2]."
    docs, hits = _things(["comedian", "plain"])
    assert other_things_line("C [1].", cited, hits, docs, "What is the profession of Tom Reyes?")[0] == "C [1]."


def test_an_extractive_answer_says_which_sentence_is_about_another_thing_of_the_name():
    from qa.answer import extractive_answer

    docs, hits = _things(["comedian", "actor"])
    hits[1] = hits[1].model_copy(update={"score": 0.7})  # below the keep ratio, within the other-thing ratio
    text, cits = extractive_answer(hits, docs, question="What is the profession of Tom Reyes?")
    assert text == (f"{_THINGS['comedian']} [1] "
                    f"Another “Tom Reyes” (born June 11, 1953): “{_THINGS['actor']}” [2]")
    assert [c.doc_id for c in cits] == ["comedian", "actor"]
    plain, _ = extractive_answer(hits, docs)  # no question: the chosen sentence only, as before
    assert plain == f"{_THINGS['comedian']} [1]"
    # both close enough to be chosen anyway: the second still says it is about another Tom Reyes
    docs, hits = _things(["comedian", "actor"])
    text, _ = extractive_answer(hits, docs, question="What is the profession of Tom Reyes?")
    assert text == (f"{_THINGS['comedian']} [1] "
                    f"Another “Tom Reyes” (born June 11, 1953): “{_THINGS['actor']}” [2]")
    # a page that does not qualify the name may be a planted copy: no label
    docs, hits = _things(["comedian", "plain"])
    text, _ = extractive_answer(hits, docs, question="What is the profession of Tom Reyes?")
    assert text == f"{_THINGS['comedian']} [1] {_THINGS['plain']} [2]"
    # the first page does not qualify the name: the second says what it is about, not that it is another one
    docs, hits = _things(["plain", "actor"])
    text, _ = extractive_answer(hits, docs, question="What is the profession of Tom Reyes?")
    assert text == f"{_THINGS['plain']} [1] About “Tom Reyes” (born June 11, 1953): “{_THINGS['actor']}” [2]"


_DOC_TEXT = ("Aliyev referred to the situation in the South Caucasus. He reminded that Armenia had ignored four "
             "resolutions for nearly 30 years. It is crucial that the resolutions are carried out. Short line. "
             "They were adopted in 1993.")


@pytest.mark.parametrize("sentence, before", [
    pytest.param("He reminded that Armenia had ignored four resolutions for nearly 30 years.",
                 "Aliyev referred to the situation in the South Caucasus.", id="a-pronoun-subject-brings-its-antecedent"),
    pytest.param("It is crucial that the resolutions are carried out.", None, id="expletive-it-points-at-nothing"),
    pytest.param("They were adopted in 1993.", None, id="a-short-sentence-before-is-no-antecedent"),
    pytest.param("Aliyev referred to the situation in the South Caucasus.", None, id="no-pronoun"),
])
def test_a_pronoun_subject_is_quoted_after_the_sentence_naming_it(sentence, before):
    from qa.answer import with_antecedents
    from qa.types import Document, Hit, Span

    doc = Document(doc_id="d", path="d.txt", title="t", text=_DOC_TEXT, sha256="0",
                   content=(Span(start=0, end=len(_DOC_TEXT)),))
    i = _DOC_TEXT.index(sentence)
    hit = Hit(doc_id="d", start=i, end=i + len(sentence), text=sentence, chunk_id=0, score=0.9)
    out = with_antecedents([hit], {"d": doc})
    assert [h.text for h in out] == ([before] if before else []) + [sentence]
    assert all(_DOC_TEXT[h.start:h.end] == h.text for h in out)
