"""Abbreviations a corpus defines for itself, found at question time.

"The International Committee of the Red Cross (ICRC)" tells a reader that a question about "the ICRC" is answered
by a sentence about "the International Red Cross", and a question about "the Red Cross" by a sentence about "the
ICRC". Retrieval compares words, so without this the two never meet. The definitions are read from the corpus
itself (Schwartz & Hearst, "A simple algorithm for identifying abbreviation definitions in biomedical text", 2003:
the long form is the shortest run of words before the parenthesis whose letters spell the short form in order, its
first letter starting a word that is not a stopword), never from a list: any corpus brings its own.

Only the chunks a question already reaches are read (its BM25 pool and the chunks that use each abbreviation it
names), so the cost does not grow with the corpus. All functions here are pure.
"""

from __future__ import annotations

from collections.abc import Sequence

import math
import re
from dataclasses import dataclass
from functools import cached_property

from qa.text import STOPWORDS, content_terms

# "(ICRC)", "(UNDP)", "(MoU)", "(NGOs)": a short form starts with a capital, has no spaces, 2-12 characters
_PAREN = re.compile(r"\(\s*([A-Z][A-Za-z0-9&.\-]{1,11})\s*\)")
# an abbreviation written in a question: two or more capitals in one word ("ICRC", "UN", "NGOs", "MoU")
_ABBREV = re.compile(r"\b[A-Z][A-Za-z&]*[A-Z][A-Za-z&]*\b")
# a name written in a question: two or more capitalised words in a row, small joining words allowed inside
_NAME_RUN = re.compile(r"\b[A-Z][\w’'-]*(?:\s+(?:of|the|for|and|on|de|of the)?\s*[A-Z][\w’'-]*)+")
LONG_FORM_SHARE = 0.6  # a sentence states a long form when it has this share of its content words (at least two)


@dataclass(frozen=True)
class Alias:
    """One abbreviation and what it stands for, with the question's terms that either form answers for."""

    short: str  # "ICRC"
    long: str  # "International Committee of the Red Cross"
    answers_for: frozenset[str]  # question terms satisfied where either form stands ({"icrc"} or {"red", "cross"})

    @cached_property  # read for every sentence scored: stemmed once
    def short_terms(self) -> frozenset[str]:
        return frozenset(content_terms(self.short))

    @cached_property
    def long_terms(self) -> frozenset[str]:
        return frozenset(content_terms(self.long))


def _word_at(text: str, i: int) -> str:
    m = re.match(r"[\w’'-]+", text[i:])
    return m.group(0) if m else ""


def best_long_form(short: str, before: str) -> str | None:
    """The long form of ``short`` at the end of ``before`` (the text up to its parenthesis), or None: the shortest
    tail of at most min(len + 5, 2 * len) words whose characters spell the short form's letters and digits in order,
    from the end, the first one starting a word (Schwartz & Hearst's findBestLongForm). It must have two or more
    words and not be the short form itself (pure)."""
    letters = [c.lower() for c in short if c.isalnum()]
    if len(letters) < 2:
        return None
    words = re.findall(r"\S+", before)
    max_words = min(len(letters) + 5, 2 * len(letters))
    tail = words[-max_words:]
    if not tail:
        return None
    long = " ".join(tail)
    s, i = len(letters) - 1, len(long) - 1
    while s >= 0:
        c = letters[s]
        while i >= 0 and (long[i].lower() != c or (s == 0 and (
                (i > 0 and long[i - 1].isalnum()) or _word_at(long, i).lower() in STOPWORDS))):
            i -= 1
        if i < 0:
            return None
        i -= 1
        s -= 1
    start = long.rfind(" ", 0, i + 1) + 1
    form = long[start:].strip(" ,;:\"“”'")
    if len(form.split()) < 2 or form.lower() == short.lower():
        return None
    return form


def definitions(text: str) -> list[tuple[str, str]]:
    """Every (short, long) the text defines as "long form (SHORT)", in order of appearance (pure)."""
    out: list[tuple[str, str]] = []
    for m in _PAREN.finditer(text):
        short = m.group(1).rstrip(".-")
        before = text[max(0, m.start() - 200):m.start()]
        before = re.split(r"[.;:!?()\[\]\n]\s", before)[-1]  # the long form stands in the same clause
        form = best_long_form(short, before)
        if form:
            out.append((short, form))
    return out


def names_in(question: str) -> tuple[list[str], list[str]]:
    """The abbreviations ("ICRC") and multi-word names ("Red Cross") a question writes (pure)."""
    abbrevs = [m.group(0) for m in _ABBREV.finditer(question)]
    runs = []
    for m in _NAME_RUN.finditer(question):
        words = [w for w in m.group(0).split() if w[:1].isupper()]
        if len(words) >= 2:
            runs.append(m.group(0))
    return abbrevs, runs


def question_aliases(question: str, texts: list[str]) -> list[Alias]:
    """The abbreviations that ``texts`` define and the question uses in either form (pure).

    An abbreviation the question names ("the ICRC") answers for its own term; a long form that ends with a run of two
    or more capitalised words the question names ("the Red Cross" in "International Committee of the Red Cross")
    answers for those words. A long form the question names whole ("the United Nations") is left alone: its words
    already reach every sentence that spells it out, and counting each "UN" as well let sentences that only mention
    the question's other names in passing outrank the ones about them ("When did Armenia join the United Nations?"
    then found "Armenia" beside a date about Azerbaijan and the UN, and answered instead of abstaining)."""
    abbrevs, runs = names_in(question)
    if not abbrevs and not runs:
        return []
    q_terms = set(content_terms(question))
    seen: set[tuple[str, str]] = set()
    out: list[Alias] = []
    for text in texts:
        for short, long in definitions(text):
            key = (short.lower(), long.lower())
            if key in seen:
                continue
            seen.add(key)
            s_terms = frozenset(content_terms(short))
            if any(short == a or short.rstrip("s") == a.rstrip("s") for a in abbrevs) and s_terms <= q_terms:
                out.append(Alias(short, long, s_terms))
                continue
            for run in runs:
                run_terms = frozenset(t for t in content_terms(run) if t not in s_terms)
                # the whole long form, or its end: "the Red Cross" is what the International Committee of the Red
                # Cross is, while the United Nations is not what the United Nations Office for ... Reduction is
                if len(run_terms) >= 2 and re.search(r"(?<!\w)" + re.escape(run) + r"\W*$", long) \
                        and run_terms <= q_terms and run_terms != frozenset(content_terms(long)):
                    out.append(Alias(short, long, run_terms))
                    break
    return out


def states(alias: Alias, present: set[str] | frozenset[str]) -> bool:
    """True when a text with these content terms names the alias's thing in either form (pure)."""
    if alias.short_terms and alias.short_terms <= present:
        return True
    need = max(2, math.ceil(LONG_FORM_SHARE * len(alias.long_terms)))
    return len(alias.long_terms & present) >= need


def expand_terms(present: set[str] | frozenset[str], aliases: list[Alias]) -> set[str]:
    """``present`` plus the question terms each alias answers for, where the text names the alias's thing (pure)."""
    out = set(present)
    for a in aliases:
        if states(a, present):
            out |= a.answers_for
    return out


def expanded_query(question: str, aliases: list[Alias]) -> str:
    """The question with the abbreviation of every long form it names in part appended, for lexical search: "the Red
    Cross" reaches sentences that write "ICRC" only so. A short form named brings itself (its long form's words,
    "international", "committee", would only dilute the query) (pure)."""
    extra = [a.short for a in aliases if a.answers_for != a.short_terms]
    return question if not extra else question + " " + " ".join(extra)


def with_both_forms(text: str, aliases: list[Alias]) -> str:
    """The text with each form of an alias it writes followed by the other in parentheses ("NAM initiated ..." ->
    "NAM (Non-Aligned Movement) initiated ..."), so that a check of which names a sentence states finds either form
    (pure)."""
    for a in aliases:
        for form, other in ((a.short, a.long), (a.long, a.short)):
            if other.lower() not in text.lower():
                text = re.sub(r"(?<!\w)" + re.escape(form) + r"(?!\w)", lambda m: f"{m.group()} ({other})", text,
                              count=1)
    return text


def with_initials(text: str, names: Sequence[str]) -> str:
    """The text with each initialism of a name of two or more words ("NAM" for "Non-Aligned Movement", "UN" for
    "United Nations") that it writes as a word followed by the name in parentheses, when the text does not spell the
    name out: the corpus may use the short form without ever defining it (pure)."""
    for name in names:
        words = [w for w in re.split(r"[\s-]+", name) if w[:1].isalpha()]
        if len(words) < 2 or name.lower() in text.lower():
            continue
        short = "".join(w[0].upper() for w in words)
        text = re.sub(r"(?<![\w-])" + re.escape(short) + r"(?![\w-])", lambda m: f"{m.group()} ({name})", text, count=1)
    return text


def with_acronyms(text: str, names: Sequence[str]) -> str:
    """The text with each acronym among ``names`` ("NAM") written in parentheses after the run of capitalised words
    that spells it ("the Non-Aligned Movement (NAM)"; each part of a hyphenated word counts), when the text never
    writes the acronym: a page may spell out what a question abbreviates without defining it (pure)."""
    for name in names:
        if not re.fullmatch(r"[A-Z]{2,8}", name) or re.search(r"(?<![\w-])" + name + r"(?![\w-])", text):
            continue
        for m in _NAME_RUN.finditer(text):
            parts = [p for w in m.group().split() for p in w.split("-") if p[:1].isupper()]
            while parts and parts[0].lower() in STOPWORDS:  # "The Ministry of ..." at a sentence's start
                parts = parts[1:]
            if "".join(p[0] for p in parts).startswith(name) and len(parts) >= len(name):
                text = f"{text[:m.end()]} ({name}){text[m.end():]}"
                break
    return text


def spelled_out(question: str, aliases: list[Alias]) -> str:
    """The question with each abbreviation it writes followed by its long forms in parentheses, for the embedder,
    which reads "ICRC" poorly and "International Committee of the Red Cross" well. An abbreviation the corpus
    defines twice gets both: "the OUCC" is the Oxford University Chess Club on one page and the Cycling Club on
    another, and the question reaches both (pure)."""
    for a in aliases:
        if a.answers_for == a.short_terms:  # every long form: "OUCC" stands for two Oxford clubs in one corpus
            question = re.sub(r"(?<!\w)" + re.escape(a.short) + r"(?!\w)", f"{a.short} ({a.long})", question, count=1)
    return question
