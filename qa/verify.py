"""The citation contract, enforced: a citation survives only if `docs[doc_id].text[start:end] == quote`.

Pure functions: check citations against the documents, drop markers that point to dropped or unknown
citations, renumber the survivors 1..m in reading order. Left out: whether a sentence is *supported* by its
quote (that needs the answer text and lives with generation, qa/generate.py).
"""

from __future__ import annotations

import logging
import re

from qa.types import Citation, Document

log = logging.getLogger(__name__)

MARKER = re.compile(r"\s?\[(\d+(?:\s*,\s*\d+)*)\]")


def citation_at(doc: Document, start: int, end: int, *, n: int, score: float = 0.0) -> Citation:
    """The citation of ``doc.text[start:end]`` numbered n, with the document's metadata: valid by construction."""
    from qa.speakers import speaker_at

    return Citation(n=n, doc_id=doc.doc_id, title=doc.title, source=doc.source, date=doc.date,
                    quote=doc.text[start:end], start=start, end=end, score=score,
                    speaker=speaker_at(doc.text, start, end))


def quote_is_valid(c: Citation, docs: dict[str, Document]) -> bool:
    """True when the quote is exactly the document text at its offsets."""
    doc = docs.get(c.doc_id)
    return (doc is not None and 0 <= c.start < c.end <= len(doc.text) and doc.text[c.start:c.end] == c.quote)


def check_citations(citations, docs: dict[str, Document]) -> tuple[list[Citation], list[Citation]]:
    """Split citations into (kept, dropped); every dropped one is logged."""
    kept, dropped = [], []
    for c in citations:
        (kept if quote_is_valid(c, docs) else dropped).append(c)
    for c in dropped:
        log.warning("dropped citation [%d] into %s: quote does not match the document at %d:%d", c.n, c.doc_id,
                    c.start, c.end)
    return kept, dropped


def renumber(text: str, citations: list[Citation]) -> tuple[str, list[Citation]]:
    """Keep markers that name a known citation, renumber them 1..m by first appearance, drop the rest (pure).

    Citations never referenced by a marker are dropped too, so every citation shown is used by the text."""
    by_n = {c.n: c for c in citations}
    order: dict[int, int] = {}

    def sub(m: re.Match) -> str:
        nums = []
        for raw in m.group(1).split(","):
            n = int(raw)
            if n in by_n:
                order.setdefault(n, len(order) + 1)
                if order[n] not in nums:
                    nums.append(order[n])
        return "".join(f" [{k}]" for k in nums)

    new_text = MARKER.sub(sub, text).strip()
    new_cits = sorted((by_n[old].model_copy(update={"n": new}) for old, new in order.items()), key=lambda c: c.n)
    return new_text, new_cits


def enforce(text: str, citations, docs: dict[str, Document]) -> tuple[str, list[Citation], int]:
    """Contract check then renumbering: returns (text, citations, number dropped)."""
    kept, dropped = check_citations(citations, docs)
    new_text, new_cits = renumber(text, kept)
    return new_text, new_cits, len(dropped)
