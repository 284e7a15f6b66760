"""Files -> Documents: read .txt/.md/.html/.pdf/.docx, find the real content, keep every offset valid.

For .txt and .md the Document text is the file's text exactly as read (UTF-8; other encodings are decoded with a
fallback and noted), so offsets point into the file as stored. For .html/.pdf/.docx the text is the extracted
plain text, stored in the index, and offsets point into it. Boilerplate (menus, share buttons, "Views: 404",
cookie and copyright lines, "You may also like" tails) is never deleted: it is left out of `Document.content`,
the spans later steps read. Left out: OCR of scanned PDFs, and language detection.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import CorpusError
from qa.text import MONTH_NAMES, MONTHS
from qa.types import Document, Span

log = logging.getLogger(__name__)

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
MANIFEST = "manifest.json"
MAX_FILE_BYTES = 20 * 1024 * 1024

_BOILERPLATE = re.compile(
    r"©|\bcopyright\b|all rights reserved|privacy policy|cookie|\bviews?:\s*\d|\bshare (this|it|on)\b|share-line|"
    r"follow us|connect with us|liked the story|copy link|subscribe|sign (up|in)|log ?in\b|what are you looking for|"
    r"any use of materials|contact us to use|this article is shared|terms of (use|service)|newsletter|"
    r"advertisement|skip to (main )?content|^print$|^loading$|^ads$",
    re.IGNORECASE,
)
# after one of these lines the page is recommendations, comments or footers: nothing after it is the article
_TAIL = re.compile(
    r"^(you (may|might) also like|related (articles?|posts?|stories|news)|read (more|also|next)|more (stories|news)|"
    r"recommended( for you)?|most (read|popular)|latest news|comments?|leave a (reply|comment))\s*:?\s*$",
    re.IGNORECASE,
)
_MONTH_NAME = "|".join(m.capitalize() for m in MONTH_NAMES)
_DATE_LINE = re.compile(
    rf"\b(\d{{1,2}}\s+({_MONTH_NAME})\s+\d{{4}}|({_MONTH_NAME})\s+\d{{1,2}},\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})\b"
)


@dataclass
class CorpusReport:
    """What load_corpus read and what it skipped (with why)."""

    documents: list[Document] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# What reads as prose, hand-set with the first ingest (0141324) on the seed corpus's saved web pages and checked on
# the boilerplate lines of tests/test_ingest.py: mostly letters, and either a long line or a short one that ends
# like a sentence
MIN_LETTER_SHARE = 0.5
PROSE_WORDS, SENTENCE_WORDS = 8, 3
#: menus, buttons and footers are short: a line of more words than this is prose, even when it says "copyright",
#: "cookies" or "subscribe" (the longest boilerplate line in the shipped corpus has 15 words; a paragraph about
#: copyright law was dropped whole before this limit)
BOILERPLATE_MAX_WORDS = 25
#: a sentence of at least this many words with no boilerplate phrase makes a short line content
CLEAN_SENTENCE_WORDS = 5
MIN_LINE_CHARS = 3  # the no-prose fallback keeps a line with this many letters or digits
DATE_LINES, DATE_LINE_CHARS = 40, 40  # a publication date stands on a short line near the top
# binary detection (2a7e9ac, on the bad-input suite's files): a NUL byte, or more than this share of control bytes
# (not tab, newline, form feed, carriage return) in the first BINARY_HEAD bytes
BINARY_HEAD, MAX_CONTROL_SHARE = 8192, 0.05
# cp1251 (Cyrillic words: runs of high bytes) over cp1252 (Western accents: single high bytes) above this share
PAIRED_HIGH_SHARE = 0.5


def is_content_line(line: str) -> bool:
    """A line of prose worth quoting, as opposed to a menu item, button or footer."""
    s = line.strip()
    words = re.findall(r"[^\W_]+(?:['’.-][^\W_]+)*", s)
    if not s or _is_boilerplate(s):
        return False
    if sum(c.isalpha() for c in s) < MIN_LETTER_SHARE * len(s):
        return False
    if len(words) >= PROSE_WORDS:
        return True
    return len(words) >= SENTENCE_WORDS and s[-1] in ".!?\"”’:;)"


def content_spans(text: str) -> tuple[Span, ...]:
    """Spans of the text that are article content, each a trimmed line; boilerplate lines are left out."""
    spans: list[Span] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        start, end = pos, pos + len(line)
        pos = end
        stripped = line.strip()
        if _TAIL.match(stripped) and spans:
            break
        if not is_content_line(line):
            continue
        lead = len(line) - len(line.lstrip())
        trail = len(line.rstrip())
        spans.append(Span(start=start + lead, end=start + trail))
    return tuple(spans)


def _is_boilerplate(line: str) -> bool:
    """A short line that reads like a menu, button or footer ("All rights reserved", "Subscribe"): it says one of
    the boilerplate phrases and none of its sentences is prose free of them ("He is portrayed by Kevin Tighe.
    Advertisement." is a snippet with an ad label in it, not an ad)."""
    if len(line.split()) > BOILERPLATE_MAX_WORDS or not _BOILERPLATE.search(line):
        return False
    return not any(len(piece.split()) >= CLEAN_SENTENCE_WORDS and not _BOILERPLATE.search(piece)
                   for piece in re.split(r"(?<=[.!?])\s+", line))


def _all_lines(text: str) -> tuple[Span, ...]:
    """Every non-empty line with letters or digits, trimmed: the fallback for a file with no prose-like line."""
    spans, pos = [], 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if sum(c.isalnum() for c in stripped) >= MIN_LINE_CHARS and not _is_boilerplate(stripped):
            lead = len(line) - len(line.lstrip())
            spans.append(Span(start=pos + lead, end=pos + len(line.rstrip())))
        pos += len(line)
    return tuple(spans)


def find_date(text: str) -> str:
    """The first full date written on its own short line near the top (ISO), or ''."""
    for line in text.splitlines()[:DATE_LINES]:
        s = line.strip()
        if len(s) > DATE_LINE_CHARS:
            continue
        m = _DATE_LINE.search(s)
        if m:
            return _iso(m.group(0))
    return ""


def date_line(text: str, iso: str) -> tuple[int, int] | None:
    """(start, end) of the short line near the top that gives the date ``iso`` (as ``find_date`` reads it), white
    space trimmed; None when no such line does: the quote a question about the document's date is answered by."""
    at = 0
    for line in text.splitlines(keepends=True)[:DATE_LINES]:
        s = line.strip()
        if s and len(s) <= DATE_LINE_CHARS and (m := _DATE_LINE.search(s)) and _iso(m.group(0)) == iso:
            start = at + line.index(s)
            return start, start + len(s)
        at += len(line)
    return None


def _iso(raw: str) -> str:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        return raw
    parts = raw.replace(",", "").split()
    if parts[0].isdigit():
        day, month, year = parts
    else:
        month, day, year = parts
    return f"{int(year):04d}-{MONTHS[month.lower()]:02d}-{int(day):02d}"


def decode(data: bytes) -> tuple[str, str]:
    """Bytes -> (text, encoding): UTF-8 first, then the usual legacy code pages."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # cp1251 and cp1252 both decode almost anything. Cyrillic words are runs of high bytes; Western accents
    # are single high bytes between ASCII letters. Pick by which pattern dominates.
    high = [i for i, b in enumerate(data) if b >= 0x80]
    paired = sum(1 for i in high if (i > 0 and data[i - 1] >= 0x80) or (i + 1 < len(data) and data[i + 1] >= 0x80))
    order = ("cp1251", "cp1252", "latin-1") if high and paired > PAIRED_HIGH_SHARE * len(high) else ("cp1252", "latin-1")
    for enc in order:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _html_text(data: bytes) -> str:
    raw, _ = decode(data)
    try:
        import trafilatura

        text = trafilatura.extract(raw, include_comments=False, include_tables=True, favor_recall=True)
    except Exception:  # trafilatura chokes on some markup: fall back to the stdlib parser
        text = None
    if text:
        return text
    from html.parser import HTMLParser

    class _Text(HTMLParser):
        def __init__(self):
            super().__init__()
            self.parts: list[str] = []
            self.skip = 0

        def handle_starttag(self, tag, attrs):
            self.skip += tag in ("script", "style", "noscript", "template")

        def handle_endtag(self, tag):
            self.skip -= tag in ("script", "style", "noscript", "template") and self.skip > 0
            if tag in ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "tr", "section", "article"):
                self.parts.append("\n")

        def handle_data(self, data):
            if not self.skip:
                self.parts.append(data)

    p = _Text()
    p.feed(raw)
    return re.sub(r"\n\s*\n+", "\n\n", "".join(p.parts)).strip()


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    if reader.is_encrypted:
        try:
            if not reader.decrypt(""):
                raise CorpusError(f"{path.name} is an encrypted PDF: save an unencrypted copy to index it")
        except CorpusError:
            raise
        except Exception as exc:
            raise CorpusError(f"{path.name} is an encrypted PDF that cannot be opened ({exc})") from exc
    return "\n\n".join((page.extract_text() or "").strip() for page in reader.pages).strip()


def _docx_text(path: Path) -> str:
    import docx

    d = docx.Document(str(path))
    return "\n\n".join(p.text.strip() for p in d.paragraphs if p.text.strip())


def extract_text(path: Path) -> str:
    """The text a Document holds for this file."""
    ext = path.suffix.lower()
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise CorpusError(f"{path.name} is {size / 2**20:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MB limit: split it")
    if ext == ".pdf":
        return _pdf_text(path)
    if ext == ".docx":
        return _docx_text(path)
    data = path.read_bytes()
    if ext in (".html", ".htm"):
        return _html_text(data)
    head = data[:BINARY_HEAD]
    controls = sum(b < 0x20 and b not in (9, 10, 12, 13) for b in head)
    if b"\x00" in head or controls > MAX_CONTROL_SHARE * max(1, len(head)):
        raise CorpusError(f"{path.name} looks binary, not text")
    return decode(data)[0]


def load_manifest(corpus_dir: Path) -> dict:
    """The optional corpus/manifest.json: {"documents": {file name: {title, source, date, kind}}}."""
    path = corpus_dir / MANIFEST
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("documents", {})
    except (OSError, ValueError, AttributeError) as exc:
        log.warning("ignoring unreadable %s: %s", path, exc)
        return {}


def doc_id_for(path: Path, corpus_dir: Path) -> str:
    try:
        return path.resolve().relative_to(corpus_dir.resolve()).as_posix()
    except ValueError:
        return path.name


def read_document(path: Path, corpus_dir: Path, manifest: dict | None = None) -> Document:
    """Read one file into a Document; raise CorpusError with the reason when it cannot be used."""
    path = Path(path)
    try:
        data_hash = hashlib.sha256(path.read_bytes()).hexdigest()
        text = extract_text(path)
    except CorpusError:
        raise
    except FileNotFoundError as exc:
        raise CorpusError(f"{path.name} disappeared while it was being read") from exc
    except Exception as exc:  # any parser failure is a skip, with the reason
        raise CorpusError(f"{path.name} could not be read: {type(exc).__name__}: {exc}") from exc
    spans = content_spans(text) or _all_lines(text)  # a short note is all "boilerplate-like" lines: keep them
    if not spans:
        raise CorpusError(f"{path.name} holds no readable text")
    doc_id = doc_id_for(path, corpus_dir)
    meta = (manifest or {}).get(doc_id) or (manifest or {}).get(path.name) or {}
    first = text[spans[0].start:spans[0].end]
    return Document(
        doc_id=doc_id, path=str(path.resolve()), title=meta.get("title") or first[:120] or path.stem,
        source=meta.get("source", ""), date=meta.get("date") or find_date(text), kind=meta.get("kind", ""),
        text=text, sha256=data_hash, content=spans,
    )


def list_files(corpus_dir: Path) -> list[Path]:
    """Supported files under corpus_dir, sorted; hidden folders and symlink loops are not followed."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder {corpus_dir} does not exist: create it and add .txt, .md, .html, .pdf or "
                          ".docx files, or pass --corpus DIR")
    found = []
    for root, dirs, files in os.walk(corpus_dir, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            p = Path(root) / name
            if name.startswith(".") or name == MANIFEST or p.suffix.lower() not in SUPPORTED:
                continue
            if p.is_symlink() and not p.exists():
                continue
            found.append(p)
    return sorted(found)


def load_corpus(corpus_dir: Path, known: frozenset[str] = frozenset()) -> CorpusReport:
    """Read every supported file; unreadable or empty ones are skipped and listed, never fatal on their own.

    Of two identical files, the one already `known` (indexed before) is kept, so a new copy never displaces it."""
    corpus_dir = Path(corpus_dir)
    manifest = load_manifest(corpus_dir)
    report = CorpusReport()
    seen: dict[str, str] = {}
    files = list_files(corpus_dir)
    files.sort(key=lambda p: doc_id_for(p, corpus_dir) not in known)  # stable: known first, then by name
    for path in files:
        try:
            doc = read_document(path, corpus_dir, manifest)
        except CorpusError as exc:
            report.skipped.append((str(path), str(exc)))
            continue
        if doc.sha256 in seen:  # an exact copy adds nothing but duplicate citations
            report.skipped.append((str(path), f"duplicate of {seen[doc.sha256]}"))
            continue
        seen[doc.sha256] = doc.doc_id
        report.documents.append(doc)
    report.documents.sort(key=lambda d: d.doc_id)
    if report.skipped:
        log.warning("skipped %d file(s): %s", len(report.skipped), "; ".join(f"{p}: {why}" for p, why in report.skipped))
    if not report.documents:
        raise CorpusError(f"no readable document in {corpus_dir}: add .txt, .md, .html, .pdf or .docx files"
                          + (f" (skipped: {'; '.join(why for _, why in report.skipped)})" if report.skipped else ""))
    return report
