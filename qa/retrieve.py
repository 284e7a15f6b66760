"""Question -> evidence Hits: dense (FAISS) and lexical (BM25) chunk search fused by reciprocal rank, then the
sentences of the best chunks scored one by one and picked with diversity across documents.

Sentence score = cosine(sentence, question) blended with the fused rank of its chunk and the share of the
question's content terms the sentence contains. `relevance()` turns the hits into the single number the pipeline
abstains on. Left out: cross-encoder reranking (no offline reranker is available as a package).
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from qa.settings import Settings
from qa.text import content_terms, is_question
from qa.types import Hit

RRF_K = 60


def rrf(*rankings: list[tuple[int, float]], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal rank fusion of several best-first rankings of ids (pure)."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, (item, _score) in enumerate(ranking):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank + 1)
    return fused


def term_coverage(question_terms: list[str], text: str, idf: dict[str, float] | None = None) -> float:
    """IDF-weighted share of the question's content terms present in text, in [0, 1] (pure)."""
    if not question_terms:
        return 0.0
    present = set(content_terms(text))
    weights = {t: (idf or {}).get(t, 1.0) for t in set(question_terms)}
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in present) / total if total else 0.0


def _idf(store, terms: list[str]) -> dict[str, float]:
    n = max(1, len(store.chunks))
    dfs = store.doc_freq(set(terms))  # precomputed with the index: no scan per question
    out = {}
    for t in set(terms):
        df = dfs.get(t, 0)
        out[t] = math.log(1 + (n - df + 0.5) / (df + 0.5))
    return out


def retrieve(question: str, store, settings: Settings | None = None, k: int | None = None) -> list[Hit]:
    """Best evidence sentences for the question, best first, at most settings.max_per_doc per document."""
    settings = settings or store.settings
    k = k or settings.k_evidence
    if not store.chunks:
        return []
    qvec = store.embedder.embed([question])[0]
    pool = max(30, settings.k_chunks * 3)
    dense = store.search_dense(qvec, pool)
    lexical = store.search_lexical(question, pool)
    fused = rrf(dense, lexical)
    best = sorted(fused, key=fused.get, reverse=True)[: max(settings.k_chunks * 2, 12)]
    if not best:
        return []
    top_fused = fused[best[0]]
    lex_max = max((s for _, s in lexical), default=0.0) or 1.0
    lex_of = dict(lexical)
    qterms = content_terms(question)
    idf = _idf(store, qterms)
    candidates: dict[int, Hit] = {}
    for cid in best:
        chunk_rank = fused[cid] / top_fused
        chunk_sim = float(store.chunk_vector(cid) @ qvec)
        rows = store.sentence_rows(cid)
        if not rows:
            continue
        sims = store.sentence_vectors(rows) @ qvec
        srows = [store.sentence(r) for r in rows]
        texts = [store.text(r.doc_id, r.start, r.end) for r in srows]
        covs = [term_coverage(qterms, t, idf) for t in texts]
        for i, (row, sim) in enumerate(zip(rows, sims)):
            r = srows[i]
            text = texts[i]
            # a sentence is read in its context: "The Federation ... since 1993" answers a Red Cross question
            near = max(covs[max(0, i - 1):i + 2])
            cov = max(covs[i], 0.5 * (covs[i] + near))
            score = 0.45 * float(sim) + 0.2 * chunk_sim + 0.1 * chunk_rank + 0.25 * cov
            if is_question(text):
                score *= 0.85  # a question in the text restates the topic; it rarely answers it
            old = candidates.get(row)
            if old is None or score > old.score:
                candidates[row] = Hit(doc_id=r.doc_id, start=r.start, end=r.end, text=text, chunk_id=cid,
                                      score=round(score, 4), dense=round(float(sim), 4),
                                      lexical=round(lex_of.get(cid, 0.0) / lex_max, 4))
    return diversify(sorted(candidates.values(), key=lambda h: -h.score), k, settings.max_per_doc)


def diversify(hits: list[Hit], k: int, max_per_doc: int) -> list[Hit]:
    """Take hits best-first, at most max_per_doc per document, skipping near-duplicate sentences (pure)."""
    out: list[Hit] = []
    per_doc: Counter[str] = Counter()
    seen_texts: list[set[str]] = []
    for h in hits:
        if per_doc[h.doc_id] >= max_per_doc:
            continue
        words = set(content_terms(h.text))
        if any(words and len(words & s) / len(words | s) > 0.8 for s in seen_texts):
            continue
        out.append(h)
        per_doc[h.doc_id] += 1
        seen_texts.append(words)
        if len(out) >= k:
            break
    return out


def unknown_terms(question: str, store) -> list[str]:
    """Content terms of the question that occur nowhere in the corpus (e.g. 'Mars', 'GDP')."""
    if not store.chunks:
        return []
    return [t for t in dict.fromkeys(content_terms(question)) if not t.isdigit() and not store.has_term(t)]


def relevance(hits: list[Hit], question: str | None = None, store=None) -> float:
    """How well the best evidence answers the question, in [0, 1]: the pipeline abstains below a threshold.

    Each question term the corpus never uses lowers it: a corpus that never says 'Mars' cannot tell its population."""
    best = max((h.score for h in hits), default=0.0)
    if question is None or store is None:
        return best
    terms = list(dict.fromkeys(content_terms(question)))
    missing = unknown_terms(question, store)
    return best * (1.0 - 0.5 * len(missing) / len(terms)) if terms else best
