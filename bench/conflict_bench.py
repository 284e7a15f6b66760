"""What the factual-conflict step costs: extractive ask() with answer candidates on and off, side by side.

Runs each seed question (eval/seed.jsonl) through ``qa.pipeline.ask(llm="none")`` twice in a row, once with
``factual_candidates=True`` and once with it off (interleaved, so machine load hits both alike), and prints p50/p90
of the whole answer, of the disagreement step, and of the candidate step alone. The candidate step never calls a
model, so its cost is the same with the local or a hosted model; with a model the answer itself takes seconds.

    .venv/bin/python bench/conflict_bench.py            # all 77 seed questions
    .venv/bin/python bench/conflict_bench.py --limit 30

Left out: quality (``qa eval --set ramdocs|counterfactual|conflictqa-each`` measures it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.settings import Settings  # noqa: E402


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))] if xs else float("nan")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args(argv)
    from qa.pipeline import ask
    from qa.store import open_store

    rows = [json.loads(line) for line in (ROOT / "eval" / "seed.jsonl").read_text().splitlines() if line.strip()]
    questions = [r["question"] for r in rows][: args.limit or None]
    base = Settings.from_env(llm="none", index_dir=Path(tempfile.mkdtemp(prefix="qa-conflict-bench-")))
    store = open_store(base)
    on, off = base.with_(factual_candidates=True), base.with_(factual_candidates=False)
    ask(questions[0], on, store=store, llm="none")  # warm: models loaded, caches filled once
    res: dict[str, dict[str, list[float]]] = {"on": {}, "off": {}}
    for q in questions:
        for name, s in (("on", on), ("off", off)):
            t0 = time.perf_counter()
            a = ask(q, s, store=store, llm="none")
            wall = time.perf_counter() - t0
            for key, v in (("total", wall), ("disagree", a.timings.get("disagree", 0.0)),
                           ("candidates", a.timings.get("disagree_candidates", 0.0))):
                res[name].setdefault(key, []).append(v)
    print(f"{len(questions)} seed questions, extractive, factual candidates on vs off (seconds)")
    for key in ("total", "disagree", "candidates"):
        a, b = res["on"][key], res["off"][key]
        ratio = statistics.median(a) / statistics.median(b) if statistics.median(b) else float("nan")
        print(f"  {key:10s} on p50 {pct(a, .5):.3f} p90 {pct(a, .9):.3f} | off p50 {pct(b, .5):.3f} "
              f"p90 {pct(b, .9):.3f} | on/off p50 {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
