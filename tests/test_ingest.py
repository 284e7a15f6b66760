"""Ingestion: every file type, boilerplate removal that keeps offsets, unreadable files skipped with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.chunk import chunk_document, document_sentences, split_sentences
from qa.errors import CorpusError
from qa.ingest import content_spans, date_line, decode, find_date, is_content_line, load_corpus, read_document

from .conftest import CORPUS, write


def test_every_chunk_and_sentence_of_the_real_corpus_is_its_document_text():
    report = load_corpus(CORPUS)
    assert len(report.documents) == 5 and not report.skipped
    for doc in report.documents:
        assert doc.text == Path(doc.path).read_text(encoding="utf-8")  # offsets point into the file as stored
        for chunk in chunk_document(doc):
            assert doc.text[chunk.start:chunk.end] == chunk.text
            for s in chunk.sentences:
                assert chunk.start <= s.start < s.end <= chunk.end


@pytest.mark.parametrize("line,keep", [
    pytest.param("Views: 404", False, id="views-counter"),
    pytest.param("Caliber.az © 2025. .", False, id="copyright"),
    pytest.param("share-lineLiked the story? Share it on social media!", False, id="share"),
    pytest.param("All rights reserved. Contact us to use any licensed material.", False, id="rights"),
    pytest.param("twitter", False, id="menu-item"),
    pytest.param("A+", False, id="font-button"),
    pytest.param("We use cookies to improve your experience on this website.", False, id="cookie"),
    pytest.param("The UN was established after the end of the World War II, on 24 October 1945.", True, id="prose"),
    pytest.param("It holds 55% of the global population.", True, id="short-sentence"),
    pytest.param("On January 1, 2009, 70 years after the death of his creator, the character became public domain in "
                 "most countries, but remains under copyright in the United States, where works for hire are "
                 "protected for 95 years from publication.", True, id="prose-about-copyright"),
    pytest.param("The bakery sold cookies, bread and cakes every morning, and the queue to subscribe to its weekly "
                 "box reached the corner of the street before the doors opened at seven.", True,
                 id="prose-with-cookies-and-subscribe"),
    pytest.param("He is portrayed by Kevin Tighe. Advertisement. Character.", True, id="snippet-with-an-ad-label"),
    pytest.param("Privacy | Cookies Website by Actually", False, id="footer-links"),
])
def test_boilerplate_lines(line, keep):
    assert is_content_line(line) is keep


def test_boilerplate_is_left_out_of_content_but_never_deleted():
    doc = read_document(CORPUS / "caliber-interview-rebooting-relations-with-un.txt", CORPUS)
    kept = " ".join(doc.text[s.start:s.end] for s in doc.content)
    for junk in ("Views: 404", "twitter", "Follow us on Telegram", "Caliber.az ©", "copy link"):
        assert junk in doc.text and junk not in kept
    assert "Bayramov" in kept and doc.date == "2025-03-05"


def test_recommendation_tail_is_cut():
    text = "A real article sentence about the topic at hand.\nYou May Also Like\nAn unrelated story that looks like prose here.\n"
    spans = content_spans(text)
    assert [text[s.start:s.end] for s in spans] == ["A real article sentence about the topic at hand."]


@pytest.mark.parametrize("text,expected", [
    pytest.param("Dr. Smith met Mr. Jones. They agreed.", ["Dr. Smith met Mr. Jones.", "They agreed."], id="abbrev"),
    pytest.param('"It is over," he said. Then he left.', ['"It is over," he said.', "Then he left."], id="quote"),
    pytest.param("Is it? Yes! Done.", ["Is it?", "Yes!", "Done."], id="marks"),
    pytest.param("Talks with the U.N. on 2 March. Next step.", ["Talks with the U.N. on 2 March.", "Next step."], id="un"),
    pytest.param("e.g. the first one. Fine.", ["e.g. the first one.", "Fine."], id="eg"),
    pytest.param("“We will go.” The end.", ["“We will go.”", "The end."], id="curly"),
])
def test_sentence_splitting(text, expected):
    assert [text[s.start:s.end] for s in split_sentences(text)] == expected


def test_huge_unpunctuated_text_still_gives_bounded_sentences():
    text = ("word " * 3000).strip()
    spans = split_sentences(text)
    assert len(spans) > 1 and all(s.end - s.start <= 1200 for s in spans)
    assert all(text[s.start:s.end].strip() == text[s.start:s.end] for s in spans)


@pytest.mark.parametrize("raw,iso", [
    pytest.param("05 March 2025 11:41", "2025-03-05", id="dmy"),
    pytest.param("March 5, 2025", "2025-03-05", id="mdy"),
    pytest.param("2025-03-05", "2025-03-05", id="iso"),
    pytest.param("no date here", "", id="none"),
])
def test_find_date(raw, iso):
    assert find_date(raw) == iso


def test_legacy_encodings_decode():
    assert decode("Привет, мир".encode("cp1251"))[0] == "Привет, мир"
    assert decode("café crème".encode("latin-1"))[0] == "café crème"


def _make_pdf(path: Path, text: str, password: str | None = None) -> Path:
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    w = PdfWriter()
    page = w.add_blank_page(612, 792)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): w._add_object(font)})})
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode())
    page[NameObject("/Contents")] = w._add_object(stream)
    if password:
        w.encrypt(password)
    with open(path, "wb") as fh:
        w.write(fh)
    return path


def test_each_file_type(tmp_path):
    sentence = "The harbour of Valletta was rebuilt in 1570 by the Knights of Malta."
    write(tmp_path / "a.txt", sentence + "\n")
    write(tmp_path / "b.md", "# Notes\n\n" + sentence + "\n")
    write(tmp_path / "c.html", f"<html><body><nav>Home | About</nav><article><p>{sentence}</p>"
                               f"<p>{sentence.replace('1570', '1571')}</p></article></body></html>")
    _make_pdf(tmp_path / "d.pdf", sentence)
    import docx

    d = docx.Document()
    d.add_paragraph(sentence)
    d.save(tmp_path / "e.docx")
    report = load_corpus(tmp_path)
    assert sorted(x.doc_id for x in report.documents) == ["a.txt", "b.md", "c.html", "d.pdf", "e.docx"], report.skipped
    for doc in report.documents:
        sents = [doc.text[s.start:s.end] for s in document_sentences(doc)]
        assert sentence in sents, (doc.doc_id, sents)


def test_unreadable_files_are_skipped_with_reasons(tmp_path):
    write(tmp_path / "good.txt", "A perfectly readable sentence about harbours and ships.\n")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<")
    _make_pdf(tmp_path / "locked.pdf", "secret words in a locked file", password="pw")
    report = load_corpus(tmp_path)
    assert [d.doc_id for d in report.documents] == ["good.txt"]
    reasons = dict((Path(p).name, why) for p, why in report.skipped)
    assert set(reasons) == {"empty.txt", "binary.txt", "broken.pdf", "locked.pdf"}
    assert "encrypted" in reasons["locked.pdf"] and "no readable text" in reasons["empty.txt"]


def test_missing_or_empty_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope")
    (tmp_path / "x.txt").write_text("")
    with pytest.raises(CorpusError, match="no readable document"):
        load_corpus(tmp_path)


def test_duplicates_and_symlink_loops(tmp_path):
    write(tmp_path / "a.txt", "One sentence that appears in two files, word for word.\n")
    write(tmp_path / "copy.txt", "One sentence that appears in two files, word for word.\n")
    (tmp_path / "loop").mkdir()
    (tmp_path / "loop" / "self").symlink_to(tmp_path / "loop")
    report = load_corpus(tmp_path)
    assert [d.doc_id for d in report.documents] == ["a.txt"]
    assert "duplicate" in report.skipped[0][1]


def test_a_short_note_without_prose_lines_is_still_read(tmp_path):
    write(tmp_path / "note.txt", "Harbour opened 1570\nKnights of Malta\n")
    doc = load_corpus(tmp_path).documents[0]
    assert [doc.text[s.start:s.end] for s in doc.content] == ["Harbour opened 1570", "Knights of Malta"]


@pytest.mark.parametrize("text, iso, expected", [
    pytest.param("Menu\nTitle of the piece\n\n05 March 2025 11:41\n\nBody text.", "2025-03-05", "05 March 2025 11:41",
                 id="its-own-line"),
    pytest.param("Menu\n  March 5, 2025  \nBody.", "2025-03-05", "March 5, 2025", id="trimmed"),
    pytest.param("Menu\n05 March 2025\nBody.", "2024-03-05", None, id="another-date"),
    pytest.param("On 05 March 2025 the minister met the director of the regional office.", "2025-03-05", None,
                 id="a-date-inside-a-sentence"),
])
def test_the_line_that_gives_a_documents_date(text, iso, expected):
    span = date_line(text, iso)
    assert (text[span[0]:span[1]] if span else None) == expected
