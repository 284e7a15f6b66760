"""Who speaks a quoted passage: the person a document quotes, found from the words around the quotation (pure).

An interview quotes its experts at length, and the quoted sentences seldom name them:

    "However, the situation has changed. Today, the total amount of assistance ... is less than $5 million. ...
    Africa, Asia, and other areas in urgent need of support," emphasized Musabayov.

A sentence inside such a quotation is Musabayov's, not the publisher's. ``quotations`` finds each passage in double
quotation marks (straight or curly; a quotation that runs over several paragraphs may reopen each one, the
typographers' convention) and its speaker: a name before or after a verb of saying next to the closing mark
(``," Shafiyev concluded.``, ``" emphasized Musabayov.``), a name and a verb of saying before the opening mark
(``Aliyev stated: "``, ``According to X, "``), or "he" / "she" there, read as the last person the text named as a
speaker before the quotation ("According to Farid Shafiyev, ... " then ``"Our cooperation ..." he noted.``). A short
name is given in its fullest form in the document ("Rasim Musabayov" for "Musabayov").

Used where a sentence's speaker matters: the focus check ("According to Musabayov, ...?" is answered by his quoted
words), attribution ("According to Rasim Musabayov (Caliber.az), ..."), and retrieval (a quoted sentence counts its
speaker's name among its words).

Left out: single quotation marks (apostrophes make them ambiguous), quotations with no speaker named within a
sentence of them (the publisher speaks), indirect speech ("Shafiyev further stated that ...": the sentence names its
speaker itself), and pronouns other than he / she.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache

from qa.sources import SAYING_WORDS
from qa.text import snowball_stem

_OPEN, _CLOSE, _EITHER = "“«„", "”»", '"'
#: a quotation longer than this is taken for an unpaired mark
MAX_QUOTE_CHARS = 4000
#: how far back a pronoun looks for the person it stands for
PRONOUN_CHARS = 1500
#: how far back a short name looks for its fullest form ("Musabayov" -> "Rasim Musabayov"), and past the quotation
FULL_NAME_CHARS, FULL_NAME_AFTER = 6000, 120
_VERBS = frozenset(snowball_stem(w) for w in SAYING_WORDS)
_IRREGULAR = frozenset({"said", "says", "told", "tells", "wrote", "writes", "thought", "felt"})
#: a name as written: capitalised words (with hyphens, apostrophes and initials), up to four
_CAP = r"(?:[A-Z]\.|[A-Z][\w’'-]*)"  # a capitalised word, or an initial
_NAME = rf"(?:{_CAP}(?: (?:{_CAP}|de|van|von|al|bin|da|di|la|le)){{0,3}})"
_PRONOUN = r"(?:he|she|He|She)"
_WORD = r"[A-Za-z]+"
# after the closing mark: ", emphasized Musabayov." / " Shafiyev concluded." / " he noted."
_AFTER = re.compile(rf" ?,? *(?:(?P<v1>{_WORD})\s+(?P<n1>{_NAME}|{_PRONOUN})\b"
                    rf"|(?P<n2>{_NAME}|{_PRONOUN})\s+(?:(?:also|further|then|later|again)\s+)?(?P<v2>{_WORD})\b)")
# before the opening mark: "Aliyev stated: " / "According to X, " / "he said, "
_BEFORE = re.compile(rf"(?:(?P<n1>{_NAME}|{_PRONOUN})\s+(?:(?:also|further|then|later|again)\s+)?(?P<v1>{_WORD})"
                     rf"(?:\s+that)?|[Aa]ccording\s+to\s+(?P<n2>{_NAME}))\s*[:,]?\s*$")
# where a text names someone as a speaker: "According to X", "As noted by ... X", "X said" (for pronouns)
_NAMED = re.compile(rf"[Aa]ccording\s+to\s+(?P<n1>{_NAME})|\bby\s+(?:[a-z]+\s+){{0,5}}(?P<n2>{_NAME})"
                    rf"|(?P<n3>{_NAME})\s+(?:(?:also|further|then|later|again)\s+)?(?P<v>{_WORD})\b")
_TITLES = frozenset({"Mr", "Mrs", "Ms", "Dr", "Prof", "President", "Minister", "MP", "The", "This", "That", "As",
                     "According", "However", "Although", "But", "And", "In", "On", "At", "It", "We", "They", "I", "Who",
                     "What", "Which", "When", "Where", "Why", "How"})
#: fewer words than this in quotation marks are a title or a phrase ("wrote “Hound Dog”"), not speech
MIN_SPEECH_WORDS = 5


@dataclass(frozen=True)
class Quotation:
    """A passage in quotation marks: text[start:end] is inside the marks; ``speaker`` is "" when nobody is named."""

    start: int
    end: int
    speaker: str = ""


def saying(word: str | None) -> bool:
    """A verb of saying in a form that reports ("said", "noted", "concludes"), not a noun ("the Azerbaijani state")."""
    if not word:
        return False
    w = word.lower()
    return w in _IRREGULAR or (w.endswith(("ed", "s")) and snowball_stem(w) in _VERBS)


def _clean(name: str) -> str:
    """The name without a leading title or sentence word ("President Aliyev" -> "Aliyev"); "" if nothing is left."""
    ws = name.split()
    while ws and ws[0].rstrip(".") in _TITLES:
        ws = ws[1:]
    return " ".join(ws)


_MARK = re.compile(f"[{_OPEN}{_CLOSE}{_EITHER}]")


def _marks(text: str) -> list[tuple[int, str]]:
    """(offset, "open" | "close") of each double quotation mark; a straight one is read from its neighbours."""
    out = []
    for m in _MARK.finditer(text):
        i, ch = m.start(), m.group()
        if ch in _OPEN:
            out.append((i, "open"))
        elif ch in _CLOSE:
            out.append((i, "close"))
        else:
            before = text[i - 1] if i else " "
            after = text[i + 1] if i + 1 < len(text) else " "
            if (before.isspace() or before in "([{—–-") and not after.isspace():
                out.append((i, "open"))
            elif not before.isspace():
                out.append((i, "close"))
    return out


def _spans(text: str) -> list[tuple[int, int]]:
    """(start, end) inside each pair of marks; an opening mark again before the close continues the quotation
    when a paragraph break lies between (each paragraph of a long quotation reopens), else starts it afresh."""
    out: list[tuple[int, int]] = []
    opened: int | None = None
    for i, kind in _marks(text):
        if kind == "open":
            if opened is None or "\n" not in text[opened:i]:
                opened = i
        elif opened is not None:
            if i - opened <= MAX_QUOTE_CHARS:
                out.append((opened + 1, i))
            opened = None
    return out


def _named_before(text: str, at: int) -> str:
    """The last person named as a speaker in the PRONOUN_CHARS before ``at`` ("" if none)."""
    last = ""
    for m in _NAMED.finditer(text, max(0, at - PRONOUN_CHARS), at):
        name = m.group("n1") or m.group("n2") or (m.group("n3") if saying(m.group("v")) else None)
        if name and (name := _clean(name)):
            last = name
    return last


def _full(text: str, name: str, at: int) -> str:
    """The fullest form of a name in the FULL_NAME_CHARS before ``at`` (and the quotation's own closing words): the
    longest run of capitalised words that ends with its last word."""
    last = name.split()[-1]
    near = text[max(0, at - FULL_NAME_CHARS):at + FULL_NAME_AFTER]
    runs = re.findall(rf"((?:{_CAP} ){{1,3}}){re.escape(last)}\b", near)
    best = name
    for r in runs:
        cand = _clean(f"{r}{last}")
        if len(cand) > len(best) and cand.endswith(name):
            best = cand
    return best


def _speech(quoted: str) -> bool:
    """Words someone says, not a title: MIN_SPEECH_WORDS or more, not every one of them capitalised."""
    ws = re.findall(r"[^\W\d_][\w’'-]*", quoted)
    longer = [w for w in ws if len(w) > 3]
    return len(ws) >= MIN_SPEECH_WORDS and not (longer and all(w[0].isupper() for w in longer))


def _speaker(text: str, start: int, end: int) -> str:
    if not _speech(text[start:end]):
        return ""
    # a quotation that ends its sentence ("... reality”. Azerbaijan demands") is followed by a new one, not by who
    # said it: the name after the mark counts only after a comma, "?" or "!"
    tail = text[end - 1:end] + text[end + 1:end + 3]
    after = _AFTER.match(text, end + 1, min(len(text), end + 80)) if re.search(r"[,?!]", tail) else None
    name = ""
    if after:
        if after.group("n1") and saying(after.group("v1")):
            name = after.group("n1")
        elif after.group("n2") and saying(after.group("v2")):
            name = after.group("n2")
    if not name:
        before = _BEFORE.search(text, max(0, start - 1 - 120), max(0, start - 1))
        if before and (before.group("n2") or saying(before.group("v1"))):
            name = before.group("n2") or before.group("n1")
    if not name:
        return ""
    if re.fullmatch(_PRONOUN, name):
        name = _named_before(text, start - 1)
    name = _clean(name)
    return _full(text, name, end) if name else ""


def quotations(text: str) -> tuple[Quotation, ...]:
    """Every passage of ``text`` in double quotation marks, with its speaker where the words around it name one;
    linear in the text (a 5.6 MB document of 3,000 quotations: 0.9 s, once)."""
    return _indexed(text)[0]


@lru_cache(maxsize=64)  # keyed by the text itself: a query reads the documents of its few best chunks
def _indexed(text: str) -> tuple[tuple[Quotation, ...], tuple[int, ...]]:
    qs = tuple(Quotation(s, e, _speaker(text, s, e)) for s, e in _spans(text))
    return qs, tuple(q.start for q in qs)


def speaker_at(text: str, start: int, end: int) -> str:
    """Who speaks text[start:end]: the speaker of the quotation holding its middle; "" when none does or it names
    nobody. Quotations do not overlap, so the one that opens last before the middle is the only candidate."""
    qs, starts = _indexed(text)
    mid = start + (end - start) // 2
    i = bisect.bisect_right(starts, mid) - 1
    return qs[i].speaker if i >= 0 and mid < qs[i].end else ""
