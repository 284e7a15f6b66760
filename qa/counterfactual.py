"""A counterfactual dev set made from ClapNQ, the way counterfactual-robustness benchmarks are made: in a question's
passage, the entity that answers it is swapped for another entity of the same type taken from another passage.

``make_pairs(rows)`` returns, for each answerable ClapNQ row where the swap is well defined, the original passage,
the swapped passage, the answer and its replacement. The answer entity is a named entity or value of the gold
sentence that the gold long answer also states and the question does not; the replacement is the next entity of
the same type found in the other rows (deterministic). Every occurrence of the answer in the passage is swapped,
so the swapped passage is self-consistent. Only questions that ask for a typed answer (who, when, where, how
many...) are used, with an entity of the type they ask for. Left out: paraphrasing (the twins are near-parallel on purpose: the
held-out counterfactual set is built the same way) and swaps of dates inside other dates.

``cut_window(text, at)`` cuts the stretch of a passage around a position the way a search engine's snippet does,
mid-word at both ends: the ``counterfactual-cut`` eval set asks each question over the original passage and a cut
window of its swapped copy (or, for the twin, of the original itself) among two other passages, where a cut word
("reloc" against "relocated") must not read as another fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa import candidates as C

#: entity labels that answer each kind of question (qa.candidates.asked); other questions are left out
_FOR_KIND = {"person": ("PERSON", "ORG"), "org": ("ORG",), "place": ("GPE", "LOC", "FAC"), "date": ("DATE",),
             "count": ("CARDINAL",), "title": ("WORK_OF_ART",)}


@dataclass(frozen=True)
class Pair:
    id: str
    index: int
    question: str
    title: str
    original: str
    swapped: str
    answer: str
    replacement: str
    label: str


def _answer_entity(row: dict) -> tuple[str, str] | None:
    """(text, label) of the entity of the gold sentence that answers the question, or None."""
    out = row.get("output") or []
    answer = " ".join(o.get("answer") or "" for o in out)
    gold = [s for o in out for s in (o.get("selected_sentences") or [])]
    if not answer.strip() or not gold:
        return None
    labels = _FOR_KIND.get(C.asked(row["input"]).kind, ())
    q = set(C.words(row["input"]))
    for sent in gold:
        for s, e, label in C.entities(sent):
            text = sent[s:e]
            w = C.words(text)
            if label in labels and w and not set(w) <= q and C.norm(text) in C.norm(answer) and len(text) >= 3:
                return text, label
    return None


def make_pairs(rows: list[dict]) -> list[Pair]:
    """Swapped/original passage pairs from ClapNQ answerable rows (see the module docstring)."""
    found = []
    for i, r in enumerate(rows):
        ent = _answer_entity(r)
        if ent:
            found.append((i, r, ent))
    pool: dict[str, list[str]] = {}
    for _, _, (text, label) in found:
        if text not in pool.setdefault(label, []):
            pool[label].append(text)
    pairs = []
    for n, (i, r, (text, label)) in enumerate(found):
        options = [t for t in pool[label] if not C.same_answer(t, text) and C.norm(t) not in C.norm(
            r["passages"][0]["text"])]
        if not options:
            continue
        repl = options[n % len(options)]
        passage = r["passages"][0]["text"]
        swapped = re.sub(r"(?<!\w)" + re.escape(text) + r"(?!\w)", repl, passage)
        if swapped == passage:
            continue
        pairs.append(Pair(id=str(r["id"]), index=len(pairs), question=r["input"], title=r["passages"][0]["title"],
                          original=passage, swapped=swapped, answer=text, replacement=repl, label=label))
    return pairs


#: a planted answer is at most this long: ConflictQA's gold answers run from a name to a sentence
MAX_ANSWER_CHARS = 40


@dataclass(frozen=True)
class Planted:
    """A question's web snippets and a copy of the one that gives its answer, with the answer swapped: the snippet
    sets of counterfactual benchmarks, where a planted page repeats a real one but for one name or date."""

    id: str
    index: int
    question: str
    snippets: tuple[str, ...]
    sources: tuple[str, ...]
    at: int  # the snippet that was copied
    planted: str  # the copy, answer swapped
    answer: str
    replacement: str
    label: str


def _snippet_answer(row: dict) -> tuple[int, str, str] | None:
    """(snippet index, answer text, NER label) of the first snippet that states the gold answer as a named entity or
    value of the type the question asks for, or None."""
    answer = str(row.get("correctAnswer") or "").strip()
    labels = _FOR_KIND.get(C.asked(row["question"]).kind, ())
    if not answer or not labels or len(answer) > MAX_ANSWER_CHARS:
        return None
    for j, ctx in enumerate(row.get("contexts") or []):
        m = re.search(r"(?<!\w)" + re.escape(answer) + r"(?!\w)", ctx or "")
        if m is None:
            continue
        for s, e, label in C.entities(ctx):
            if label in labels and s <= m.start() and m.end() <= e:
                return j, answer, label
    return None


def plant_snippets(rows: list[dict]) -> list[Planted]:
    """From ConflictQA rows that a single answer settles (no second answer supported): the snippets and a planted
    copy of the one stating the answer, the answer swapped for another question's answer of the same type
    (deterministic). Every occurrence in the copy is swapped."""
    found = []
    for r in rows:
        if r.get("secondAnswerExist") == "A":
            continue  # the sources already disagree: a planted side would not be the only conflict
        hit = _snippet_answer(r)
        if hit:
            found.append((r, hit))
    pool: dict[str, list[str]] = {}
    for _, (_, text, label) in found:
        if text not in pool.setdefault(label, []):
            pool[label].append(text)
    out = []
    for n, (r, (j, text, label)) in enumerate(found):
        snippets = tuple(c.strip() for c in r["contexts"])
        options = [t for t in pool[label] if not C.same_answer(t, text)
                   and not any(C.norm(t) in C.norm(s) for s in snippets)]
        if not options:
            continue
        repl = options[n % len(options)]
        planted = re.sub(r"(?<!\w)" + re.escape(text) + r"(?!\w)", repl, snippets[j])
        given = list(r.get("sources") or [])
        sources = tuple(given[k] if k < len(given) else "" for k in range(len(snippets)))
        out.append(Planted(id=f"{int(r['annotation_task_id']):04d}", index=len(out), question=r["question"],
                           snippets=snippets, sources=sources, at=j, planted=planted, answer=text, replacement=repl,
                           label=label))
    return out


#: a cut window's width in characters, about a search engine snippet's
WINDOW_CHARS = 300


def cut_window(text: str, at: int, chars: int = WINDOW_CHARS) -> str:
    """The ``chars`` characters of ``text`` centred on offset ``at`` (shifted to stay inside the text), cut where they
    fall, mid-word or not (pure)."""
    start = max(0, min(at - chars // 2, len(text) - chars))
    return text[start:start + chars]
