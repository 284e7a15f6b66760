"""qa.chunk: sentence spans (abbreviations, initials, quotes, over-long runs) and chunks of whole sentences, all as
offsets into the document's text (pure, table-driven)."""

from __future__ import annotations

import pytest

from qa.chunk import _MAX_SENTENCE, chunk_document, document_sentences, embed_text, split_sentences
from qa.types import Document, Span


def sentences(text: str) -> list[str]:
    return [text[s.start:s.end] for s in split_sentences(text)]


@pytest.mark.parametrize("text, expected", [
    pytest.param("The UN was founded in 1945. Azerbaijan joined in 1992.",
                 ["The UN was founded in 1945.", "Azerbaijan joined in 1992."], id="two-sentences"),
    pytest.param("Dr. Aliyev spoke. He left.", ["Dr. Aliyev spoke.", "He left."], id="title-abbreviation"),
    # an abbreviation that can end a sentence ends it before a capitalised function word, not before a name
    pytest.param("It covers vaccines, etc. The WHO chief came.", ["It covers vaccines, etc.", "The WHO chief came."],
                 id="etc-ends-a-sentence"),
    pytest.param("Apple Inc. Tim Cook spoke.", ["Apple Inc. Tim Cook spoke."], id="inc-before-a-name"),
    pytest.param("Dr. The Smith spoke.", ["Dr. The Smith spoke."], id="title-never-ends"),
    pytest.param("The letter was signed by J. Smith in Baku. It arrived.",
                 ["The letter was signed by J. Smith in Baku.", "It arrived."], id="initial"),
    pytest.param("Agencies, e.g. the UNDP, stayed. Others left.",
                 ["Agencies, e.g. the UNDP, stayed.", "Others left."], id="e.g.-lower-case-after"),
    pytest.param("It met at 5 p.m. and closed. Then it rained.",
                 ["It met at 5 p.m. and closed.", "Then it rained."], id="lower-case-word-after-dot"),
    pytest.param('He said "we will stay." Then he left.',
                 ['He said "we will stay."', "Then he left."], id="quoted-end"),
    pytest.param("Why close it? Nobody knows! Really.", ["Why close it?", "Nobody knows!", "Really."],
                 id="question-and-exclamation"),
    pytest.param("  Leading and trailing space.  \n\n", ["Leading and trailing space."], id="trimmed"),
    pytest.param("Text. ... --- . Next.", ["Text.", "Next."], id="punctuation-only-pieces-dropped"),
    pytest.param("", [], id="empty"),
])
def test_split_sentences(text, expected):
    assert sentences(text) == expected


def test_split_inside_a_span_keeps_document_offsets():
    text = "MENU Home News\nThe office closed in 2024. It had opened in 1993.\nFooter"
    start = text.index("The office")
    span = Span(start=start, end=text.index("\nFooter"))
    got = split_sentences(text, span)
    assert [text[s.start:s.end] for s in got] == ["The office closed in 2024.", "It had opened in 1993."]
    assert all(span.start <= s.start < s.end <= span.end for s in got)


def test_text_without_punctuation_is_capped_into_quotable_pieces():
    text = " ".join(f"word{i}" for i in range(1000))  # about 6,900 characters, no full stop
    got = split_sentences(text)
    assert len(got) > 1 and all(s.end - s.start <= _MAX_SENTENCE for s in got)
    assert " ".join(text[s.start:s.end] for s in got) == text  # nothing lost, nothing changed


def _doc(text: str, content: tuple[Span, ...] | None = None) -> Document:
    return Document(doc_id="d.txt", path="/d.txt", title="d", text=text, sha256="0",
                    content=content if content is not None else (Span(start=0, end=len(text)),))


SENTENCES = [f"Sentence number {i} says that the office opened in {1990 + i}." for i in range(12)]


@pytest.mark.parametrize("target, overlap", [
    pytest.param(120, 0, id="small-no-overlap"),
    pytest.param(120, 1, id="small-overlap-1"),
    pytest.param(300, 1, id="medium-overlap-1"),
    pytest.param(300, 2, id="medium-overlap-2"),
    pytest.param(10_000, 1, id="one-chunk"),
])
def test_chunks_are_whole_sentences_with_overlap(target, overlap):
    doc = _doc(" ".join(SENTENCES))
    chunks = chunk_document(doc, target_chars=target, overlap=overlap, first_id=7)
    sents = document_sentences(doc)
    assert [c.chunk_id for c in chunks] == list(range(7, 7 + len(chunks)))
    for c in chunks:
        assert c.text == doc.text[c.start:c.end] and c.doc_id == "d.txt"
        assert c.sentences[0].start == c.start and c.sentences[-1].end == c.end
        assert all(s in sents for s in c.sentences)  # whole sentences only
        assert len(c.sentences) == 1 or c.end - c.start <= target
    covered = {(s.start, s.end) for c in chunks for s in c.sentences}
    assert covered == {(s.start, s.end) for s in sents}  # every sentence in some chunk
    for a, b in zip(chunks, chunks[1:]):
        shared = [s for s in b.sentences if s in a.sentences]
        assert len(shared) == min(overlap, len(a.sentences) - 1)
    if target >= len(doc.text):
        assert len(chunks) == 1


def test_chunks_skip_boilerplate_between_content_spans():
    text = "First paragraph sentence. Another one.\nSHARE ON FACEBOOK\nSecond paragraph sentence."
    content = (Span(start=0, end=text.index("\nSHARE")), Span(start=text.index("Second"), end=len(text)))
    [chunk] = chunk_document(_doc(text, content), target_chars=1000)
    assert "FACEBOOK" in chunk.text  # the chunk spans the document between its first and last sentence...
    assert "FACEBOOK" not in embed_text(chunk, _doc(text, content))  # ...but the embedder sees only sentences
    assert embed_text(chunk, _doc(text, content)) == ("First paragraph sentence. Another one. "
                                                      "Second paragraph sentence.")
