"""`qa index --ray auto|ADDRESS`: chunking and embedding as Ray Data batches, written into either store.

Documents are read on the driver (ingest needs the corpus folder), shipped to Ray as JSON, and chunked and embedded
by an actor pool whose workers each load the embedding model once; each batch comes back as a qa.segments.Batch,
in document order, so chunk ids, offsets and vectors are those of the local path (vectors within float tolerance).
The store then writes the batches as it writes its own. Left out: reading files on the workers (a cluster needs the
corpus on a shared file system for that) and writing to the store from the workers (one writer keeps ids simple).
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from qa import segments as seg
from qa.errors import QAError, StoreError
from qa.settings import Settings
from qa.types import Document

log = logging.getLogger(__name__)

DOCS_PER_TASK = 16


class _Prepare:
    """A Ray Data actor: loads the embedder once, then chunks and embeds one batch of documents per call."""

    def __init__(self, embedder: str, chunk_chars: int, overlap: int, bf16: str = "auto"):
        from qa.embed import make_embedder

        self.embedder = make_embedder(embedder, bf16)
        self.chunk_chars, self.overlap = chunk_chars, overlap

    def __call__(self, rows: dict) -> dict:
        docs = [Document.model_validate_json(d) for d in rows["doc"]]
        batch = seg.prepare(docs, self.embedder, self.chunk_chars, self.overlap)
        return {"batch": np.array([pickle.dumps(batch)], dtype=object)}


def connect(address: str):
    """ray.init for 'auto' (a running cluster, else a local one) or a cluster address; reuses a live session."""
    try:
        import ray
    except ImportError as exc:
        raise QAError("Ray is not installed: pip install -e '.[scale]'") from exc
    if ray.is_initialized():
        return ray
    if address == "auto":
        try:
            ray.init(address="auto", log_to_driver=False)
        except ConnectionError:
            ray.init(log_to_driver=False)  # no cluster running: a local one on this machine's cores
    else:
        ray.init(address=address, log_to_driver=False)
    return ray


def ray_batches(docs: list[Document], settings: Settings, address: str = "auto", workers: int | None = None,
                docs_per_task: int = DOCS_PER_TASK) -> Iterator[seg.Batch]:
    """Chunked and embedded batches of `docs`, in order, computed on a Ray cluster."""
    if not docs:
        return
    ray = connect(address)
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True  # chunk ids follow document order, as in the local path
    n = workers or max(1, min(4, int(ray.cluster_resources().get("CPU", 1)) // 2))
    ds = ray.data.from_items([{"doc": d.model_dump_json()} for d in docs], override_num_blocks=max(1, len(docs) // docs_per_task))
    ds = ds.map_batches(_Prepare, fn_constructor_kwargs=dict(embedder=settings.embedder, chunk_chars=settings.chunk_chars,
                                                             overlap=settings.chunk_overlap_sentences,
                                                             bf16=settings.embed_bf16),
                        batch_size=docs_per_task, batch_format="numpy", concurrency=n, num_cpus=1)
    for row in ds.iter_rows():
        yield pickle.loads(row["batch"])


def index_with_ray(settings: Settings, address: str = "auto", rebuild: bool = False, workers: int | None = None):
    """Bring the store named by settings.store in line with the corpus folder, embedding new documents on Ray."""
    from qa.ingest import load_corpus

    store = _open_unsynced(settings, rebuild)
    known = {d: doc.sha256 for d, doc in store.docs.items()}
    report = load_corpus(Path(settings.corpus_dir), frozenset(known))
    current = {d.doc_id: d for d in report.documents}
    gone = [d for d, sha in known.items() if d not in current or current[d].sha256 != sha]
    new = [d for d in report.documents if d.doc_id not in known or d.doc_id in gone]
    store.skipped = report.skipped
    if new or gone:
        store.add_batches(ray_batches(new, settings, address, workers), replaced=gone)
    if hasattr(store, "_set_meta"):
        store._set_meta(fingerprint=settings.fingerprint())
    return store


def _open_unsynced(settings: Settings, rebuild: bool):
    """The store as it is (no local embedding of changes): embedded index or Milvus collections."""
    from qa.store_api import make_store

    if settings.store.strip() in ("", "embedded", "faiss"):
        from qa.store import Store, load

        if not rebuild:
            try:
                return load(settings)
            except StoreError as exc:
                log.warning("%s; indexing from scratch", exc)
        return Store.empty(settings)
    from qa.store_milvus import MilvusStore

    store = MilvusStore(settings)
    if rebuild or store._meta("fingerprint") not in ("", settings.fingerprint()):
        return make_store(settings, embedder=store.embedder, empty=True)
    return store
