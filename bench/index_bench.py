"""Indexing throughput of the pipeline vs bare SentenceTransformer.encode on the same texts, and warm ask() latency.

    .venv/bin/python bench/index_bench.py [--corpus DIR] [--repeat 3]

Prints texts/s for both, their ratio (goal >= 0.9), and extractive ask() p50/p90 (goal p50 <= 0.3 s).
Both are measured in the same run, so the ratio holds on a noisy shared machine. Both run in float32; then the
pipeline is timed again with its batches under bfloat16 autocast (Settings.embed_bf16 "on"), alternating with
float32 builds, and the speed-up printed (on a CPU without bf16 kernels torch emulates them, and it is slower).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.settings import Settings  # noqa: E402

QUESTIONS = [
    "When did Azerbaijan join the United Nations?",
    "Why is Baku changing how it works with UN agencies?",
    "What does the Institute for Human Rights say about the office closures?",
    "How much aid do UN agencies give Azerbaijan today?",
    "Which countries did the Non-Aligned Movement summit bring together?",
    "What does the ICRC do for missing persons?",
    "When was Azerbaijan on the Security Council?",
    "What is the population of Azerbaijan?",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=Settings().corpus_dir)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from qa.chunk import embed_text
    from qa.embed import make_embedder
    from qa.pipeline import ask
    from qa.store import open_store

    settings = Settings.from_env(corpus_dir=args.corpus, llm="none")
    embedder = make_embedder(settings.embedder, "off")  # float32, as the bare encode below
    embedder.embed(["warm up"])

    pipe_times, n_texts, store = [], 0, None
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            s = settings.with_(index_dir=Path(tmp))
            t = time.perf_counter()
            store = open_store(s, rebuild=True, embedder=embedder)
            pipe_times.append(time.perf_counter() - t)
    texts = [embed_text(c, store.docs[c.doc_id]) for c in store.chunks]
    texts += [store.docs[r.doc_id].text[r.start:r.end] for r in store.sentences]
    n_texts = len(texts)
    bare_times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        embedder.model.encode(texts, batch_size=64, convert_to_numpy=True, normalize_embeddings=True,
                              show_progress_bar=False)
        bare_times.append(time.perf_counter() - t)
    pipe = n_texts / min(pipe_times)
    bare = n_texts / min(bare_times)
    print(f"corpus: {len(store.docs)} docs, {len(store.chunks)} chunks, {len(store.sentences)} sentences "
          f"= {n_texts} texts embedded")
    print(f"pipeline index build (ingest+chunk+embed+BM25+save): {pipe:7.1f} texts/s  (best of {args.repeat})")
    print(f"bare SentenceTransformer.encode, same texts:         {bare:7.1f} texts/s")
    print(f"ratio pipeline/bare: {pipe / bare:.2f}  (goal >= 0.9)")

    fast = make_embedder(settings.embedder, "on")
    fast.embed(["warm up"] * 32)
    times: dict[str, list[float]] = {"float32": [], "bfloat16": []}
    for _ in range(args.repeat):
        for name, emb in (("float32", embedder), ("bfloat16", fast)):
            with tempfile.TemporaryDirectory() as tmp:
                t = time.perf_counter()
                open_store(settings.with_(index_dir=Path(tmp)), rebuild=True, embedder=emb)
                times[name].append(time.perf_counter() - t)
    f32, bf = n_texts / min(times["float32"]), n_texts / min(times["bfloat16"])
    print(f"pipeline index build, float32 {f32:7.1f} texts/s, bfloat16 autocast {bf:7.1f} texts/s: x{bf / f32:.2f} "
          f"(alternated, best of {args.repeat})")

    s = settings.with_(index_dir=Path(tempfile.mkdtemp()))
    store = open_store(s, embedder=embedder)
    lat = []
    for _ in range(args.repeat):
        for q in QUESTIONS:
            t = time.perf_counter()
            ask(q, s, store=store, llm="none")
            lat.append(time.perf_counter() - t)
    lat.sort()
    p50 = statistics.median(lat)
    p90 = lat[int(0.9 * (len(lat) - 1))]
    print(f"warm ask() extractive over {len(lat)} questions: p50 {p50 * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms "
          f"(goal p50 <= 300 ms)")


if __name__ == "__main__":
    main()
