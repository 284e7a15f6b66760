"""Can the local model tell conflicting sources from agreeing ones? ROC AUC of its yes/no scores on the seed set.

For every seed question that asks for a judgement (qa.disagree.asks_judgement) and has an expected disagreement
yes/no in eval/seed.jsonl, the three publishers with the most relevant evidence each give their two best sentences;
for every pair of publishers the model reads both excerpts (in both orders, to cancel its position bias) and the
log-probability margin of "Yes" over "No" (or of the first option over the rest) is taken from its next-token
distribution. A question's score is its most conflicting pair. AUC 0.5 is chance, 1.0 a perfect separation.

    .venv/bin/python bench/judge_separation.py                 # local Qwen2.5-Coder-1.5B, prompts v1 and v2
    .venv/bin/python bench/judge_separation.py --llm local-small --prompts v1

Measured 2026-11-25 on this 2-core CPU, 17 questions (11 conflicts), 196 calls at 3.9 s each: AUC v1 0.65,
v2 0.53 (a prototype of v3 gave 0.20, and v1 on the clashing-wording pairs of qa.disagree.stance_pairs 0.42). That is
why the local model is not a judge by default.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PROMPTS = {
    "v1": ("You compare two sources on a question. Base your answer only on the two excerpts.",
           "Do sources A and B disagree on the answer to the question, taking opposite or incompatible positions? "
           "Reply Yes or No.", ["Yes", "No"]),
    "v2": ("You are a careful fact-checker. Two sources are quoted. Sources disagree only when they take opposite "
           "positions on the question: one supports what the other rejects, or they judge the same matter in "
           "opposite ways (for example one praises it and the other condemns it). Sources that say different but "
           "compatible things, or talk about different things, do NOT disagree.",
           "Do the two sources take opposite positions on the question? Reply Yes or No.", ["Yes", "No"]),
    "v3": ("You compare what two sources say about a question.",
           "How do the two sources relate on this question? Reply with one word: AGREE (same position), DIFFERENT "
           "(compatible, or about different points), or OPPOSE (opposite positions or judgements).",
           ["OPPOSE", "AGREE", "DIFFERENT"]),
}


def auc(pos: list[float], neg: list[float]) -> float:
    """Probability that a random conflict scores above a random non-conflict (ties count half)."""
    if not pos or not neg:
        return float("nan")
    return sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))


class Scorer:
    """Next-token log-probabilities of a few options from the local llama.cpp model, reusing the cached prefix."""

    def __init__(self, chat):
        import numpy as np
        from llama_cpp import Llama

        self.np, self.Llama = np, Llama
        self.llama, self.lock = chat._llama()
        chat._set_threads(self.llama)

    def _tok(self, text: str) -> list[int]:
        return self.llama.tokenize(text.encode(), add_bos=False, special=True)

    def margin(self, system: str, user: str, options: list[str]) -> float:
        np, llama = self.np, self.llama
        prompt = (f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n"
                  "<|im_start|>assistant\n")
        tokens = self._tok(prompt)
        with self.lock:
            common = self.Llama.longest_token_prefix(list(llama._input_ids[:llama.n_tokens]), tokens)
            llama.n_tokens = min(common, len(tokens) - 1)
            llama.eval(tokens[llama.n_tokens:])
            logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama._n_vocab,)).copy()
        lp = logits - logits.max()
        lp = lp - np.log(np.exp(lp).sum())
        score = {o: float(np.logaddexp.reduce([lp[t] for t in {self._tok(o)[0], self._tok(" " + o)[0]}]))
                 for o in options}
        return score[options[0]] - float(np.logaddexp.reduce([score[o] for o in options[1:]]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llm", default="local", help="local | local-small")
    ap.add_argument("--prompts", default="v1,v2", help="comma-separated: v1, v2, v3")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)

    from disagree_eval import seed_questions

    from qa.disagree import _more_evidence, _name, asks_judgement
    from qa.llm import make_llm
    from qa.retrieve import retrieve
    from qa.settings import Settings
    from qa.store import open_store

    settings = Settings.from_env()
    store = open_store(settings.with_(index_dir=Path(tempfile.mkdtemp(prefix="qa-judge-idx-"))))
    scorer = Scorer(make_llm(args.llm, settings))
    names = [p.strip() for p in args.prompts.split(",") if p.strip()]
    scores: dict[str, list[tuple[float, bool]]] = {n: [] for n in names}
    t0, calls = time.perf_counter(), 0
    for q, gold in seed_questions():
        if not asks_judgement(q):
            continue
        hits = retrieve(q, store, settings)
        hits += _more_evidence(q, hits, store, settings)
        by_pub: dict[str, list] = {}
        for h in hits:
            doc = store.docs[h.doc_id]
            by_pub.setdefault(doc.source or doc.doc_id, []).append(h)
        srcs = []
        for hs in by_pub.values():
            best = sorted(hs, key=lambda h: -h.score)[:2]
            srcs.append((best[0].score, _name(store.docs[best[0].doc_id]),
                         " ".join(h.text.strip() for h in sorted(best, key=lambda h: (h.doc_id, h.start)))))
        srcs = sorted(srcs, key=lambda s: -s[0])[:3]
        for n in names:
            system, ask, options = PROMPTS[n]
            best = float("-inf")
            for i in range(len(srcs)):
                for j in range(i + 1, len(srcs)):
                    both = []
                    for a, b in ((srcs[i], srcs[j]), (srcs[j], srcs[i])):
                        user = (f"Question: {q}\n\nSource A ({a[1]}):\n\"{a[2]}\"\n\nSource B ({b[1]}):\n\"{b[2]}\""
                                f"\n\n{ask}")
                        both.append(scorer.margin(system, user, options))
                        calls += 1
                    best = max(best, sum(both) / 2)
            scores[n].append((best, gold))
            if args.verbose:
                print(f"{n} {'C' if gold else '.'} {best:+.2f} {q}", flush=True)
    out = {"questions": len(next(iter(scores.values()), [])), "calls": calls,
           "seconds_per_call": round((time.perf_counter() - t0) / max(calls, 1), 2)}
    for n, sc in scores.items():
        out[f"auc_{n}"] = round(auc([s for s, g in sc if g], [s for s, g in sc if not g]), 2)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
