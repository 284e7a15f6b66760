"""Pure scoring functions for the eval harness: answer matching, span overlap, precision/recall, percentiles.

Everything here takes plain values (strings, (doc_id, start, end) spans, booleans) and returns numbers, so the
metrics are table-tested without a store or a model. A score that is undefined for a question (precision with
nothing cited, recall with no gold evidence) is None and is skipped by `mean`, never counted as 0 or 1.
Left out: reading Answers or files (qa/eval.py does that) and any LLM-as-judge scoring.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

#: (doc_id, start, end): a half-open character range in one document
Ev = tuple[str, int, int]

_MARKER = re.compile(r"\[\d+(?:\s*[,-]\s*\d+)*\]")
_ARTICLES = {"a", "an", "the"}


def normalize(text: str) -> str:
    """Lowercase, NFKC, [n] markers and punctuation removed, articles dropped, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", _MARKER.sub(" ", text or "")).lower()
    text = "".join(ch if ch.isalnum() else " " for ch in text)
    return " ".join(w for w in text.split() if w not in _ARTICLES)


def answer_match(prediction: str, accepted: Sequence[str]) -> bool:
    """True when any accepted answer appears, as whole words, in the normalised prediction, or, for an accepted
    answer that is a value (date, number, percentage), when the prediction states that value in another form
    ("20%" for "20 percent", "March 23, 2021" for "23 March 2021") at least as precisely."""
    pred = f" {normalize(prediction)} "
    if any(norm and f" {norm} " in pred for norm in (normalize(a) for a in accepted)):
        return True
    from qa.values import comparable, extract_values

    said = extract_values(_MARKER.sub(" ", prediction))  # "[2]" cites a source, it states no 2

    def same_kind(g, v) -> bool:  # "3 times" states the count "three"
        return comparable(g, v) or ({g.kind, v.kind} == {"count", "times"} and not g.unit)
    for a in accepted:
        gold = extract_values(a) if len(a.split()) <= 4 else []
        if any(same_kind(g, v) and g.lo <= v.lo and v.hi <= g.hi for g in gold for v in said):
            return True
    return False


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD-style token F1 between two strings after normalisation."""
    p, g = normalize(prediction).split(), normalize(gold).split()
    if not p or not g:
        return float(p == g)
    common = sum((Counter(p) & Counter(g)).values())
    if not common:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def best_f1(prediction: str, accepted: Sequence[str]) -> float:
    """The best token F1 of the prediction against any accepted answer (0.0 when none is given)."""
    return max((token_f1(prediction, a) for a in accepted), default=0.0)


def overlaps(a: Ev, b: Ev) -> bool:
    """True when two spans are in the same document and share at least one character."""
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


def citation_scores(cited: Sequence[Ev], gold: Sequence[Ev]) -> tuple[float | None, float | None]:
    """(precision, recall): share of citations overlapping gold evidence; share of gold items overlapped."""
    precision = sum(any(overlaps(c, g) for g in gold) for c in cited) / len(cited) if cited and gold else None
    recall = sum(any(overlaps(g, c) for c in cited) for g in gold) / len(gold) if gold else None
    return precision, recall


def source_scores(cited_docs: Iterable[str], gold_docs: Iterable[str]) -> tuple[float | None, float | None]:
    """(precision, recall) of the cited documents against the gold documents."""
    cited, gold = set(cited_docs), set(gold_docs)
    precision = len(cited & gold) / len(cited) if cited and gold else None
    recall = len(cited & gold) / len(gold) if gold else None
    return precision, recall


def recall_at_k(hits: Sequence[Ev], gold: Sequence[Ev], k: int) -> float | None:
    """Share of gold evidence items overlapped by any of the first k hits (None without gold evidence)."""
    if not gold:
        return None
    top = hits[:k]
    return sum(any(overlaps(g, h) for h in top) for g in gold) / len(gold)


def prf(pairs: Iterable[tuple[bool | None, bool]]) -> dict[str, float | int | None]:
    """Precision, recall and F1 of predicted flags against expected ones; pairs with expected None are skipped."""
    tp = fp = fn = tn = 0
    for expected, predicted in pairs:
        if expected is None:
            continue
        if expected and predicted:
            tp += 1
        elif predicted:
            fp += 1
        elif expected:
            fn += 1
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (2 * precision * recall / (precision + recall) if precision and recall else
          (0.0 if precision is not None and recall is not None else None))
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "n": tp + fp + fn + tn}


def mean(values: Iterable[float | bool | None]) -> float | None:
    """Mean of the defined values (None skipped); None when nothing is defined."""
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation; None for no values."""
    xs = sorted(values)
    if not xs:
        return None
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def best_threshold(scores: Sequence[tuple[float, bool]]) -> tuple[float | None, float | None]:
    """The answer-if-score>=t threshold with the best balanced accuracy over (score, answerable) pairs."""
    pos = [s for s, a in scores if a]
    neg = [s for s, a in scores if not a]
    if not pos or not neg:
        return None, None
    best_t, best_acc = None, -1.0
    for t in sorted({round(s, 4) for s, _ in scores}):
        acc = (sum(s >= t for s in pos) / len(pos) + sum(s < t for s in neg) / len(neg)) / 2
        if acc > best_acc:
            best_t, best_acc = t, acc
    return best_t, best_acc


def attributed(text: str, citations, disagreements) -> bool | None:
    """True when no sentence of the answer states a claim of a disputed document (one a disagreement quotes)
    without naming that document's publisher (its source, else its title); None when the answer cites no disputed
    document. Read from the Answer's fields: the [n] markers of each sentence and the citations they point to. A
    line that says who says what ("The sources disagree: ...", "X says “...”") names its sides itself."""
    from qa.answer import answer_sentences

    disputed = {c.citation.doc_id for d in disagreements for c in d.claims}
    by_n = {c.n: c for c in citations}
    checked = False
    for _, body, marks in answer_sentences(text or ""):
        if body.startswith(("The sources disagree", "Different things share")) or "says “" in body:
            continue
        for n in marks:
            c = by_n.get(n)
            if c is None or c.doc_id not in disputed:
                continue
            checked = True
            if (c.source or c.title or c.doc_id).lower() not in body.lower():
                return False
    return True if checked else None


#: answers from documents that disagree (RAMDocs, counterfactual sets); see conflict_scores
CONFLICT_METRICS = ("all_gold_given", "misinfo_noted", "fooled", "false_alarm_ambiguity", "exact")


def conflict_scores(gold: Sequence[str], wrong: Sequence[str], tags: Sequence[str], answer) -> dict:
    """Scores for a question whose documents disagree or share a name (None = not applicable):

    all_gold_given: every gold answer is in the answer text; misinfo_noted (misinformation questions): a
    disagreement quotes a planted wrong value; fooled (misinformation questions): a wrong value is in the text and no
    disagreement quotes it; false_alarm_ambiguity (several gold answers, no misinformation): any disagreement noted;
    exact: every gold answer given and no wrong value in the text except one that a disagreement quotes."""
    text = "" if answer.abstained else answer.text
    noted_texts = [" ".join([c.citation.quote, c.stance]) for d in answer.disagreements for c in d.claims]
    noted_texts += [" ".join([s.value, s.about]) for d in answer.disagreements for s in getattr(d, "sides", ())]
    noted = {w for w in wrong if any(answer_match(t, [w]) for t in noted_texts)}
    stated = {w for w in wrong if answer_match(text, [w])}
    fooled = bool(stated - noted)
    misinfo = "misinfo" in tags
    all_gold = bool(gold) and all(answer_match(text, [g]) for g in gold)
    return {"all_gold_given": all_gold,
            "misinfo_noted": bool(noted) if misinfo and wrong else None,
            "fooled": fooled if misinfo else None,
            "false_alarm_ambiguity": bool(answer.disagreements) if ("ambiguous" in tags and not misinfo) else None,
            "exact": all_gold and not fooled}
