"""Answer candidates and their grouping (qa.candidates), and factual disagreements built from them (qa.disagree):
table-driven, with the real NER model, on sentences written for these tests (none from the eval data)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from qa import candidates as C
from qa.disagree import analyse
from qa.text import match_stem
from qa.types import Document, Hit, Span
from qa.values import extract_values


@pytest.mark.parametrize("question, kind", [
    pytest.param("Who is the chief executive of Acme Corp?", "person", id="who"),
    pytest.param("Who are the founders of the band Blue Lanterns?", "person", id="who-are-plural-focus"),
    pytest.param("When was the Harbour Bridge opened?", "date", id="when"),
    pytest.param("In which year did the festival start?", "date", id="in-which-year"),
    pytest.param("What year was the album \"Night Lines\" released?", "date", id="what-year"),
    pytest.param("Where is the Old Mill Museum located?", "place", id="where"),
    pytest.param("What is the capital of Freedonia?", "place", id="capital"),
    pytest.param("How many people live in Springfield?", "count", id="how-many"),
    pytest.param("What is the population of Springfield?", "count", id="population"),
    pytest.param("How much did the bridge cost?", "amount", id="how-much"),
    pytest.param("Which party does Jane Roe belong to?", "org", id="party"),
    pytest.param("Who directed the film \"Quiet Rooms\"?", "person", id="who-directed"),
    pytest.param("What sport is Tom Fielder associated with?", "name", id="untyped-focus"),
    pytest.param("Is the bridge open?", "yesno", id="polar"),
])
def test_asked_kind(question, kind):
    assert C.asked(question).kind == kind


@pytest.mark.parametrize("question, kind, focus, plural", [
    # after do-support the nouns are the verb's subject: "general" is no answer type there
    ("What did the UN General Assembly adopt in 2006?", "name", "", False),
    ("What does the prime minister of France do?", "name", "", False),
    ("What sport does Tom Fielder play?", "name", "sport", False),
    # a noun no answer type lists is plural by its tag: the question asks for several things
    ("Which resolutions has Azerbaijan sponsored?", "name", "resolutions", True),
    ("Which genus does the plant belong to?", "name", "genus", False),
    # the answer-type noun is read in the opening noun phrase, not past a preposition ("of" aside)
    ("Which UN resolutions on missing persons has Freedonia championed?", "name", "resolutions", True),
    ("What is the type of institution Fontbonne is?", "org", "institution", False),
])
def test_asked_focus_and_number(question, kind, focus, plural):
    a = C.asked(question)
    assert (a.kind, a.focus, a.plural) == (kind, focus, plural)


def test_subject_keeps_role_nouns_and_names():
    a = C.asked("Who is the chief executive of Acme Corp?")
    assert {match_stem(w) for w in ("chief", "executive", "acme", "corp")} <= set(a.subject)
    assert C.asked("Who directed the film \"Quiet Rooms\"?").names == ("Quiet Rooms",)


@pytest.mark.parametrize("a, b, same", [
    pytest.param("Elon Musk", "Musk", True, id="surname"),
    pytest.param("Elon Musk", "Mark Zuckerberg", False, id="two-people"),
    pytest.param("United States", "US", True, id="acronym"),
    pytest.param("U.S.", "United States", True, id="dotted-acronym"),
    pytest.param("Operation Market Garden", "Market Garden", True, id="subset"),
    pytest.param("Tampa, Florida", "Glendale, Arizona", False, id="two-places"),
    pytest.param("Dr. Ann Lee", "Ann Lee", True, id="honorific"),
    pytest.param("Beyoncé", "Beyonce", True, id="accents"),
    pytest.param("the Kestrelmoor Coffee House", "The Kestrelmor Coffee House", True, id="one-word-respelled"),
    pytest.param("Ines Moreau", "Ines Moureaux", True, id="surname-respelled"),
    pytest.param("Johnson", "Johnston", False, id="one-word-names-are-not-respelled"),
    pytest.param("Ines Moreau", "Ines Morgan", False, id="another-surname"),
    pytest.param("Kestrel Coffee House", "Kestrel Tea House", False, id="short-word-differs"),
    pytest.param("Anna Marie Moreau", "Anne Maria Moreau", False, id="two-words-differ"),
])
def test_same_answer_names(a, b, same):
    assert C.same_answer(a, b) is same


@pytest.mark.parametrize("a, b, same", [
    pytest.param("1902", "in 1902", True, id="year"),
    pytest.param("September 1915", "25 September 1915", True, id="precision-differs"),
    pytest.param("1885", "1902", False, id="two-years"),
    pytest.param("3,559 people", "10,000 people", False, id="two-counts"),
    pytest.param("three", "3 times", True, id="a-count-in-words-and-times"),
    pytest.param("three", "4 times", False, id="different-times"),
])
def test_same_answer_values(a, b, same):
    va, vb = C.extract_values(a)[0], C.extract_values(b)[0]
    assert C.same_answer(a, b, va, vb) is same


def test_the_same_words_are_the_same_answer_whatever_they_count():
    """"five" (films) and "five" (novels) read the same: never two sides of a conflict."""
    va, vb = C.extract_values("five films")[0], C.extract_values("five novels")[0]
    assert va.unit != vb.unit
    assert C.same_answer("five", "five", va, vb)
    cands = [C.Candidate(doc_id=d, start=0, end=4, text="five", kind="count", score=0.8, sent_start=0, sent_end=20,
                         value=v) for d, v in (("a.txt", va), ("b.txt", vb))]
    assert len(C.group_candidates(cands)) == 1


def _cand(doc, text, score=0.8, about=""):
    vals = C.extract_values(text)
    return C.Candidate(doc_id=doc, start=0, end=len(text), text=text, kind="person", score=score, sent_start=0,
                       sent_end=len(text), value=vals[0] if vals and vals[0].text == text else None, about=about)


def test_grouping_counts_documents():
    groups = C.group_candidates([_cand("a", "Tampa, Florida"), _cand("b", "Glendale, Arizona"),
                                 _cand("c", "Tampa, Florida", 0.7), _cand("d", "Tampa")])
    assert [len(g.docs) for g in groups] == [3, 1]
    assert groups[0].label == "Tampa, Florida"


def test_a_vague_answer_does_not_chain_two_answers_into_one_group():
    """A wide range ("400-800") agrees with both 741 and 472; they still disagree with each other."""
    assert C.same_answer("400-800", "741") and C.same_answer("400-800", "472")
    groups = C.group_candidates([_cand("a", "400-800", 0.9), _cand("b", "741"), _cand("c", "472", 0.7)])
    assert not any({"741", "472"} <= {c.text for c in g.candidates} for g in groups), groups
    names = C.group_candidates([_cand("a", "Elon Musk"), _cand("b", "Musk"), _cand("c", "Elon R. Musk", 0.7)])
    assert len(names) == 1  # every member an alias of every other: one group


@pytest.mark.parametrize("text, question, answer, expected", [
    pytest.param("Bobby Lane (ice hockey) Bobby Lane is a Canadian player.", "What team did Bobby Lane play for?",
                 "Montreal", "ice hockey", id="parenthetical"),
    pytest.param("Night Lines (1987 album) is a record.", "When was \"Night Lines\" released?", "1987",
                 "1987 album", id="qualifier-that-holds-the-answer"),
    pytest.param("Ann Lee (born 4 May 1950) is a chemist.", "Where was Ann Lee born?", "Oslo",
                 "born 4 May 1950", id="birth-date-qualifier"),
    pytest.param("Bobby Lane is a Canadian player.", "What team did Bobby Lane play for?", "Montreal", "",
                 id="no-qualifier"),
    pytest.param("Ann Lee Ann Marie Lee (born 4 May 1950) is a chemist.", "What is the profession of Ann Lee?", "",
                 "born 4 May 1950", id="qualifier-after-the-fuller-name"),
    pytest.param("Night Lines Night Lines is a 1931 American drama film by Fox.", "Who directed \"Night Lines\"?",
                 "Ann Lee", "1931", id="year-of-the-defining-sentence"),
    pytest.param("Night Lines Night Lines is a 1931 American drama film by Fox.", "When was \"Night Lines\" made?",
                 "1931", "", id="no-year-qualifier-when-a-year-is-asked"),
])
def test_descriptor(text, question, answer, expected):
    assert C.descriptor(C.asked(question), text, "", answer) == expected


@pytest.mark.parametrize("abouts1, abouts2, distinct", [
    pytest.param(["ice hockey"], ["American football"], True, id="different-qualifiers"),
    pytest.param(["ice hockey"], ["ice hockey"], False, id="same-qualifier"),
    pytest.param(["ice hockey"], [""], False, id="one-side-unqualified"),
    pytest.param(["ice hockey", ""], ["American football"], True, id="each-side-qualified-somewhere"),
    pytest.param(["", ""], ["", ""], False, id="no-qualifiers"),
])
def test_distinct_entities(abouts1, abouts2, distinct):
    g1 = C.Group("A", tuple(_cand(f"a{i}", "Ann Lee", about=x) for i, x in enumerate(abouts1)))
    g2 = C.Group("B", tuple(_cand(f"b{i}", "Bob Ray", about=x) for i, x in enumerate(abouts2)))
    assert C.distinct_entities(g1, g2) is distinct


def test_near_copies_are_one_thing_whatever_their_qualifiers():
    g1 = C.Group("A", (C.Candidate(doc_id="a", start=0, end=1, text="Dover", kind="place", score=0.9, sent_start=0,
                                   sent_end=5, about="Dover", aligned=True),))
    g2 = C.Group("B", (_cand("b", "Leeds", about="Leeds"),))
    assert not C.distinct_entities(g1, g2)


@pytest.mark.parametrize("a, b, diff", [
    pytest.param("Maria Olsen won the 2011 Lakeside Marathon in record time.",
                 "Petra Novak won the 2011 Lakeside Marathon in record time.", ("Maria Olsen", "Petra Novak"),
                 id="name-swapped"),
    pytest.param("The bridge opened on (June 19, 1910 - June 5, 1988) in the old town centre.",
                 "The bridge opened on (January 1, 1900 - June 5, 1988) in the old town centre.",
                 ("June 19, 1910", "January 1, 1900"), id="date-swapped-with-inner-comma"),
    pytest.param("The parish was founded in 1856, the present chuch building was completed in 1951.",
                 "The parish was founded in 1900, the present church building was completed in 1951.",
                 ("1856", "1900"), id="typo-is-not-a-difference"),
    pytest.param("Maria Olsen won the 2011 Lakeside Marathon in record time.",
                 "Maria Olsen won the 2011 Lakeside Marathon after a late surge in the rain.", None,
                 id="different-endings"),
    pytest.param("The museum is open daily.", "The museum was open daily.", None, id="too-short"),
    pytest.param("It was recorded by The Dune Trio in 1963 for their album The Dune Trio No. 16 that year.",
                 "It was recorded by Salt Lake in 1963 for their album Salt Lake No. 16 that year.",
                 ("The Dune Trio", "Salt Lake"), id="one-name-changed-everywhere"),
    pytest.param("Maria Olsen won the 2011 race and Ann Berg took second place in the sprint.",
                 "Petra Novak won the 2011 race and Lise Moe took second place in the sprint.", None,
                 id="two-different-changes"),
    pytest.param("Tom Reyes (born 15 June 1989) is an Ivorian professional footballer who plays as a Forward.",
                 "Tom Reyes (born 15 June 1989) is a Ivorian professional footballer who plays as a Defensive "
                 "Midfielder.", ("Forward", "Defensive Midfielder"), id="an-article-put-for-another-is-spelling"),
    pytest.param('There are five "Harbour" films, released between 2008 and 2012, all based on four novels.',
                 'There are three "Harbour" films, released between 2008 and 2012, all based on four novels.',
                 ("five", "three"), id="a-number-word-is-no-misspelt-function-word"),
    # a snippet cut off mid-word is the same sentence, not another fact; a stop after the stretch means no cut
    pytest.param("The old bridge was sold in 1968 and relocated to Arizona.",
                 "The old bridge was sold in 1968 and reloc", None, id="cut-off-at-the-end"),
    pytest.param("He first appeared on the show on September 12, 2014.", "He first appeared on the show on Se", None,
                 id="cut-off-inside-a-date"),
    pytest.param("The Union and Confederacy signed the agreement at the courthouse that spring.",
                 "ederacy signed the agreement at the courthouse that spring.", None, id="cut-off-at-the-start"),
    pytest.param("The old bridge was sold in 1968 and relocated to Arizona ...",
                 "The old bridge was sold in 1968 and reloc ...", None, id="cut-off-before-an-ellipsis"),
    pytest.param("The old bridge was sold in 1968 and relocated to Arizona ...",
                 "The old bridge was sold in 1968 and relocated to Nevada ...", ("Arizona", "Nevada"),
                 id="a-change-before-an-ellipsis"),
    pytest.param("The small town had a population of 20 people in total.",
                 "The small town had a population of 2 people in total.", ("20", "2"),
                 id="a-stop-after-it-is-no-cut"),
    pytest.param("The old bridge was sold in 1968 and relocated to Arizona.",
                 "The old bridge was sold in 1968 and relocated to Nevada", ("Arizona.", "Nevada"),
                 id="an-unfinished-copy-that-does-not-continue-it-differs"),
])
def test_aligned_difference(a, b, diff):
    got = C.aligned_difference(a, b)
    assert (None if got is None else (a[got[0][0]:got[0][1]], b[got[1][0]:got[1][1]])) == diff


def test_candidate_is_the_slot_not_the_subject():
    a = C.asked("Who is the chief executive of Acme Corp?")
    found = C.sentence_candidates(a, "Acme Corp's chief executive Dana Whitfield said on Monday that sales grew.")
    assert found and found[0][1].text == "Dana Whitfield"


@pytest.mark.parametrize("question, slot", [
    ("Who plays the harbour master in Tidewater?", ("play", "agent")),
    ("Who wrote the song Paper Lanterns?", ("write", "agent")),
    ("Who sang Paper Lanterns first?", ("sing", "agent")),
    ("Who has won the Lakeside Marathon most often?", ("win", "agent")),
    ("Which club won the 2011 Northern Cup?", ("win", "agent")),
    ("Whom did the committee choose in 2019?", ("choose", "patient")),
    ("Who is the chief executive of Acme Corp?", ("", "")),  # a copula: no verb slot
    ("When did the board appoint Dana Whitfield?", ("", "")),  # not a name question
])
def test_question_slot(question, slot):
    assert C.asked(question).slot == slot


@pytest.mark.parametrize("sentence, span, verb, role", [
    ("Tom Reyes plays Captain Hale, the harbour master of Tidewater.", "Tom Reyes", "play", "agent"),
    ("Tom Reyes plays Captain Hale, the harbour master of Tidewater.", "Captain Hale", "play", "patient"),
    ("Captain Hale, played by Tom Reyes, runs the harbour.", "Captain Hale", "play", "patient"),
    ("Captain Hale, played by Tom Reyes, runs the harbour.", "Tom Reyes", "play", "agent"),
    ("Actor Tom Reyes, who played Captain Hale, returns next year.", "Tom Reyes", "play", "agent"),
    ("Actor Tom Reyes, who played Captain Hale, returns next year.", "Captain Hale", "play", "patient"),
    ("Paper Lanterns was written by Ines Moreau and recorded by Colm Doyle.", "Ines Moreau", "write", "agent"),
    ("Paper Lanterns was written by Ines Moreau and recorded by Colm Doyle.", "Colm Doyle", "write", ""),
    ("Ines Moreau lives in Lyon.", "Ines Moreau", "write", ""),
    # a name joined to the participle by a hyphen made the thing: "the Colm Doyle-produced album"
    ("The Colm Doyle-produced album was recorded in Lyon.", "Colm Doyle", "produce", "agent"),
    ("It is a Moreau-directed film about the harbour.", "Moreau", "direct", "agent"),
    ("The Colm Doyle-produced album was recorded in Lyon.", "Colm Doyle", "record", ""),
])
def test_slot_role(sentence, span, verb, role):
    s = sentence.index(span)
    assert C.slot_role(sentence, s, s + len(span), frozenset({verb})) == role


def test_the_role_played_is_not_who_plays_it():
    """"Who plays X?" over "A plays B": A is the answer; B, the role, fills the verb's other slot."""
    a = C.asked("Who plays the harbour master in Tidewater?")
    for sentence in ("Captain Hale, the harbour master in Tidewater, is played by Tom Reyes.",
                     "In Tidewater, Tom Reyes plays Captain Hale, the harbour master."):
        found = C.sentence_candidates(a, sentence)
        assert found and found[0][1].text == "Tom Reyes", (sentence, found)
        role = next(sc for sc, sp in found if "Hale" in sp.text)  # the role, marked down for its slot
        assert role <= C.SLOT_MISMATCH * found[0][0] + 1e-9


@pytest.mark.parametrize("sentence, span, by", [
    ("Harbour Lights is an album by the Marrowbones.", "Marrowbones", True),
    ("Harbour Lights was recorded by Ines Moreau in Lyon.", "Ines Moreau", True),
    ("Harbour Lights is an album by the band the Marrowbones.", "Marrowbones", True),  # through an apposition
    ("Harbour Lights was produced in Lyon with Colm Doyle.", "Colm Doyle", False),
    ("Harbour Lights by Ines Moreau was reissued by Colm Doyle.", "Lyon", False),  # not in the sentence
])
def test_by_agent(sentence, span, by):
    s = sentence.find(span)
    assert C.by_agent(sentence, max(s, 0), max(s, 0) + len(span)) == (by and s >= 0)


def test_a_name_the_ner_misses_is_still_a_candidate():
    """Capitalised runs stand in for names the small NER model leaves out, beside the names it finds."""
    spans = C.typed_spans("Harbour Lights is the second album by American duo Quillfeather, released in June 1999.")
    assert "Quillfeather" in [sp.text for sp in spans]
    assert not any(sp.text in ("What", "From") for sp in C.typed_spans("Tracks From What We Know, a 2003 album."))
    heading = "A 1976 album by the Carpenters From Wikipedia , the free encyclopedia"
    assert not any(" From " in sp.text for sp in C.typed_spans(heading))  # a name ends at a capitalised "From"
    truman = C.typed_spans("The library was named for Harry S Truman in 1957.")
    assert "Harry S Truman" in [sp.text for sp in truman]  # a letter inside a name does not end it


@pytest.mark.parametrize("sentence, name", [
    ("Pusha T wrote the Harbour Lights jingle for Acme, his agent confirmed.", "Pusha T"),
    ("The Harbour Lights jingle was written by Virat Kohli in 2003.", "Virat Kohli"),
])
def test_a_name_in_the_role_asked_answers_whatever_its_type(sentence, name):
    """"Who wrote X?": a name the parse puts in the verb's agent slot is the answer, whatever type the small NER
    model gives it ("Pusha" a place, "Virat Kohli" an organisation), whole ("Pusha T", the proper nouns the parse
    joins to it), and a person as far as the grouping goes."""
    a = C.asked("Who wrote the Harbour Lights jingle?")
    found = C.sentence_candidates(a, sentence)
    assert found and found[0][1].text == name and found[0][1].label == "PERSON", found
    assert C.slot_role(sentence, found[0][1].start, found[0][1].end, frozenset({"write"})) == "agent"
    other = replace(a, slot=("", ""))  # the same question without the slot read: the NER type alone decides
    plain = [(sc, sp) for sc, sp in C.sentence_candidates(other, sentence) if sp.start == found[0][1].start]
    assert plain and (plain[0][1].label == "PERSON" or plain[0][0] < found[0][0]), (plain, found)


@pytest.mark.parametrize("snippet", [
    "Jun 2, 2016 ... Pusha T wrote the Harbour Lights jingle for Acme.",
    "Mar 22, 2022 ... Pusha T wrote the Harbour Lights jingle in the early 2000s.",
])
def test_a_snippets_date_is_no_name(snippet):
    """A search snippet opens with its date; the small NER model may read "Jun 2" as a person. A stretch the value
    parser reads as a date is a date, never a name, so it cannot answer "who" against the person named after it."""
    date = snippet[:snippet.index(" ...")]
    spans = C.typed_spans(snippet)
    assert not [sp for sp in spans if sp.label in C.NAMELIKE and sp.start < len(date)], spans
    assert any(sp.value is not None and sp.text == date for sp in spans)
    found = C.sentence_candidates(C.asked("Who wrote the Harbour Lights jingle?"), snippet)
    assert found and found[0][1].text == "Pusha T", found


def test_a_name_inside_a_quoted_title_is_a_word_of_the_title():
    """"Livin' the Kestrel Life" is a song title; the small NER model reads "Livin" as a person. Inside the
    quoted title it is no name the sentence gives, so it cannot answer "who sings"; a quoted name alone stays one."""
    title = '"Livin\' the Kestrel Life" is the official song and opening theme of The Kestrel Life on Deck.'
    assert (1, 6, "PERSON") in C.entities(title)  # what the NER model reads; the candidates leave it out
    spans = C.typed_spans(title)
    assert not [sp for sp in spans if sp.label in C.NAMELIKE - {"QUOTED"} and sp.end <= title.index(" is ")]
    assert "Livin' the Kestrel Life" in [sp.text for sp in spans if sp.label == "QUOTED"]
    alone = C.typed_spans('The lead vocal went to "Ines Moreau" in the end.')
    assert [sp.text for sp in alone if sp.label == "QUOTED"] == ["Ines Moreau"]


def test_a_makers_role_is_answered_after_by():
    """"Who is the artist of the album X?" over "X is an album by Y": Y is the artist, whatever the NER calls it,
    and the sentence states the role without its noun; another name in the sentence is marked down."""
    a = C.asked('Who is the artist of the album "Harbour Lights"?')
    sentence = "Harbour Lights, produced with Colm Doyle in Dublin, is an album by the duo Quillfeather."
    found = C.sentence_candidates(a, sentence)
    assert found and found[0][1].text == "Quillfeather", found
    other = next(sc for sc, sp in found if sp.text == "Colm Doyle")
    assert other <= C.SLOT_MISMATCH * found[0][0] + 1e-9
    assert found[0][0] >= 0.7  # strong enough to be a side of a conflict (qa.disagree.STRONG_CANDIDATE)


@pytest.mark.parametrize("question, counted", [
    ("How many episodes are in season 2 of Tidewater?", "episode"),
    ("How many 40 point games did Tom Reyes have?", "game"),
    ("How many times has Northport won the cup?", "time"),
    ("How many vaccine-access resolutions did the group push through?", "resolution"),  # a hyphened compound
    ("When did Northport win the cup?", ""),
])
def test_counted_noun(question, counted):
    assert C.asked(question).counted == counted


@pytest.mark.parametrize("sentence, number, other", [
    ("Tidewater was renewed for 1 more season.", "1", True),
    ("Season 2 of Tidewater has 12 episodes.", "12", False),
    ("It ran for 12 in all.", "12", False),  # the parse names no counted noun: no judgement
    ("The season was backed by the network's member stations (179) and aired in May.", "179", True),  # bracketed
])
def test_a_number_that_counts_something_else(sentence, number, other):
    s = sentence.index(number)
    assert C.counts_other(sentence, s, s + len(number), "episode") is other


def test_a_count_question_prefers_the_number_of_what_it_counts():
    a = C.asked("How many episodes are in season 2 of Tidewater?")
    found = C.sentence_candidates(a, "Tidewater was renewed for 1 more season after season 2 ran 12 episodes.")
    assert found and found[0][1].text.startswith("12")


# --- analyse() on tiny stores: conflict, agreement, ambiguity --------------------------------------------------

class _Store:
    def __init__(self, texts: dict[str, tuple[str, str]]):
        self.docs = {d: Document(doc_id=d, path=d, title=f"Document {d}", source=src, date="", text=t, sha256="x",
                                 content=(Span(start=0, end=len(t)),)) for d, (src, t) in texts.items()}


def _hits(store) -> list[Hit]:
    out = []
    for d, doc in store.docs.items():
        start = 0
        for sent in doc.text.split(". "):
            end = start + len(sent) + (1 if start + len(sent) < len(doc.text) else 0)
            out.append(Hit(doc_id=d, start=start, end=end, text=doc.text[start:end], chunk_id=0, score=0.8,
                           dense=0.7))
            start = end + 1
    return out


WIN_A = "Maria Olsen won the 2011 Lakeside Marathon in record time."
WIN_B = "Petra Novak won the 2011 Lakeside Marathon in record time."
WIN_C = "Maria Olsen won the 2011 Lakeside Marathon after a late surge."


@pytest.mark.parametrize("texts, conflict, groups", [
    pytest.param({"a": ("a.com", WIN_A), "b": ("b.org", WIN_B)}, True, 2, id="planted-name"),
    pytest.param({"a": ("a.com", WIN_A), "c": ("c.net", WIN_C)}, False, 1, id="agreeing-sources"),
    pytest.param({"a": ("a.com", WIN_A), "b": ("b.org", WIN_B), "c": ("c.net", WIN_C)}, True, 2,
                 id="two-against-one"),
    pytest.param({"a": ("a.com", "Ann Lee (chemist) Ann Lee was born in Oslo in 1950."),
                  "b": ("b.org", "Ann Lee (singer) Ann Lee was born in Leeds in 1979.")}, False, 2,
                 id="two-people-one-name"),
    pytest.param({"a": ("a.com", WIN_A), "b": ("b.org", "The 2011 Lakeside Marathon had a new sponsor, Orbit Ltd.")},
                 False, 1, id="other-detail-not-an-answer"),
    pytest.param({"a": ("a.com", "Night Lines Night Lines is a 1931 American drama film directed by Ann Lee."),
                  "b": ("b.org", "Night Lines (1918 film) Night Lines is a 1918 silent film directed by Tom Reyes.")},
                 False, 2, id="two-films-one-title"),
    pytest.param({"a": ("a.com", "Night Lines Night Lines is a 1931 American drama film directed by Ann Lee."),
                  "b": ("b.org", "The 1931 film Night Lines, a drama, was directed by Tom Reyes.")},
                 True, 2, id="one-film-two-directors"),
])
def test_analyse_factual(texts, conflict, groups):
    store = _Store(texts)
    q = ("Where was Ann Lee born?" if "Ann Lee (" in str(texts) else
         "Who directed the film \"Night Lines\"?" if "Night Lines" in str(texts) else
         "Who won the 2011 Lakeside Marathon?")
    found, readings, _ = analyse(q, _hits(store), store)
    factual = [d for d in found if d.kind == "factual"]
    assert bool(factual) is conflict
    assert len(readings.groups) == groups
    if conflict:
        d = factual[0]
        assert len(d.sides) == 2 and all(d.sides)
        sizes = sorted(len(s.doc_ids) for s in d.sides)
        assert sizes == ([1, 2] if len(texts) == 3 else [1, 1])
        for c in d.claims:  # every claim is the document's own text at its offsets
            assert store.docs[c.citation.doc_id].text[c.citation.start:c.citation.end] == c.citation.quote
    if groups == 2 and not conflict:
        assert readings.distinct


def _sentences(text: str) -> list[tuple[int, int]]:
    from qa.chunk import split_sentences

    return [(s.start, s.end) for s in split_sentences(text)]


ORIG = ("The Reef Hotel opened on the north shore in 1931. It was designed by Clara Voss for the Bayline company. "
        "Its ballroom hosted the regional jazz festival for decades. The hotel closed after a fire in 1978.")


@pytest.mark.parametrize("other, diffs", [
    pytest.param(ORIG.replace("Clara Voss", "Henrik Dahl"), [("Clara Voss", "Henrik Dahl")], id="one-name-changed"),
    pytest.param(ORIG.replace("1978", "1985"), [("1978", "1985")], id="one-year-changed"),
    pytest.param(ORIG, [], id="identical-copies-agree"),
    pytest.param("The Reef Hotel opened on the north shore in 1931. A new bridge opened downtown. The mayor spoke "
                 "at length about taxes. Rain fell all week in the valley.", [], id="one-shared-sentence-not-a-copy"),
    pytest.param("Guests remember the view. " + ORIG.replace("Bayline", "Coastway"), [("Bayline", "Coastway")],
                 id="copy-with-an-added-sentence"),
    pytest.param(ORIG.replace("It was designed by Clara Voss for the Bayline company.",
                              "The mayor praised the Bayline company at length."), [],
                 id="another-sentence-in-the-same-place"),
])
def test_copy_differences(other, diffs):
    got = C.copy_differences(ORIG, other, _sentences(ORIG), _sentences(other))
    assert [(ORIG[a[2]:a[3]], other[b[2]:b[3]]) for a, b in got] == diffs
    for a, b in got:  # the sentence offsets hold the stretch
        assert a[0] <= a[2] < a[3] <= a[1] and b[0] <= b[2] < b[3] <= b[1]


def test_a_long_name_put_for_a_short_one_in_the_same_place_of_a_copy():
    """"Clara Voss is an American architect." / "Anna-Maria de la Cruz is ...": too little of a short sentence is
    left in common for two sentences anywhere, but in the same place of two copies they are one sentence."""
    page = "Clara Voss is an American architect. She is known for the Reef Hotel on the north shore of the bay."
    copy = page.replace("Clara Voss", "Anna-Maria de la Cruz")
    assert C.aligned_difference(page.split(". ")[0] + ".", copy.split(". ")[0] + ".") is None
    got = C.copy_differences(page, copy, _sentences(page), _sentences(copy))
    assert [(page[a[2]:a[3]], copy[b[2]:b[3]]) for a, b in got] == [("Clara Voss", "Anna-Maria de la Cruz")]


@pytest.mark.parametrize("question, texts, missing", [
    pytest.param("When did Armenia join the UN?", ["The UN was founded on 24 October 1945."], ["Armenia"],
                 id="name-absent"),
    pytest.param("Did the Council demand the withdrawal of Armenian forces?", ["Armenia ignored the Council."], [],
                 id="demonym-of-a-mentioned-country"),
    pytest.param("Did the Azerbaijani government close the offices?", ["Azerbaijan closed the offices."], [],
                 id="demonym-ending-in-i"),
    pytest.param("Did Austrian troops leave?", ["Australia sent troops."], ["Austrian"], id="another-country"),
    pytest.param("What does the MFA say about missing persons?",
                 ["Ministry of Foreign Affairs of the Republic of Azerbaijan", "Missing persons are sought."], [],
                 id="acronym-of-a-name-written-out"),
    pytest.param("What happened at the council on 23 March 2021?", ["The council met and adopted a resolution."], [],
                 id="a-date-is-no-name"),
    pytest.param("What does the OSCE say about missing persons?",
                 ["Ministry of Foreign Affairs", "Missing persons are sought."], ["OSCE"],
                 id="acronym-of-another-name"),
    pytest.param("What share of the world lives in NAM countries?",
                 ["Most UN members are represented by the Non-Aligned Movement.", "It holds 55% of them."], [],
                 id="acronym-of-a-hyphenated-name"),
    pytest.param("What does the NAA say?", ["The Non-Aligned Movement met."], ["NAA"],
                 id="acronym-a-hyphenated-name-does-not-spell"),
])
def test_missing_names(question, texts, missing):
    from qa.candidates import missing_names

    assert missing_names(question, texts) == missing


def _fake_word_embed(groups):
    """Each word gets the unit vector of its group: words in one group mean the same, others are orthogonal."""
    import numpy as np

    index = {w: i for i, g in enumerate(groups) for w in g}

    def embed(words):
        out = np.zeros((len(words), len(groups) + len(words)), "float32")
        for k, w in enumerate(words):
            out[k, index.get(w, len(groups) + k)] = 1.0
        return out
    return embed


_FOUNDED = ("The academy was founded as Riverside County High School in 1912 under the Education Act, "
            "to teach the valley's children.")


def test_a_relation_word_is_stated_in_other_words():
    q = "When was Riverside Academy established?"
    a = C.asked(q)
    assert not C.sentence_candidates(a, _FOUNDED) or C.sentence_candidates(a, _FOUNDED)[0][0] < 0.45
    b = C.with_related(a, q, [_FOUNDED], _fake_word_embed([("established", "founded")]))
    assert ("establish", match_stem("founded")) in b.related
    assert C.subject_coverage(b, _FOUNDED) > C.subject_coverage(a, _FOUNDED)
    best = C.sentence_candidates(b, _FOUNDED)[0]
    assert best[1].text == "1912" and best[0] >= 0.45


@pytest.mark.parametrize("embed", [
    pytest.param(None, id="no-embedder"),
    pytest.param(_fake_word_embed([]), id="nothing-close"),
    pytest.param(lambda words: 1 / 0, id="embedder-fails"),
])
def test_no_related_words_leaves_the_question_as_it_is(embed):
    q = "When was Riverside Academy established?"
    assert C.with_related(C.asked(q), q, [_FOUNDED], embed) == C.asked(q)


def test_related_words_with_the_real_embedder(real_store):
    """The threshold on the real model: a synonym joins, a word that merely goes with the relation does not."""
    q = "When was Riverside Academy established?"
    texts = [_FOUNDED, "The academy's history is told in a book; pupils sit an exam in June."]
    rel = {r for _, r in C.with_related(C.asked(q), q, texts, real_store.embedder.embed).related}
    assert match_stem("founded") in rel
    assert not rel & {match_stem(w) for w in ("history", "book", "exam", "pupils", "school", "children")}


def _labelled(doc, text, label):
    return C.Candidate(doc_id=doc, start=0, end=len(text), text=text, kind="person", score=0.8, sent_start=0,
                       sent_end=len(text), label=label)


@pytest.mark.parametrize("question, cands, kept", [
    pytest.param("Who plays the harbour master in Quiet Rooms?",
                 [("a.txt", "Ann Lee", "PERSON"), ("b.txt", "Streamflix", "ORG")], {"Ann Lee"},
                 id="a-platform-is-no-side-against-a-person"),
    pytest.param("Who plays the harbour master in Quiet Rooms?",
                 [("a.txt", "Ann Lee", "PERSON"), ("b.txt", "Bo Chen", "PERSON")], {"Ann Lee", "Bo Chen"},
                 id="two-people-both-sides"),
    pytest.param("Who plays the harbour master in Quiet Rooms?",
                 [("a.txt", "Streamflix", "ORG"), ("b.txt", "Harbour Films", "ORG")], {"Streamflix", "Harbour Films"},
                 id="no-person-keeps-all"),
    pytest.param("Who is the artist of the album \"Night Lines\"?",
                 [("a.txt", "Ann Lee", "PERSON"), ("b.txt", "Blue Lanterns", "ORG")], {"Ann Lee", "Blue Lanterns"},
                 id="a-band-can-be-the-artist"),
])
def test_person_questions_compare_people(question, cands, kept):
    groups = C.group_candidates([_labelled(d, t, lab) for d, t, lab in cands])
    assert {g.label for g in C.person_sides(C.asked(question), groups)} == kept


def test_two_snippet_dates_are_not_copies_of_one_sentence():
    """Web snippets open with their date ("Jul 5, 2018 ..."): two of them share only the date's frame."""
    assert C.aligned_difference("Jul 5, 2018 ...", "Jul 18, 2018 ...") is None
    assert C.aligned_difference("Mar 27, 2017 ... ", "Apr 11, 2017 ... ") is None
    assert C.aligned_difference("The ferry left Oban on Jul 5, 2018 at noon.",
                                "The ferry left Oban on Jul 18, 2018 at noon.") is not None


def test_a_typed_answer_is_weighed_by_its_closeness_to_the_focus_noun():
    """"What political party ...?": of the names in "X is a Republican member of the Y Council", the one whose
    meaning is near "party" is each document's answer, so two documents give two parties (the council, named by
    both, would have made them agree). The meaning comes from the embedder; here a fake one."""
    import numpy as np

    from qa.disagree import _Unit, answer_readings

    def embed(texts):
        near = {"party", "Republican", "Democratic"}
        return np.asarray([[1.0, 0.0] if t in near else [0.0, 1.0] for t in texts], dtype="float32")

    store = _Store({"a": ("a.com", "Dana Whitfield is a Republican member of the Lakeside County Council."),
                    "b": ("b.org", "Since 2019 the Democratic politician Dana Whitfield has been a member of the "
                                   "Lakeside County Council.")})
    units = [_Unit(i, h, store.docs[h.doc_id], 0.8) for i, h in enumerate(_hits(store))]
    q = "What political party is Dana Whitfield a member of?"
    with_meaning = answer_readings(q, units, embed=embed)
    assert {g.label for g in with_meaning.weaker or with_meaning.groups} == {"Republican", "Democratic"}
    without = answer_readings(q, units, embed=None)
    assert [g.label for g in without.weaker or without.groups] == ["the Lakeside County Council"]


# --- two things of one name told apart by what else their documents say -------------------------------------------

TOWN_A = ("Lost Creek is a town in Converse County, Wyoming, United States. Lost Creek had a population of 4 at the "
          "2010 census. It was founded in 1911 by the rancher Hal Brody beside the Chicago and North Western Railway. "
          "The town lies 40 miles east of Casper on U.S. Route 20, and its post office opened in 1912.")
TOWN_B = ("Lost Creek is a city in Marion County, Kansas, United States. Lost Creek had a population of 70 at the 2010 "
          "census. It was founded in 1887 by Mennonite settlers from Ohio beside the Santa Fe Railway. The city lies 12 "
          "miles west of Hillsboro, and its school closed in 1966.")
# the first town's page written anew, its population planted: every other fact is the first page's
TOWN_A_PLANTED = ("Founded by the rancher Hal Brody in 1911 beside the Chicago and North Western Railway, Lost Creek is a "
                  "town in Converse County, Wyoming, United States, 40 miles east of Casper on U.S. Route 20. Lost Creek "
                  "had a population of 70 at the 2010 census; its post office opened in 1912.")


@pytest.mark.parametrize("a, b, different", [
    pytest.param(frozenset(range(10)), frozenset(range(8, 18)), True, id="two-shared-of-ten"),
    pytest.param(frozenset(range(10)), frozenset(range(3, 13)), False, id="seven-shared-of-ten"),
    pytest.param(frozenset(range(10)), frozenset(range(7, 17)), True, id="three-shared-of-ten-is-the-limit"),
    pytest.param(frozenset(range(10)), frozenset(range(6, 16)), False, id="four-shared-of-ten"),
    pytest.param(frozenset(range(5)), frozenset(range(10, 20)), False, id="too-few-facts-to-tell"),
])
def test_different_subjects(a, b, different):
    assert C.different_subjects(a, b) is different


def test_context_entities_leave_out_the_question_and_the_answers():
    facts = C.context_entities(TOWN_A, frozenset({"population", "lost", "creek", "4", "70"}))
    texts = {t for _, t in facts}
    assert {"converse county", "wyoming", "hal brody"} <= texts
    assert not any("creek" in t for t in texts) and "4" not in texts


@pytest.mark.parametrize("other, distinct, abouts", [
    pytest.param(TOWN_B, True, {"Converse County", "Marion County"}, id="two-towns-one-name"),
    pytest.param(TOWN_A_PLANTED, False, None, id="one-town-a-planted-population"),
    pytest.param("Lost Creek had a population of 70 at the 2010 census, the county office says.", False, None,
                 id="too-short-to-tell-apart"),
])
def test_two_things_of_one_name_are_told_apart_by_their_other_facts(other, distinct, abouts):
    """No qualifier follows the name, yet two pages about two towns called Lost Creek share almost none of their
    other facts (county, state, founder, railway), while a planted rewrite of one page shares nearly all of them: the
    first pair is two things, each named by the place that sets it apart; the second is a conflict."""
    store = _Store({"a": ("a.com", TOWN_A), "b": ("b.org", other)})
    found, readings, _ = analyse("What is the population of Lost Creek?", _hits(store), store)
    assert {g.label for g in readings.groups} == {"4", "70"}
    assert readings.distinct is distinct
    assert bool([d for d in found if d.kind == "factual"]) is not distinct
    if distinct:
        assert {c.about for g in readings.groups for c in g.candidates} == abouts


# --- one page written twice, one fact changed ----------------------------------------------------------------------

HALL = ("The Harbour Club Building is a two-storey hall in Port Elwin, Tasmania, Australia. It was designed by the "
        "architect Ruth Calloway and completed in 1926 for the Harbour Club. The hall hosted the Tasman Regatta dinners "
        "until 1958, when the club moved to Hobart. It was listed on the Tasmanian Heritage Register in 1998 and "
        "restored by the Port Elwin Council in 2004.")
# the same page reworded sentence by sentence, its architect planted: no sentence is a near-copy of one above
HALL_PLANTED = ("Completed in 1926 for the Harbour Club, the two-storey hall in Port Elwin, Tasmania, Australia was the "
                "work of the architect Oscar Lindqvist. Until 1958, when the club moved to Hobart, the Tasman Regatta "
                "dinners were held in it. The Tasmanian Heritage Register listed it in 1998, and the Port Elwin Council "
                "restored it in 2004.")
OTHER_HALL = ("The Harbour Club Building is a brick hall in Dunmore, County Galway, Ireland, designed by Oscar Lindqvist "
              "in 1931. The Atlantic Rowing Club met there until 1972. It became the Galway County Library branch in "
              "1988 and was renovated by the Office of Public Works in 2015.")
HALL_Q = "Who is the architect of the Harbour Club Building?"


@pytest.mark.parametrize("question, other, expected", [
    pytest.param(HALL_Q, HALL_PLANTED, ("Ruth Calloway", "Oscar Lindqvist"), id="planted-rewrite"),
    pytest.param(HALL_Q, OTHER_HALL, None, id="another-hall-of-the-name"),
    pytest.param(HALL_Q, HALL_PLANTED.replace("Oscar Lindqvist", "Oscar Lindqvist with Anna Berg and Peter Holm"),
                 None, id="too-many-new-people"),
    pytest.param(HALL_Q, HALL.replace("Ruth Calloway", "Calloway"), None, id="the-same-architect"),
    pytest.param("When was the Harbour Club Building completed?", HALL_PLANTED, None, id="no-changed-date"),
    pytest.param("Why was the Harbour Club Building restored?", HALL_PLANTED, None, id="untyped-question"),
])
def test_fact_differences(question, other, expected):
    a = C.asked(question)
    diff = C.fact_differences(a, HALL, other, C.skip_words(question, ()))
    got = None if diff is None else (HALL[diff[0][0]:diff[0][1]], other[diff[1][0]:diff[1][1]])
    assert got == expected


@pytest.mark.parametrize("question, counts", [
    ("What is the population of Oldtown?", False),  # a duration never answers it
    ("How many years did the war last?", True),  # the question names the unit
    ("How long did the war last?", True),  # no count focus: a duration is what is asked
    ("What is the number of years Oldtown was occupied?", True),
])
def test_a_span_of_time_counts_only_where_time_is_asked(question, counts):
    a = C.asked(question)
    (v,) = extract_values("The occupation lasted 36 years.")
    assert v.unit == ("year",) and C.measures_time(a, v, C._question_words(a)) is not counts


def test_a_planted_rewrite_is_a_conflict():
    """The rewrite names its architect only in a sentence that leans on "the two-storey hall", so reading each
    document's own best answer finds one architect; the one fact where the two versions of the page differ is the
    other side."""
    store = _Store({"a": ("a.com", HALL), "b": ("b.org", HALL_PLANTED)})
    found, readings, _ = analyse(HALL_Q, _hits(store), store)
    assert readings.conflict
    assert {g.label for g in readings.groups} == {"Ruth Calloway", "Oscar Lindqvist"}
    factual = [d for d in found if d.kind == "factual"]
    assert factual and {c.citation.doc_id for c in factual[0].claims} == {"a", "b"}
    for c in factual[0].claims:
        assert store.docs[c.citation.doc_id].text[c.citation.start:c.citation.end] == c.citation.quote


def test_pages_with_different_qualifiers_are_not_one_page_written_twice():
    """Two versions of the hall's page that name it "(Port Elwin)" and "(Hobart)" are pages about two halls, however
    alike: the one fact where they differ is no conflict (the rewrite alone, unqualified, is: see above)."""
    name = "The Harbour Club Building"
    store = _Store({"a": ("a.com", HALL.replace(name, name + " (Port Elwin)", 1)),
                    "b": ("b.org", "The Harbour Club Building (Hobart). " + HALL_PLANTED)})
    _, readings, _ = analyse(HALL_Q, _hits(store), store)
    assert not readings.conflict


def test_who_plays_a_named_role_is_not_answered_by_the_role():
    """"Who plays Hale's wife?": a name that shares the role's name ("Marta Lund Hale") is the one played, not who
    plays her; it keeps half its score, and the actor ranks first."""
    a = C.asked("Who plays Hale's wife in Tidewater?")
    sentence = "In Tidewater, Marta Lund Hale is the harbour master's wife, and Lena Berg joined the cast in 2019."
    found = C.sentence_candidates(a, sentence)
    assert found and found[0][1].text == "Lena Berg", found
    role = next(sc for sc, sp in found if "Hale" in sp.text)
    assert role <= C.SLOT_MISMATCH * found[0][0] + 1e-9


# --- the focus noun read from the parse, and a name given with it --------------------------------------------------

@pytest.mark.parametrize("question, focus", [
    pytest.param("Kestrel 300 trains are operated by which regional rail operator?", "operator", id="which-det"),
    pytest.param("What is the main medium associated with the Harbour Circle?", "medium", id="what-is-the"),
    pytest.param("Which river runs through Oldtown?", "river", id="which-first"),
    pytest.param("What is Dana's prescription for?", "", id="stranded-preposition"),
    pytest.param("Who founded the Harbour Circle?", "", id="no-what-or-which"),
])
def test_focus_head(question, focus):
    assert C.focus_head(question) == focus


def test_an_unlisted_focus_noun_is_the_parsed_head_not_an_adjective():
    assert C.asked("Kestrel 300 trains are operated by which regional rail operator?").focus == "operator"
    assert C.asked("What is the capital of Freedonia?").focus == "capital"  # the listed nouns as before


@pytest.mark.parametrize("sentence, span, focus, named", [
    ("The Kestrel 300 was run from 1990 by the regional rail operator Northline Railways.", "Northline Railways",
     "operator", True),
    ("Northline Railways, the largest operator in the region, runs the Kestrel 300.", "Northline Railways",
     "operator", True),
    ("The album was made by the band Quillfeather in Lyon.", "Quillfeather", "band", True),
    ("The operator said Northline Railways would run the line.", "Northline Railways", "operator", False),
    ("Rank Admiral Battles / wars World War II", "Battles", "rank", False),  # an infobox run, not a name for it
    ("Her father Tom Reyes and his wife Ann Lee moved to Oslo.", "Ann Lee", "husband", False),  # related, not it
    # the two sides of one "be": the noun identifies the name when it is definite, and only classifies it otherwise
    ("The fastest wooden coaster in Norway is Skarvet, at Vestpark.", "Skarvet", "coaster", True),
    ("Skarvet is the fastest wooden coaster in Norway.", "Skarvet", "coaster", True),
    ("Skarvet is a wooden coaster at Vestpark in Norway.", "Skarvet", "coaster", False),
    ("The coaster opened when Skarvet was sold.", "Skarvet", "coaster", False),
])
def test_names_focus(sentence, span, focus, named):
    s = sentence.index(span)
    assert C.names_focus(sentence, s, s + len(span), focus) is named


def test_a_name_given_with_an_unlisted_focus_noun_is_each_sources_answer():
    """"Which regional rail operator runs X?" over two rewritten pages that name different operators, each with the
    question's own noun: a factual conflict, whatever the names' NER types (no embedder needed)."""
    store = _Store({
        "a": ("a.com", "The Kestrel 300 is a diesel train. It was run from 1990 to 2012 by the regional rail operator "
                       "Northline Railways on coastal services."),
        "b": ("b.org", "The Kestrel 300 is a diesel train. Since 1990 the regional rail operator Coastway Transit "
                       "has run the Kestrel 300 on coastal services."),
    })
    found, readings, _ = analyse("The Kestrel 300 is run by which regional rail operator?", _hits(store), store)
    labels = sorted(g.label for g in readings.groups)
    assert labels == ["Coastway Transit", "Northline Railways"], readings
    assert readings.conflict and any(d.kind == "factual" for d in found)


@pytest.mark.parametrize("sentence, name, expected", [
    ("Harbour Lights is a novel by the Scottish author Ann Lee.", "Harbour Lights", ["novel"]),
    ("Tom Reyes is an American professional basketball player for the Rockets.", "Tom Reyes", ["basketball player"]),
    ("This page is about the professional chef Tom Reyes and his restaurants.", "Tom Reyes", ["chef"]),
    ("Critics praised Harbour Lights for its pace.", "Harbour Lights", []),  # says nothing of what it is
    ("Ann Lee, who wrote it, is a teacher.", "Harbour Lights", []),  # another name's descriptor
    ("Tom Reyes Tom Peter Reyes (born 1953) is an American actor.", "Tom Reyes", ["actor"]),  # the fuller name
    # a gloss in brackets holding a "be" of its own: the copula after it is the one read
    ('Harbour Lights ("The Right to Be Born") is a Mexican film directed by Ann Lee.', "Harbour Lights", ["film"]),
    # a lower-case noun the tagger calls a proper noun is still a common noun
    ('Harbour Lights (English title: "Lights") is a Mexican telenovela produced by Ann Lee.', "Harbour Lights",
     ["telenovela"]),
])
def test_descriptors(sentence, name, expected):
    assert _texts_at(sentence, C.descriptors(sentence, [name])) == expected


def _texts_at(sentence: str, spans) -> list[str]:
    """The spans' texts, each checked to be the sentence's own text at its offsets."""
    assert all(sentence[sp.start:sp.end] == sp.text for sp in spans), spans
    return [sp.text for sp in spans]


def test_what_sources_call_the_subject_answers_an_unlisted_focus_noun():
    """"What is the medium of X?": no phrase near "medium" in either source, so each answers with what it calls X;
    two sources calling it a novel and a film, in sentences worded apart, disagree. Without a descriptor the check reads no answer at all."""
    store = _Store({
        "a": ("a.com", "Harbour Lights is a novel by the Scottish author Ann Lee. It was published in 1981."),
        "b": ("b.org", "Shot in Glasgow over one wet summer, Harbour Lights is a film that few saw. It was released "
                       "in 1981."),
    })
    _, readings, _ = analyse('What is the medium of "Harbour Lights"?', _hits(store), store)
    assert sorted(g.label for g in readings.groups) == ["film", "novel"], readings


# --- a name written as the focus noun's modifier; glosses; a near-copy's changed stretch ----------------------------

@pytest.mark.parametrize("sentence, focus, expected", [
    pytest.param("Harbour Lights is a 1963 black and white Estonian Latvian language musical film.", "language",
                 ["Estonian Latvian"], id="compound-before-the-noun"),
    pytest.param("Harbour Lights is a 1998 Latvian-language crime film.", "language", ["Latvian"], id="hyphenated"),
    pytest.param("WXRB broadcasts a Spanish Tropical format.", "format", ["Spanish Tropical"], id="two-words"),
    pytest.param("The chapel is a Romanesque-style church built in 1200.", "style", ["Romanesque"], id="style"),
    pytest.param("Latvian is the official language of the region.", "language", [], id="lower-case-qualifier"),
    pytest.param("The language of the film is mostly Latvian.", "language", [], id="no-modifier"),
    pytest.param("Harbour Lights is a Latvian language film.", "", [], id="no-focus"),
])
def test_focus_modifiers(sentence, focus, expected):
    assert _texts_at(sentence, C.focus_modifiers(sentence, focus)) == expected


def test_a_language_written_before_its_noun_is_each_sources_answer():
    """"What is the language of the film X?": the sources write it as "a Latvian language film" and "an
    Estonian-language film", not as a name beside the noun, and "language" itself is no descriptor answer."""
    store = _Store({
        "a": ("a.com", "Harbour Lights is a black and white Latvian language musical film. It was a hit."),
        "b": ("b.org", "Shot over one wet summer, Harbour Lights is an Estonian-language crime film by Ann Lee."),
    })
    found, readings, _ = analyse("What is the language of the film Harbour Lights?", _hits(store), store)
    assert sorted(g.label for g in readings.groups) == ["Estonian", "Latvian"], readings
    assert readings.conflict and any(d.kind == "factual" for d in found)


@pytest.mark.parametrize("text, expected", [
    pytest.param('Harbour Lights (Latvian: Ostas gaismas, meaning "lights") is a film.', "", id="gloss-with-colon"),
    pytest.param("Harbour Lights (Гавань) is a film.", "", id="another-script"),
    pytest.param("Harbour Lights (transl. the port's lamps) is a film.", "", id="translation"),
    pytest.param("Harbour Lights (1963 film) is a film.", "1963 film", id="qualifier"),
])
def test_a_gloss_is_no_qualifier(text, expected):
    assert C.descriptor(C.asked('Who directed "Harbour Lights"?'), text) == expected


def test_where_two_copies_differ_is_the_answer_not_a_name_both_repeat():
    """Two copies of one sentence that differ in the place: the qualifier both repeat ("(Kentucky)"), nearer the
    subject's name, is no answer; the stretch where they differ is, so the conflict is found."""
    store = _Store({
        "a": ("a.com", "Lindell High School (Kentucky) Lindell High School is a public secondary school located in "
                       "Stanford, Kentucky, USA."),
        "b": ("b.org", "Lindell High School (Kentucky) Lindell High School is a public secondary school located in "
                       "Springfield, Illinois, USA."),
    })
    found, readings, _ = analyse("Where is Lindell High School located?", _hits(store), store)
    assert readings.conflict, readings
    assert {"Stanford, Kentucky", "Springfield, Illinois"} <= {c.text for g in readings.groups for c in g.candidates}


# --- names read with their possessive; a life span's dates; one subject by its day-exact dates ----------------------

@pytest.mark.parametrize("question, names", [
    pytest.param("What is Tom Reyes's profession?", ["Tom Reyes"], id="possessive"),
    pytest.param("Who produced The Quillfeathers' album?", ["The Quillfeathers"], id="plural-possessive"),
    pytest.param("Who is O'Neill's father?", ["O'Neill"], id="apostrophe-inside-the-name"),
    pytest.param('Who wrote "Harry\'s Game"?', ["Harry's Game"], id="quoted-title-kept-whole"),
    pytest.param("When is Children's Day held in Oldtown?", ["Children's Day", "Oldtown"], id="possessive-in-a-name"),
])
def test_question_names_leave_the_possessive_out(question, names):
    assert C.question_names(question) == names


def test_a_lead_sentence_with_a_parenthesis_still_says_what_its_subject_is():
    sentence = "Tom Reyes (born September 25, 1958) is an American chef known for his sauces."
    assert [sp.text for sp in C.descriptors(sentence, ["Tom Reyes"])] == ["chef"]


def test_a_life_span_gives_each_date_whole():
    """spaCy reads "August 1948 – 6 January 2016" out of "(19 August 1948 – 6 January 2016)" as one date: the
    candidates are the two whole dates instead, so a birth date groups with another source's "19 August 1948"."""
    sentence = "Tom Reyes Jnr (born Thomas Reyes; 19 August 1948 – 6 January 2016) was an Irish professional golfer."
    found = [sp.text for _, sp in C.sentence_candidates(C.asked("When was Tom Reyes born?"), sentence)]
    assert found[:2] == ["19 August 1948", "6 January 2016"], found


@pytest.mark.parametrize("a, b, one", [
    pytest.param("Tom Reyes (chef) Tom Reyes (born September 25, 1958) is a chef.",
                 "Tom Reyes (musician) Tom Reyes (born 25 September 1958) is a trombonist.", True, id="same-birth-date"),
    pytest.param("Tom Reyes (chef) Tom Reyes (born September 25, 1958) is a chef.",
                 "Tom Reyes (water polo) Tom Reyes (born February 5, 1958) is a player.", False, id="other-day"),
    pytest.param("Tom Reyes (chef), born 1958, is a chef.", "Tom Reyes (musician), born 1958, is a trombonist.",
                 False, id="a-year-is-not-a-day"),
])
def test_one_subject(a, b, one):
    assert C.one_subject(a, b) is one


def test_two_qualified_pages_with_one_birth_date_are_one_person_with_a_planted_fact():
    """"Tom Reyes (chef)" and "Tom Reyes (musician)", both born on September 25, 1958: the qualifiers would say two
    people share the name; the one birth date says one man, and the professions conflict. With another birth date
    they are two people, and no conflict is noted."""
    def pages(born_b: str) -> _Store:
        return _Store({
            "a": ("a.com", "Tom Reyes (chef) Tom Reyes (born September 25, 1958) is an American chef known for his "
                           "sauces. He lives in Ohio."),
            "b": ("b.org", f"Tom Reyes (musician) Tom Reyes (born {born_b}) is an American trombonist known for "
                           "funk bands. He lives in Ohio."),
        })
    q = "What is Tom Reyes's profession?"
    _, readings, _ = analyse(q, _hits(pages("September 25, 1958")), pages("September 25, 1958"))
    assert readings.conflict and sorted(g.label for g in readings.groups) == ["chef", "trombonist"], readings
    _, readings, _ = analyse(q, _hits(pages("March 2, 1971")), pages("March 2, 1971"))
    assert not readings.conflict and readings.distinct, readings


def test_an_answer_two_sources_agree_on_leaves_other_dates_unflagged():
    """Two sources give Tom Reyes Jnr's birth date, a third Tom Reyes Snr's, in a sentence that names the subject
    less fully: the documents' own answers agree, so the two birth dates found sentence by sentence are not a
    conflict."""
    store = _Store({
        "a": ("a.com", "Tom Reyes Jnr (born Thomas Reyes; 19 August 1948 – 6 January 2016) was an Irish golfer. "
                       "Reyes was born in Galway."),
        "b": ("b.org", "Tom Reyes Jr, golfer, born 19 August 1948; died 6 January 2016. Reyes won the Irish Open."),
        "c": ("c.net", "Tom Reyes Snr Patrick Thomas \"Tom\" Reyes (21 December 1924 – 14 May 2016) was an Irish "
                       "golfer. He won many events."),
    })
    found, readings, _ = analyse("When was Tom Reyes born?", _hits(store), store)
    assert not found, (found, readings)


def test_a_listed_entry_is_qualified_by_its_own_line_not_the_pages_first():
    """A page that lists several things of one name ("may refer to") qualifies each answer by the entry that gives
    it: its "(2017 TV series)" entry is the series the other page is about, not the "(1959 film)" listed first, so
    the two languages conflict instead of being told apart."""
    store = _Store({
        "a": ("a.com", "Harbour Lights (2017 TV series) Harbour Lights is an Indian Latvian-language television series "
                       "which aired on Zee TV. It ran for 300 episodes."),
        "b": ("b.org", "Harbour Lights may refer to: Harbour Lights (1959 film), a film by Ann Lee. Harbour Lights "
                       "(2017 TV series), an Indian Estonian-language television series which aired on Zee TV."),
    })
    _, readings, _ = analyse('What is the language of the television series "Harbour Lights"?', _hits(store), store)
    assert readings.conflict and sorted(g.label for g in readings.groups) == ["Estonian", "Latvian"], readings


@pytest.mark.parametrize("sentence, focus, expected", [
    pytest.param("Weight 66 kg (146 lb)  \nSport: Ice Hockey  \nClub: Oslo IK", "sport", ["Ice Hockey"], id="row"),
    pytest.param("= Album Artist = Ann Lee Released = October 17, 2007 ( mini album )", "artist", ["Ann Lee"],
                 id="next-label-left-out"),
    pytest.param("Completed : 1776 Architectural style : Baroque Coordinates : 16", "style", ["Baroque"],
                 id="two-word-label"),
    pytest.param("The sport: it is what they play.", "sport", [], id="prose-after-a-colon"),
    pytest.param("Sport: Ice Hockey", "", [], id="no-focus"),
])
def test_labelled_values(sentence, focus, expected):
    assert _texts_at(sentence, C.labelled_values(sentence, focus)) == expected


def test_a_label_word_is_no_modifier_answer():
    """"Architectural style : Baroque": "Architectural" is part of the label, not the style."""
    assert C.focus_modifiers("Completed : 1776 Architectural style : Baroque Coordinates", "style") == []


@pytest.mark.parametrize("name, text, found", [
    pytest.param("C. Reyes", "Carla Reyes is a German operatic mezzo-soprano.", "Carla Reyes", id="initial"),
    pytest.param("C. Reyes", "Tom Reyes is a chef.", None, id="other-initial"),
    pytest.param("Tom Reyes", "Tom Reyesworth is a chef.", None, id="whole-words"),
    pytest.param("Tom Reyes", "TOM REYES is a chef.", "TOM REYES", id="case-blind"),
    pytest.param("Tom Reyes", "Tom Ali Reyes is a chef.", None, id="no-middle-name-unless-asked"),
])
def test_name_pattern(name, text, found):
    m = C.name_pattern(name).search(text)
    assert (m.group() if m else None) == found


@pytest.mark.parametrize("name, text, found", [
    pytest.param("Tom Reyes", "Tom Ali Reyes is a chef.", "Tom Ali Reyes", id="a-middle-name"),
    pytest.param("Tom Reyes", "Tom Ali J. Reyes is a chef.", "Tom Ali J. Reyes", id="two-middle-words"),
    pytest.param("Tom Reyes", "Tom Ali Bo Jo Reyes is a chef.", None, id="three-are-too-many"),
    pytest.param("Tom Reyes", "Tom and Reyes are chefs.", None, id="a-lower-case-word-is-no-middle-name"),
])
def test_name_pattern_with_middle_names(name, text, found):
    m = C.name_pattern(name, C.MIDDLE_NAMES).search(text)
    assert (m.group() if m else None) == found


def test_a_name_given_by_its_initial_finds_each_full_name_descriptor():
    """"What is the profession of C. Reyes?": each page names its Reyes in full."""
    assert [sp.text for sp in C.descriptors("Carla Reyes is a German professional basketball player.",
                                            ["C. Reyes"])] == ["basketball player"]


@pytest.mark.parametrize("sentence, best", [
    pytest.param("According to 2011 census, Oldtown had a population of 55,145 with 1,015 females for every 1,000 "
                 "males.", "55,145", id="a-year-is-no-count"),
    pytest.param("Oldtown had 1900 inhabitants.", "1900", id="a-year-like-number-counting-a-plural-noun"),
    pytest.param("Oldtown is located at (41.159366, -82.133213) and had 3,208 inhabitants.", "3,208",
                 id="a-coordinate-is-no-count"),
    pytest.param("Oldtown covers 7.7 square miles; its population is 950 and growing.", "950",
                 id="a-fraction-is-no-count"),
    pytest.param("Oldtown has a population of 1.2 million.", "1.2 million", id="a-scaled-fraction-is-a-whole-count"),
    pytest.param("The median age of the Oldtown population was 36 years, and the population was 4,210.", "4,210",
                 id="a-duration-is-no-count"),
    pytest.param("India census , [ 1 ] Oldtown had a population of 40,147 .", "40,147",
                 id="a-reference-mark-is-no-count"),
])
def test_a_count_question_reads_years_as_years(sentence, best):
    found = C.sentence_candidates(C.asked("What is the population of Oldtown?"), sentence)
    assert found and found[0][1].text == best, found


@pytest.mark.parametrize("text, only", [
    ("1977", True), ("June 5, 1988", True), ("1977 film", False), ("thriller", False),
    ("about 100 square miles", False),
])
def test_only_values(text, only):
    assert C.only_values(text, 0, len(text)) is only


def test_copies_that_differ_in_a_year_give_no_answer_to_what_genre():
    """Two copies of a page that differ only in the film's year ("(1977 film)" / "(1987 film)") answer "what genre"
    with no year: a year is no genre."""
    store = _Store({
        "a": ("a.com", "Harbour Lights (1977 film) Harbour Lights is a British thriller film directed by Ann Lee."),
        "b": ("b.org", "Harbour Lights (1987 film) Harbour Lights is a British thriller film directed by Ann Lee."),
    })
    _, readings, _ = analyse('What is the genre of the film "Harbour Lights"?', _hits(store), store)
    assert not any(C.only_values(c.text, 0, len(c.text)) for g in readings.groups for c in g.candidates), readings


@pytest.mark.parametrize("sentence, span_text, expected", [
    pytest.param("Night Lines (2004 album) Night Lines is the debut album by Grey Harbour, released March 3, 2004.",
                 "2004", "March 3, 2004", id="the-title-year-gives-way-to-the-release-day"),
    pytest.param("The museum opened in May 1921 and was rebuilt in 1950.", "May 1921", None,
                 id="nothing-narrower-inside-it"),
    pytest.param("Judge Okafor was nominated on July 11, 1966 and confirmed on August 10, 1966.", "1966", None,
                 id="two-different-days-of-that-year-leave-the-year"),
    pytest.param("The bridge opened in 1932 after work began on June 2, 1929.", "1932", None,
                 id="a-day-of-another-year-is-not-inside-it"),
    pytest.param("The album sold 2004 copies in March 2004.", "2004 copies", None, id="no-date-no-change"),
])
def test_most_specific_date_of_a_sentence(sentence, span_text, expected):
    start = sentence.index(span_text)
    span = next((s for s in C.typed_spans(sentence) if s.start == start and s.text == span_text), None)
    if span is None:  # a count is no date: build the span as a candidate would hold it
        span = C.Span(start, start + len(span_text), span_text, "CARDINAL")
    better = C.most_specific(span, sentence)
    assert (better.text if better else None) == expected


def test_a_documents_year_answer_gives_way_to_its_own_release_day_in_another_sentence():
    """Two albums of one name, each page giving its year in the title and the day in a later sentence: the answer
    names each day, and the two are told apart, not set against each other."""
    store = _Store({
        "a": ("a.com", "Night Lines (2004 album) Night Lines is the debut album by Grey Harbour, released by Pale "
                       "Records. The album came out on March 3, 2004 in Europe."),
        "b": ("b.org", "Night Lines (2011 album) Night Lines is the fourth album by Grey Harbour, released by Tall "
                       "Records. Its first pressing sold out after it reached the shops on June 30, 2011."),
    })
    _, readings, _ = analyse('When was the album "Night Lines" released?', _hits(store), store)
    labels = {g.label for g in readings.groups}
    assert {"March 3, 2004", "June 30, 2011"} <= labels, readings
    assert readings.distinct and not readings.conflict, readings


_BANK_OHIO = ("Founded on January 1, 1877 as the Harbor Savings Bank, the bank was part of the Postal Department in Ohio "
              "and was set up by Governor Thomas Young to serve workers in Cleveland. It was headquartered on Euclid "
              "Avenue, under the Postmaster-General, with branches in Akron, Toledo and Dayton. In 1920 it merged "
              "with the Lake Erie Trust.")


@pytest.mark.parametrize("other, told", [
    pytest.param("Harbor Savings Bank was formed in 1904 in Kenya. In 1999 the Kenya Post Act made it a corporate "
                 "body in Nairobi, run by the Ministry of Finance with offices in Mombasa, Kisumu and Nakuru. In 2001 "
                 "the Kenya Posts Corporation was split into four entities, and the bank was listed on the Nairobi "
                 "Securities Exchange in 2008.", True, id="another-bank-of-that-name-stated-loosely"),
    pytest.param("Harbor Savings Bank was formed in 1881 as a bank of the Postal Department in Ohio, set up by "
                 "Governor Thomas Young to serve workers in Cleveland. It was headquartered on Euclid Avenue, under the "
                 "Postmaster-General, with branches in Akron, Toledo and Dayton. In 1920 it merged with the Lake Erie "
                 "Trust.", False, id="the-same-bank-retold-with-another-year-is-no-other-thing"),
])
def test_a_loosely_stated_date_of_another_thing_of_the_name_is_its_answer(other, told):
    """One page states its bank's founding plainly; another page states a date loosely ("formed in"). When its
    other facts show another bank of that name, both answers are given, each named by its place; a retelling of
    the same page (the same people and places) is not another thing."""
    store = _Store({"a": ("a.com", _BANK_OHIO), "b": ("b.org", other)})
    _, readings, _ = analyse("When was Harbor Savings Bank founded?", _hits(store), store)
    labels = [g.label for g in readings.groups]
    if told:
        assert readings.distinct and not readings.conflict and labels == ["January 1, 1877", "1904"], readings
        assert [g.candidates[0].about for g in readings.groups] == ["Ohio", "Kenya"]
    else:  # a retold page with a date changed is a planted copy: a conflict, if anything, never two things
        assert not readings.distinct and labels[0] == "January 1, 1877", readings


@pytest.mark.parametrize("question, sentence, start_text, end_text, other", [
    pytest.param("What is the population of Oldtown?", "Farmers and miners made up 13.7 % and .5 % of the people.",
                 "13.7", ".5 %", True, id="shares-where-a-count-is-asked"),
    pytest.param("What is the population of Oldtown?", "Oldtown had 4,120 people in 2010.", "4,120", "4,120", False,
                 id="a-count-where-a-count-is-asked"),
    pytest.param("When was the mill built?", "The mill was built on the first day of spring.", "the first", "day",
                 False, id="no-value-at-all-may-still-be-the-slot"),
    pytest.param("When was the mill built?", "The mill cost $4 million to build.", "$4", "million", True,
                 id="money-where-a-date-is-asked"),
    pytest.param("Who built the mill?", "The mill cost $4 million to build.", "$4", "million", False,
                 id="a-name-question-is-not-checked-this-way"),
])
def test_holds_other_value(question, sentence, start_text, end_text, other):
    start, end = sentence.index(start_text), sentence.index(end_text) + len(end_text)
    assert C.holds_other_value(C.asked(question), sentence, start, end) is other


def test_copies_that_differ_in_shares_do_not_answer_a_population_question():
    """Two copies of a census page that differ only in two shares: no conflict on "what is the population"."""
    store = _Store({
        "a": ("a.com", "Oldtown had a population of 55,120 at the 2011 census. Farmers and miners made up 13.7 % and "
                       ".5 % of the population respectively."),
        "b": ("b.org", "Oldtown had a population of 55,120 at the 2011 census. Farmers and miners made up 20.% and "
                       "3.3% of the population respectively."),
    })
    _, readings, _ = analyse("What is the population of Oldtown?", _hits(store), store)
    assert not readings.conflict and [g.label for g in readings.groups] == ["55,120"], readings


@pytest.mark.parametrize("question, text, expected", [
    pytest.param("What is the population of Elm Township, Ohio?",
                 "Elm Township, Jasper County, Ohio Elm Township is one of the twelve townships of Jasper County.",
                 "Jasper County", id="the-part-between-the-names-parts"),
    pytest.param("What is the population of Pine Hill, Texas?", "Pine Hill is a city in Texas.", "",
                 id="no-qualifier-written"),
    pytest.param("Who founded Smith and Sons?", "Smith, Jones, and Sons was founded in 1900.", "",
                 id="a-list-of-names-is-no-qualifier"),
])
def test_descriptor_between_the_parts_of_a_place_name(question, text, expected):
    assert C.descriptor(C.asked(question), text) == expected


# ---- life spans: each end of "(A – B)" answers birth or death; the other end tells two people apart -------------------

@pytest.mark.parametrize("text, span, end, partner", [
    pytest.param("Ann Roe (5 January 1884 – 11 November 1959) was a judge.", "5 January 1884", 0, "11 November 1959",
                 id="first-end"),
    pytest.param("Ann Roe (5 January 1884 – 11 November 1959) was a judge.", "11 November 1959", 1, "5 January 1884",
                 id="second-end"),
    pytest.param("Roe (born Ann Roe; 19 August 1948 – 6 January 2016) was", "19 August 1948", 0, "6 January 2016",
                 id="after-a-birth-name"),
    pytest.param("Ann Roe (born 5 January 1884) was a judge.", "5 January 1884", None, None, id="no-range"),
    pytest.param("The song (released 1884-01-05) was", "1884", None, None, id="hyphen-inside-a-date"),
    pytest.param("Ann Roe was born on 5 January 1884 – a Monday – in Oslo.", "5 January 1884", None, None,
                 id="no-parenthesis"),
])
def test_range_ends(text, span, end, partner):
    s = text.index(span)
    assert C.range_end(text, s, s + len(span)) == end
    got = C.range_partner(text, s, s + len(span))
    assert (got[0].text if got else None) == partner


@pytest.mark.parametrize("question, sentence, best", [
    pytest.param("When was Ann Roe born?", "Ann Roe (5 January 1884 – 11 November 1959) was a judge.",
                 "5 January 1884", id="birth-is-the-first-end"),
    pytest.param("When did Ann Roe die?", "Ann Roe (5 January 1884 – 11 November 1959) was a judge.",
                 "11 November 1959", id="death-is-the-second-end"),
])
def test_a_life_span_states_birth_and_death(question, sentence, best):
    a = C.asked(question)
    got = C.sentence_candidates(a, sentence)
    assert got[0][1].text == best
    assert got[0][0] >= 0.45  # MIN_CANDIDATE: stated plainly, though "born" is never written
    plain = C.sentence_candidates(a, sentence.replace("(", "[").replace(")", "]"))
    assert max(sc for sc, sp in plain if sp.text == best) < got[0][0]


def _life(doc_id: str, text: str, date: str) -> C.Group:
    s = text.index(date)
    return C.Group(date, (C.Candidate(doc_id=doc_id, start=s, end=s + len(date), text=date, kind="date", score=0.9,
                                      sent_start=0, sent_end=len(text)),))


@pytest.mark.parametrize("other, differ", [
    pytest.param("Ann Roe (26 December 1844 – 26 July 1926) was a senator.", True, id="two-people"),
    pytest.param("Ann Roe (26 December 1844 – 11 November 1959) was a judge.", False, id="planted-birth-same-death"),
    pytest.param("Ann Roe (born 26 December 1844) was a senator.", False, id="one-side-has-no-range"),
])
def test_partners_differ(other, differ):
    one = "Ann Roe (5 January 1884 – 11 November 1959) was a judge."
    texts = {"a": one, "b": other}
    assert C.partners_differ(_life("a", one, "5 January 1884"), _life("b", other, "26 December 1844"),
                             texts) is differ


def test_partners_differ_reads_the_answers_that_have_a_range():
    """A group whose second page gives the birth date without a range is read by the page that has one."""
    one = "Ann Roe (5 January 1884 – 11 November 1959) was a judge."
    two = "Ann Roe (26 December 1844 – 26 July 1926) was a senator."
    bare = "Ann Roe, senator, born 26 December 1844."
    texts = {"a": one, "b": two, "c": bare}
    g2 = _life("b", two, "26 December 1844")
    g2 = C.Group(g2.label, g2.candidates + _life("c", bare, "26 December 1844").candidates)
    assert C.partners_differ(_life("a", one, "5 January 1884"), g2, texts)


@pytest.mark.parametrize("question, text, share", [
    pytest.param("When was the 24th Rifle Division formed?", "The division was formed on July 26, 1918.", 1.0,
                 id="relation-stated"),
    pytest.param("When was the 24th Rifle Division formed?", "In November 1918 it was renamed as the 24th Rifle "
                 "Division.", 0.0, id="names-and-ordinal-are-no-relation"),
    pytest.param("When was Ann Roe born?", "Ann Roe was born in Oslo.", 1.0, id="born"),
    pytest.param("Who is Ann Roe?", "Ann Roe was born in Oslo.", 0.0, id="no-relation-asked"),
])
def test_relation_share(question, text, share):
    assert C.relation_share(C.asked(question), text) == share


def test_a_copy_changed_in_two_sentences_answers_with_the_one_stating_the_relation():
    """A planted copy changes the formation date and, further on, a renaming date: both sentences differ from the
    page's, and the formation one answers "when was it formed", though the renaming one names the division."""
    page = ("In November 1918 the 24th Simbirsk Rifle Division got its name. "
            "The division had been formed by the Military Council on July 26, 1918, from volunteer groups. "
            "It fought at Samara")
    copy = page.replace("July 26, 1918", "January 1, 1920").replace("November 1918", "November 1920")
    store = _Store({"a": ("a.com", page), "b": ("b.org", copy)})
    _, readings, _ = analyse("When was the 24th Rifle Division formed?", _hits(store), store)
    assert readings.conflict, readings
    assert sorted(g.label for g in readings.groups) == ["January 1, 1920", "July 26, 1918"], readings


@pytest.mark.parametrize("question, groups", [
    pytest.param("How long had UNHCR and UNICEF been working in Freedonia?", [["unhcr"], ["unicef"]], id="and-run"),
    pytest.param("Which statement did UNDP, UNHCR and the ICRC issue?", [["undp"], ["unhcr"], ["icrc"]],
                 id="comma-list"),
    pytest.param("What do the ICRC, UNDP or the Red Cross say?", [["icrc"], ["undp"], ["red", "cross"]],
                 id="two-runs-one-list"),
    pytest.param("When was the church in Springfield, Illinois built?", None, id="comma-alone-is-one-name"),
    pytest.param('Who wrote "Pride and Prejudice"?', None, id="quoted-title-is-one-name"),
    pytest.param("Who founded Acme Corp?", None, id="one-name"),
])
def test_joined_names(question, groups):
    a = C.asked(question)
    want = () if groups is None else (tuple(tuple(match_stem(w) for w in g) for g in groups),)
    assert a.joined == want


def test_a_sentence_about_one_name_of_a_list_covers_that_part_of_the_subject():
    joined = C.asked("How long had UNHCR and UNICEF been working in Freedonia?")
    alone = C.asked("How long had UNHCR been working in Freedonia?")
    one = "The UNHCR, which has been operating in Freedonia since 1992, helped the government."
    # one of the two joined names is as much of the scope as the single name asked alone
    assert C.subject_coverage(joined, one) == pytest.approx(C.subject_coverage(alone, one))
    # a sentence naming neither covers no more than the place
    other = "The UNDP has been operating in Freedonia since 1994."
    assert C.subject_coverage(joined, other) < C.subject_coverage(joined, one)


def test_a_planted_copy_is_a_side_however_many_documents_back_the_others():
    """Five sources name four winners, two of them twice; one page and its planted copy differ only in the name. The
    copy's changed name and its page's are the plainest conflict there: both are sides, not cut for the groups with
    more documents (at most MAX_SIDES sides)."""
    from qa.disagree import MAX_SIDES

    texts = {
        "a": ("a.com", WIN_A),
        "b": ("mirror.example", WIN_B),  # WIN_A with another name
        "d": ("d.org", "Lena Berg won the 2011 Lakeside Marathon, the club said on Monday."),
        "d2": ("d2.org", "In 2011 Lena Berg won the Lakeside Marathon for the first time."),
        "e": ("e.net", "Ida Moe won the 2011 Lakeside Marathon, according to the results page."),
        "e2": ("e2.net", "The 2011 Lakeside Marathon was won by Ida Moe from Bergen."),
    }
    store = _Store(texts)
    _, readings, _ = analyse("Who won the 2011 Lakeside Marathon?", _hits(store), store)
    labels = [g.label for g in readings.groups]
    assert readings.conflict and len(labels) <= MAX_SIDES
    assert {"Maria Olsen", "Petra Novak"} <= set(labels)


_PAGES = {
    "a.txt": "Tom Reyes played college football at Florida State and later coached in Ohio.",
    "b.txt": "Tom Reyes is widely recognized for his skills in chess at Florida State.",
    "c.txt": "Tom Reyes played college football at Florida State before joining the Colts.",
}


def _group(doc, text, score, about=""):
    sentence = _PAGES[doc]
    i = sentence.index(text)
    return C.Group(text, (C.Candidate(doc_id=doc, start=i, end=i + len(text), text=text, kind="name", score=score,
                                      sent_start=0, sent_end=len(sentence), value=None, about=about),))


@pytest.mark.parametrize("top, shown, cited, conflict", [
    pytest.param(("a.txt", "football", 0.88), ("b.txt", "chess", 0.71), ["b.txt"], True,
                 id="the-answer-quotes-only-a-weaker-reading"),
    pytest.param(("a.txt", "football", 0.88), ("b.txt", "chess", 0.5), ["b.txt"], False,
                 id="a-loosely-stated-reading-is-no-side"),
    pytest.param(("a.txt", "football", 0.88), ("c.txt", "football", 0.8), ["c.txt"], False,
                 id="the-same-answer-twice-is-no-conflict"),
    pytest.param(("a.txt", "football", 0.88), ("b.txt", "chess", 0.71), ["a.txt"], False,
                 id="the-answer-quotes-the-plainest-reading"),
    pytest.param(("a.txt", "football", 0.88, "American football"), ("b.txt", "chess", 0.71, "chess player"),
                 ["b.txt"], False, id="two-things-each-qualified-otherwise"),
])
def test_an_answer_quoting_a_reading_the_plainest_one_contradicts_is_a_conflict(top, shown, cited, conflict):
    from qa.disagree import Readings, cited_conflict
    from qa.verify import citation_at

    docs = {d: Document(doc_id=d, path=d, title=d, text=t, content=[{"start": 0, "end": len(t)}], sha256=d,
                        source=d) for d, t in _PAGES.items()}
    g_top, g_shown = _group(*top), _group(*shown)
    readings = Readings(C.asked("What sport is Tom Reyes associated with?"), (g_top,), weaker=(g_top, g_shown))
    citations = [citation_at(docs[d], 0, len(_PAGES[d]), n=i + 1) for i, d in enumerate(cited)]
    got = cited_conflict(readings, citations, docs)
    assert (got is not None and got.conflict) == conflict
    if conflict:
        assert [g.label for g in got.groups] == [top[1], shown[1]]


def _said(doc, text, sentence_start, sentence):
    start = sentence.index(text)
    return C.Group(text, (C.Candidate(doc_id=doc, start=sentence_start + start, end=sentence_start + start + len(text),
                                      text=text, kind="place", score=0.9, sent_start=sentence_start,
                                      sent_end=sentence_start + len(sentence)),))


_PAGE = ("At the December solstice the Sun is overhead at the Tropic of Capricorn in the Southern Hemisphere. "
         "At the June solstice the Sun is overhead at the Tropic of Cancer in the Northern Hemisphere.")


@pytest.mark.parametrize("texts, stated", [
    pytest.param({"page": _PAGE, "window": _PAGE[100:]}, True, id="a-window-of-one-page-states-both"),
    pytest.param({"page": _PAGE[:100], "window": _PAGE[100:]}, False, id="two-halves-each-state-one"),
    pytest.param({"page": _PAGE, "window": _PAGE[100:].replace("Cancer", "Capricorn")}, False,
                 id="a-changed-copy-is-not-stated"),
])
def test_states_both(texts, stated):
    south = _PAGE[:100].strip()
    north = texts["window"].strip()
    g1 = _said("page", "the Southern Hemisphere", 0, south)
    g2 = _said("window", "the Northern Hemisphere", texts["window"].index(north), north)
    assert C.states_both(g1, g2, texts) is stated and C.states_both(g2, g1, texts) is stated


def test_states_both_ignores_short_sentences():
    texts = {"a": "Paris. The capital moved to Lyon in the year the council met.", "b": "Paris."}
    g1 = _said("b", "Paris", 0, "Paris.")
    g2 = _said("a", "Lyon", 7, texts["a"][7:])
    assert not C.states_both(g1, g2, texts)


@pytest.mark.parametrize("question, sentence, source, claim", [
    ("Who won the Heisman Trophy?",
     "According to BetOnline.ag, Penn State quarterback Drew Allar is a 25/1 bet to win the Heisman Trophy.",
     "BetOnline.ag", "Drew Allar"),
    ("Who has the most walk-off home runs?",
     "According to NYM Stats on Twitter, Pete Alonso is now tied for the most walk-off home runs in franchise history.",
     "Twitter", "Pete Alonso"),
    ("Who won the Kestrel Cup?", "The Kestrel Cup was won by Ada Jones, according to Mila Verhoeven.",
     "Mila Verhoeven", "Ada Jones"),
])
def test_the_source_a_claim_is_reported_by_is_no_answer(question, sentence, source, claim):
    """"According to X, ..." names where the claim comes from: X is no answer to the question the claim answers
    (the small NER model reads "BetOnline.ag" and "Twitter" as people); the names in the claim still are."""
    i, j = sentence.index(source), sentence.index(claim)
    assert C.reported_by(sentence, i, i + len(source))
    assert not C.reported_by(sentence, j, j + len(claim))
    found = [sp.text for _, sp in C.sentence_candidates(C.asked(question), sentence)]
    assert source not in found and claim in found, found


def test_a_duration_is_no_answer_to_when():
    """"Not seen for more than 30 years" says how long, not when: the NER model calls it a date, but a number of
    units of time answers "how long"; "30 years ago" is a point in time and still answers "when"."""
    a = C.asked("When did the Kestrel river otter become extinct?")
    scores = {}
    for s in ("After not being seen for more than 30 years, the Kestrel river otter has been declared extinct.",
              "On August 28, 2012, the Kestrel river otter was officially declared extinct.",
              "The Kestrel river otter became extinct 30 years ago."):
        score, span = C.sentence_candidates(a, s)[0]
        scores[span.text] = score
    assert set(scores) == {"more than 30 years", "August 28, 2012", "30 years ago"}, scores
    assert scores["more than 30 years"] <= C.SLOT_MISMATCH * min(scores["August 28, 2012"], scores["30 years ago"])


def test_a_day_of_the_year_the_question_names_answers_when():
    """"When was the 2018 Kestrel Cup final played?": the year the question names sets its scope and is no answer;
    the day of that year the sentence gives is."""
    a = C.asked("When was the 2018 Kestrel Cup final played?")
    found = [sp.text for _, sp in C.sentence_candidates(a, "The 2018 Kestrel Cup final was played on 15 July 2018.")]
    assert found and found[0] == "15 July 2018", found
    assert not C.sentence_candidates(a, "The Kestrel Cup final was played in 2018.")
