"""qa.verify: the citation contract (a quote is the document's text at its offsets), marker renumbering and
citation_at (pure, table-driven)."""

from __future__ import annotations

import pytest

from qa.types import Citation, Document, Span
from qa.verify import check_citations, citation_at, enforce, quote_is_valid, renumber

TEXT = "Azerbaijan joined the UN on 2 March 1992. The UN was founded in 1945. It has 193 members."
DOC = Document(doc_id="a.txt", path="/a.txt", title="Azerbaijan and the UN", source="MFA", date="2024-01-01",
               text=TEXT, sha256="0", content=(Span(start=0, end=len(TEXT)),))
DOCS = {DOC.doc_id: DOC}


def cite(n: int, needle: str, **changes) -> Citation:
    start = TEXT.index(needle)
    c = Citation(n=n, doc_id="a.txt", title=DOC.title, quote=needle, start=start, end=start + len(needle))
    return c.model_copy(update=changes)


@pytest.mark.parametrize("citation, valid", [
    pytest.param(cite(1, "The UN was founded in 1945."), True, id="exact"),
    pytest.param(cite(1, "The UN was founded in 1945.", start=TEXT.index("The UN") + 1), False, id="offset-moved"),
    pytest.param(cite(1, "The UN was founded in 1945.", quote="The UN was founded in 1946."), False, id="quote-changed"),
    pytest.param(cite(1, "The UN was founded in 1945.", doc_id="gone.txt"), False, id="unknown-document"),
    pytest.param(cite(1, "members.", end=len(TEXT) + 5), False, id="end-past-the-text"),
    pytest.param(cite(1, "The", start=-3, end=0, quote=""), False, id="negative-start"),
    pytest.param(cite(1, "The", end=TEXT.index("The"), quote=""), False, id="empty-span"),
])
def test_quote_is_valid(citation, valid):
    assert quote_is_valid(citation, DOCS) is valid


def test_check_citations_splits_kept_and_dropped_in_order():
    good1, good2 = cite(1, "Azerbaijan joined the UN on 2 March 1992."), cite(3, "It has 193 members.")
    bad = cite(2, "The UN was founded in 1945.", quote="The UN was founded in 1950.")
    kept, dropped = check_citations([good1, bad, good2], DOCS)
    assert (kept, dropped) == ([good1, good2], [bad])


@pytest.mark.parametrize("text, known, new_text, order", [
    pytest.param("A [2]. B [1].", [1, 2], "A [1]. B [2].", [2, 1], id="renumbered-by-first-use"),
    pytest.param("A [1]. B [9].", [1], "A [1]. B.", [1], id="unknown-marker-dropped"),
    pytest.param("A [3, 1].", [1, 3], "A [1] [2].", [3, 1], id="list-marker-split"),
    pytest.param("A [1]. B [1].", [1, 2], "A [1]. B [1].", [1], id="unused-citation-dropped"),
    pytest.param("A [1, 1].", [1], "A [1].", [1], id="repeated-in-one-marker"),
    pytest.param("No markers.", [1], "No markers.", [], id="no-markers"),
])
def test_renumber(text, known, new_text, order):
    needles = {1: "Azerbaijan joined the UN on 2 March 1992.", 2: "The UN was founded in 1945.",
               3: "It has 193 members.", 9: ""}
    cits = [cite(n, needles[n]) for n in known]
    got_text, got = renumber(text, cits)
    assert got_text == new_text
    assert [c.n for c in got] == list(range(1, len(order) + 1))
    assert [c.quote for c in got] == [needles[n] for n in order]


def test_enforce_drops_forged_citations_and_their_markers():
    good, forged = cite(1, "The UN was founded in 1945."), cite(2, "It has 193 members.", quote="It has 200 members.")
    text, cits, n_dropped = enforce("Founded in 1945 [1]. It has 200 members [2].", [good, forged], DOCS)
    assert (text, n_dropped) == ("Founded in 1945 [1]. It has 200 members.", 1)
    assert cits == [good]


@pytest.mark.parametrize("needle", ["Azerbaijan joined the UN on 2 March 1992.", "193", "It has 193 members."])
def test_citation_at_is_valid_by_construction(needle):
    start = TEXT.index(needle)
    c = citation_at(DOC, start, start + len(needle), n=4, score=0.5)
    assert quote_is_valid(c, DOCS) and c.quote == needle
    assert (c.n, c.doc_id, c.title, c.source, c.date, c.score) == (4, "a.txt", DOC.title, "MFA", "2024-01-01", 0.5)
