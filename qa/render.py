"""Answer -> HTML for the chat page and plain text for the terminal (pure functions, no gradio).

Every string that comes from a document, an upload, a model or a user goes through ``html.escape`` exactly once
before it reaches HTML; markup is only ever built here from constants. The page shows quotes by offsets: the source
viewer renders ``text[:start]``, ``<mark>text[start:end]</mark>``, ``text[end:]`` (each escaped), never by searching
for the quote string. Cards link to their source with ``href="#qa-open/<doc_id>/<start>/<end>"`` because the chat
widget's sanitizer keeps ``href``/``id``/``class`` but drops ``data-*`` attributes; the page script reads that href.

The chat HTML holds no newline at all: the chat widget runs markdown first, and a blank line would end the raw-HTML
block and let markdown reinterpret document text. Left out: styling and JavaScript (qa/static/).
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import quote as urlquote

from qa.answer import publisher
from qa.prompts import ABSTAIN_TEXT
from qa.types import Answer, Citation, Disagreement, Document


def _extra_abstain_text(text: str) -> bool:
    """True when an abstaining answer says more than the standard sentence (which is shown first in any case)."""
    t = " ".join(text.split()).lower().rstrip(".")
    return bool(t) and not ABSTAIN_TEXT.lower().startswith(t)
MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
#: a source document longer than this is shown as a window around the quote
VIEW_MAX_CHARS = 200_000


def esc(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return html.escape("" if value is None else str(value), quote=True)


def esc_inline(value: object) -> str:
    """Escape, and turn newlines into <br> so the result holds no newline (see module docstring)."""
    text = esc(value).replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\n", "<br>")


def source_href(doc_id: str, start: int, end: int) -> str:
    """The link a card carries; qa/static/viewer.js parses it back into (doc_id, start, end)."""
    return f"#qa-open/{urlquote(doc_id, safe='')}/{int(start)}/{int(end)}"


def card_id(turn: int, n: int) -> str:
    return f"qa-c{int(turn)}-{int(n)}"


# -- the answer -------------------------------------------------------------------------------------------------
def link_markers(text: str, citations: dict[int, Citation], turn: int) -> str:
    """Escape answer text and turn each known [n] (or [n, m]) marker into links to the quote cards."""
    out, pos = [], 0
    for m in MARKER.finditer(text):
        out.append(esc_inline(text[pos:m.start()]))
        nums = [int(x) for x in re.findall(r"\d+", m.group(1))]
        if all(n in citations for n in nums):
            links = "".join(
                f'<a class="qa-ref" href="#{card_id(turn, n)}" title="{esc(citations[n].title)}">[{n}]</a>'
                for n in nums)
            out.append(f'<sup class="qa-refs">{links}</sup>')
        else:  # a marker with no citation behind it stays visible as plain text
            out.append(esc(m.group(0)))
        pos = m.end()
    out.append(esc_inline(text[pos:]))
    return "".join(out)


def render_card(c: Citation, *, turn: int | None = None, label: str | None = None) -> str:
    """A quote card: the quote, the title, publisher and date; a link that opens the highlighted source."""
    ident = f' id="{card_id(turn, c.n)}"' if turn is not None else ""
    meta = [f'<cite class="qa-card-title">{esc_inline(c.title or c.doc_id)}</cite>']
    if c.speaker:  # the person the document quotes here (qa.speakers)
        meta.append(f'<span class="qa-card-speaker">quoting {esc_inline(c.speaker)}</span>')
    if c.source:
        meta.append(f'<span class="qa-card-source">{esc_inline(c.source)}</span>')
    meta.append(f'<span class="qa-card-date">{esc(c.date) if c.date else "undated"}</span>')
    tag = f'<span class="qa-card-n">{esc(label) if label is not None else f"[{c.n}]"}</span>'
    return (f'<a class="qa-card"{ident} href="{esc(source_href(c.doc_id, c.start, c.end))}" '
            f'title="Open {esc(c.doc_id)} at the quote">{tag}'
            f'<span class="qa-card-quote">{esc_inline(c.quote)}</span>'
            f'<span class="qa-card-meta">{" · ".join(meta)}</span></a>')


def render_disagreements(disagreements: tuple[Disagreement, ...] | list[Disagreement]) -> str:
    """The "Sources disagree" panel: each conflict's summary, then its claims side by side as quote cards."""
    if not disagreements:
        return ""
    parts = ['<section class="qa-disagree"><h4 class="qa-disagree-head">Sources disagree</h4>']
    for d in disagreements:
        parts.append(f'<div class="qa-dis"><p class="qa-dis-summary">{esc_inline(d.summary)}'
                     f' <span class="qa-dis-kind">({esc(d.kind)})</span></p><div class="qa-dis-claims">')
        for claim in d.claims:
            stance = f'<p class="qa-claim-stance">{esc_inline(claim.stance)}</p>' if claim.stance else ""
            who = publisher(claim.citation)
            parts.append(f'<div class="qa-claim">{stance}{render_card(claim.citation, label=who)}</div>')
        parts.append("</div></div>")
    parts.append("</section>")
    return "".join(parts)


def render_notes(notes) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{esc_inline(n)}</li>" for n in notes)
    return f'<ul class="qa-notes">{items}</ul>'


def render_answer_html(answer: Answer, turn: int = 1) -> str:
    """One assistant message: answer (or abstention), disagreement panel, quote cards, notes, mode line."""
    cites = {c.n: c for c in answer.citations}
    parts = ['<div class="qa-answer">']
    if answer.abstained:
        parts.append(f'<div class="qa-abstain"><strong>{ABSTAIN_TEXT}</strong>')
        if _extra_abstain_text(answer.text):
            parts.append(f'<p>{link_markers(answer.text, cites, turn)}</p>')
        parts.append("</div>")
    else:
        paragraphs = [p for p in re.split(r"\n\s*\n", answer.text.strip()) if p.strip()]
        parts.extend(f'<p class="qa-text">{link_markers(p, cites, turn)}</p>' for p in paragraphs)
    parts.append(render_disagreements(answer.disagreements))
    if answer.citations:
        parts.append('<div class="qa-cards">')
        parts.extend(render_card(c, turn=turn) for c in answer.citations)
        parts.append("</div>")
    parts.append(render_notes(answer.notes))
    total = sum(answer.timings.values()) if answer.timings else 0.0
    took = f" · {total:.1f} s" if total else ""
    parts.append(f'<p class="qa-mode">mode: {esc(answer.mode)}{took}</p></div>')
    return "".join(parts)


def render_streaming_html(text: str) -> str:
    """The answer while it streams in: escaped text, markers not yet linked (citations come at the end)."""
    return f'<div class="qa-answer qa-streaming"><p class="qa-text">{esc_inline(text)}</p></div>'


def render_question_html(question: str) -> str:
    return f'<div class="qa-question">{esc_inline(question)}</div>'


def render_error_html(message: str) -> str:
    return f'<div class="qa-error" role="alert"><strong>Could not answer:</strong> {esc_inline(message)}</div>'


# -- the source viewer ------------------------------------------------------------------------------------------
def render_source_html(doc: Document | None, start: int, end: int, *, max_chars: int = VIEW_MAX_CHARS) -> str:
    """The document with text[start:end] highlighted by offsets; the caller scrolls #qa-hl into view."""
    if doc is None:
        return '<div class="qa-source qa-source-missing">This document is no longer in the corpus.</div>'
    text = doc.text
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= len(text)):
        return (f'<div class="qa-source qa-source-missing">The quote position {esc(start)}–{esc(end)} is outside '
                f'{esc(doc.doc_id)}; the document changed since this answer.</div>')
    lo, hi, clipped = 0, len(text), ""
    if len(text) > max_chars:  # a window around the quote keeps the page responsive on huge files
        half = max(0, (max_chars - (end - start)) // 2)
        lo, hi = max(0, start - half), min(len(text), end + half)
        clipped = f'<p class="qa-source-clip">Showing characters {lo}–{hi} of {len(text)}.</p>'
    meta = [f'<span class="qa-source-title">{esc_inline(doc.title or doc.doc_id)}</span>']
    for value in (doc.source, doc.date):
        if value:
            meta.append(f"<span>{esc_inline(value)}</span>")
    meta.append(f'<code class="qa-source-id">{esc(doc.doc_id)}</code>')
    body = (f"{esc(text[lo:start])}<mark id=\"qa-hl\" class=\"qa-hl\">{esc(text[start:end])}</mark>"
            f"{esc(text[end:hi])}")
    return (f'<div class="qa-source"><div class="qa-source-meta">{" · ".join(meta)}</div>{clipped}'
            f'<div class="qa-source-text">{body}</div></div>')


def render_documents_html(docs, *, removable: bool = True) -> str:
    """The corpus list; each row has a remove button whose data attribute names the doc_id."""
    docs = sorted(docs, key=lambda d: d.doc_id)
    if not docs:
        return '<p class="qa-docs-empty">The corpus is empty: upload a document.</p>'
    rows = []
    for d in docs:
        button = (f'<button class="qa-remove" type="button" data-qa-remove="{esc(d.doc_id)}" '
                  f'title="Remove {esc(d.doc_id)} from the corpus">Remove</button>') if removable else ""
        meta = " · ".join(esc_inline(v) for v in (d.source, d.date) if v)
        rows.append(f'<li class="qa-doc"><span class="qa-doc-title">{esc_inline(d.title or d.doc_id)}</span>'
                    f'<span class="qa-doc-meta">{meta}</span><code>{esc(d.doc_id)}</code>{button}</li>')
    return f'<p class="qa-docs-count">{len(docs)} documents</p><ul class="qa-docs">{"".join(rows)}</ul>'


# -- the terminal ---------------------------------------------------------------------------------------------
def terminal_safe(text: str) -> str:
    """Show control and bidi-override characters as \\x.. / \\u.... so a document cannot drive the terminal."""
    out = []
    for ch in str(text):
        if ch in "\n\t":
            out.append(ch)
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") and ch not in "\u200d":
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def _terminal_cite(c: Citation, label: str) -> str:
    speaker = f"quoting {c.speaker}" if c.speaker else ""
    meta = ", ".join(v for v in (c.title or c.doc_id, speaker, c.source, c.date or "undated") if v)
    quote = " ".join(c.quote.split())
    return f'  {label} "{quote}"\n      — {meta} ({c.doc_id}:{c.start}-{c.end})'


def render_terminal(answer: Answer) -> str:
    """Plain text for the CLI: answer, sources, disagreements, notes (no colour codes)."""
    lines = []
    if answer.abstained:
        lines.append(ABSTAIN_TEXT)
        if _extra_abstain_text(answer.text):
            lines.append(answer.text.strip())
    else:
        lines.append(answer.text.strip())
    if answer.citations:
        lines += ["", "Sources:"] + [_terminal_cite(c, f"[{c.n}]") for c in answer.citations]
    if answer.disagreements:
        lines += ["", "Sources disagree:"]
        for d in answer.disagreements:
            lines.append(f"  * {' '.join(d.summary.split())} ({d.kind})")
            for claim in d.claims:
                who = publisher(claim.citation)
                if claim.stance:
                    lines.append(f"    - {who}: {' '.join(claim.stance.split())}")
                lines.append("  " + _terminal_cite(claim.citation, "-"))
    if answer.notes:
        lines += ["", "Notes:"] + [f"  - {n}" for n in answer.notes]
    lines += ["", f"(mode: {answer.mode})"]
    return terminal_safe("\n".join(lines))
