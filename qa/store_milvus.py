"""The Milvus store: chunks, sentences and documents in a Milvus server, BM25 and hybrid ranking in the engine.

`QA_STORE=milvus://host:19530[/prefix]` points qa at a Milvus server (standalone or distributed: the same
address and API). Collections, named `<prefix>_chunks|sentences|docs|text|terms|meta` (prefix `qa`):
chunks hold the chunk vector, the chunk's content terms as text with a BM25 function (full-text search inside the
engine) and the range of its sentence rows; sentences hold sentence vectors; docs and text hold each document's
metadata and its text in parts; terms holds each term's document frequency, updated on every add and remove so
relevance never scans the index; meta holds the id counters and the settings fingerprint.
`start_local()` runs the milvus-lite 2.5 server binary (the C++ engine; milvus-lite 3.x is a Python rewrite) on
127.0.0.1 for tests and for trying it out.

Left out: several writers at once (ids come from counters in meta: one indexer at a time, readers any number);
Milvus authentication and TLS (pass them in the URI's environment: QA_MILVUS_TOKEN).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import socket
import subprocess
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from qa import segments as seg
from qa.errors import StoreError
from qa.settings import Settings
from qa.store_api import SentenceRow
from qa.text import content_terms
from qa.types import Chunk, Document, Span

log = logging.getLogger(__name__)

TEXT_PART = 16_000  # characters per stored text part: Milvus VARCHAR holds at most 65,535 bytes
MAX_VARCHAR = 65_535
BM25_K1, BM25_B = 1.5, 0.75  # the embedded store's bm25s defaults, so lexical ranks agree
_BATCH = 1000  # rows per insert / ids per query
_UNSAFE = re.compile(r"['\"\\\\]|^~")
_CHUNK_FIELDS = ["id", "doc_id", "start", "end", "row_lo", "row_hi", "vec"]


def _parse(spec: str) -> tuple[str, str]:
    u = urlparse(spec)
    prefix = (u.path or "").strip("/") or "qa"
    scheme = "https" if u.scheme == "https" else "http"
    return f"{scheme}://{u.hostname or '127.0.0.1'}:{u.port or 19530}", prefix


class _LRU(OrderedDict):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def put(self, key, value):
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


class _Docs(Mapping):
    """doc_id -> Document, read from the server on demand (recently used ones cached)."""

    def __init__(self, store: "MilvusStore"):
        self._s = store

    def __getitem__(self, doc_id: str) -> Document:
        doc = self._s._doc(doc_id)
        if doc is None:
            raise KeyError(doc_id)
        return doc

    def get(self, doc_id, default=None):
        return self._s._doc(doc_id) or default

    def __contains__(self, doc_id) -> bool:
        return self._s._doc(doc_id) is not None

    def __iter__(self):
        return iter(self._s._doc_ids())

    def __len__(self) -> int:
        return len(self._s._doc_ids())


class _Chunks(Sequence):
    def __init__(self, store: "MilvusStore"):
        self._s = store

    def __len__(self) -> int:
        return self._s._count("chunks")

    def __getitem__(self, cid):
        info = self._s._chunk_info([int(cid)]).get(int(cid))
        if info is None:
            raise IndexError(cid)
        doc = self._s.docs[_dec(info["doc_id"])]
        spans = tuple(Span(start=r.start, end=r.end) for r in map(self._s.sentence, range(info["row_lo"], info["row_hi"])))
        return Chunk(chunk_id=int(cid), doc_id=doc.doc_id, start=info["start"], end=info["end"],
                     text=doc.text[info["start"]:info["end"]], sentences=spans)

    def __iter__(self):
        for cid in sorted(self._s._all_ids("chunks")):
            yield self[cid]


class MilvusStore:
    """The store interface (qa/store_api.py) on a Milvus server."""

    def __init__(self, settings: Settings, embedder=None, uri: str | None = None, prefix: str | None = None):
        from pymilvus import MilvusClient

        if embedder is None:
            from qa.embed import make_embedder

            embedder = make_embedder(settings.embedder, settings.embed_bf16)
        self.settings, self.embedder = settings, embedder
        default_uri, default_prefix = _parse(settings.store)
        self.uri, self.prefix = uri or default_uri, prefix or default_prefix
        try:
            self.client = MilvusClient(uri=self.uri, token=os.environ.get("QA_MILVUS_TOKEN", ""), timeout=30)
        except Exception as exc:
            raise StoreError(f"cannot reach Milvus at {self.uri} ({type(exc).__name__}: {exc}): start it, or "
                             "unset QA_STORE to use the embedded index") from exc
        self._lock = threading.RLock()
        self._cache_chunks, self._cache_rows, self._cache_docs = _LRU(4096), _LRU(65536), _LRU(256)
        self._cache_df: _LRU = _LRU(65536)
        self._ids: list[str] | None = None
        self._recent: list[int] = []  # chunk ids of the latest searches, for one batched sentence fetch
        self.skipped: list[tuple[str, str]] = []
        self.gen_dir = None
        self._ensure()
        self.chunks = _Chunks(self)
        self.docs = _Docs(self)
        self.sentences = _SentenceRows(self)

    # -- schema -----------------------------------------------------------------------------------------------
    def _default_index(self) -> str:
        """AUTOINDEX where the server picks well (standalone, distributed: HNSW-like), FLAT on milvus-lite.

        milvus-lite only has FLAT and IVF_FLAT, and its AUTOINDEX found 0.61 of the exact top 10 at 100k chunks
        (1.00 up to 30k; bench/scale_bench.py, README "When one machine is not enough"), FLAT 1.00. milvus-lite
        2.5 is told apart by its GetVersion call, which it does not implement (a real server answers it)."""
        try:
            self.client.get_server_version()
        except Exception:
            return "FLAT"
        return "AUTOINDEX"

    def _name(self, kind: str) -> str:
        return f"{self.prefix}_{kind}"

    def _ensure(self) -> None:
        from pymilvus import DataType, Function, FunctionType

        c, dim = self.client, int(self.embedder.dim)
        existing = set(c.list_collections())

        def make(kind, fields, indexes, functions=()):
            if self._name(kind) in existing:
                return
            schema = c.create_schema(auto_id=False, enable_dynamic_field=False)
            for args, kw in fields:
                schema.add_field(*args, **kw)
            for f in functions:
                schema.add_function(f)
            ip = c.prepare_index_params()
            for field, kw in indexes:
                ip.add_index(field, **kw)
            c.create_collection(self._name(kind), schema=schema, index_params=ip, consistency_level="Strong")

        flat = dict(index_type="FLAT", metric_type="IP")
        dense = dict(index_type=os.environ.get("QA_MILVUS_INDEX") or self._default_index(), metric_type="IP")
        dummy = ((("v", DataType.FLOAT_VECTOR), dict(dim=2)), ("v", flat))  # Milvus wants a vector in every collection
        make("chunks", [(("id", DataType.INT64), dict(is_primary=True)),
                        (("doc_id", DataType.VARCHAR), dict(max_length=1024)),
                        (("start", DataType.INT64), {}), (("end", DataType.INT64), {}),
                        (("row_lo", DataType.INT64), {}), (("row_hi", DataType.INT64), {}),
                        (("terms", DataType.VARCHAR), dict(max_length=MAX_VARCHAR, enable_analyzer=True)),
                        (("vec", DataType.FLOAT_VECTOR), dict(dim=dim)),
                        (("sparse", DataType.SPARSE_FLOAT_VECTOR), {})],
             [("vec", dense),
              ("sparse", dict(index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                              params={"bm25_k1": BM25_K1, "bm25_b": BM25_B}))],
             [Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"],
                       output_field_names=["sparse"])])
        make("sentences", [(("id", DataType.INT64), dict(is_primary=True)),
                           (("doc_id", DataType.VARCHAR), dict(max_length=1024)),
                           (("start", DataType.INT64), {}), (("end", DataType.INT64), {}),
                           (("chunk_id", DataType.INT64), {}), (("vec", DataType.FLOAT_VECTOR), dict(dim=dim))],
             [("vec", dense)])
        make("docs", [(("doc_id", DataType.VARCHAR), dict(is_primary=True, max_length=1024)),
                      (("meta", DataType.VARCHAR), dict(max_length=MAX_VARCHAR)), dummy[0]], [dummy[1]])
        make("text", [(("id", DataType.VARCHAR), dict(is_primary=True, max_length=1100)),
                      (("doc_id", DataType.VARCHAR), dict(max_length=1024)), (("part", DataType.INT64), {}),
                      (("text", DataType.VARCHAR), dict(max_length=MAX_VARCHAR)), dummy[0]], [dummy[1]])
        make("terms", [(("term", DataType.VARCHAR), dict(is_primary=True, max_length=512)),
                       (("df", DataType.INT64), {}), dummy[0]], [dummy[1]])
        make("meta", [(("key", DataType.VARCHAR), dict(is_primary=True, max_length=64)),
                      (("value", DataType.VARCHAR), dict(max_length=4096)), dummy[0]], [dummy[1]])
        for kind in ("chunks", "sentences", "docs", "text", "terms", "meta"):
            c.load_collection(self._name(kind))

    def drop(self) -> None:
        """Delete every collection of this prefix."""
        for kind in ("chunks", "sentences", "docs", "text", "terms", "meta"):
            if self.client.has_collection(self._name(kind)):
                self.client.drop_collection(self._name(kind))
        self._clear_caches()

    def _clear_caches(self) -> None:
        self._ids = None
        for cache in (self._cache_chunks, self._cache_rows, self._cache_docs, self._cache_df):
            cache.clear()

    def close(self) -> None:
        self.client.close()

    # -- small helpers ------------------------------------------------------------------------------------------
    def _meta(self, key: str, default: str = "") -> str:
        rows = self.client.query(self._name("meta"), filter=f"key == {_lit(key)}", output_fields=["value"])
        return rows[0]["value"] if rows else default

    def _set_meta(self, **values) -> None:
        self._replace("meta", "key", [{"key": k, "value": str(v), "v": [0.0, 0.0]} for k, v in values.items()])

    def _replace(self, kind: str, pk: str, rows: list[dict], gone: Iterable[str] = ()) -> None:
        """Delete then insert by primary key (milvus-lite's upsert fails on VARCHAR keys)."""
        keys = [r[pk] for r in rows] + list(gone)
        if keys:
            self.client.delete(self._name(kind), filter=f"{pk} in {json.dumps(keys, ensure_ascii=False)}")  # encoded
        if rows:
            self.client.insert(self._name(kind), rows)

    def _count(self, kind: str) -> int:
        if kind == "chunks":  # chunk ids are never reused: the id space is the counter
            return int(self._meta("next_chunk", "0"))
        res = self.client.query(self._name(kind), filter="", output_fields=["count(*)"])
        return int(res[0]["count(*)"])

    def _all_ids(self, kind: str) -> list:
        pk = {"docs": "doc_id"}.get(kind, "id")
        it = self.client.query_iterator(self._name(kind), batch_size=_BATCH, filter="", output_fields=[pk])
        out = []
        while True:
            rows = it.next()
            if not rows:
                it.close()
                return out
            out += [_dec(r[pk]) if isinstance(r[pk], str) else r[pk] for r in rows]

    def _doc_ids(self) -> list[str]:
        if self._ids is None:  # cleared by every change
            self._ids = self._all_ids("docs")
        return self._ids

    def _doc(self, doc_id: str) -> Document | None:
        doc = self._cache_docs.get(doc_id)
        if doc is not None:
            return doc
        rows = self.client.query(self._name("docs"), filter=f"doc_id == {_lit(doc_id)}", output_fields=["meta"])
        if not rows:
            return None
        meta = json.loads(rows[0]["meta"])
        parts = self.client.query(self._name("text"), filter=f"doc_id == {_lit(doc_id)}",
                                  output_fields=["part", "text"], limit=16384)
        text = "".join(p["text"] for p in sorted(parts, key=lambda p: p["part"]))
        doc = Document(text=text, **meta)
        self._cache_docs.put(doc_id, doc)
        return doc

    def _chunk_info(self, ids: list[int]) -> dict[int, dict]:
        out = {i: self._cache_chunks[i] for i in ids if i in self._cache_chunks}
        todo = [i for i in ids if i not in out]
        if todo:
            rows = self.client.query(self._name("chunks"), filter=f"id in {todo}",
                                     output_fields=["id", "doc_id", "start", "end", "row_lo", "row_hi", "vec"])
            for r in rows:
                self._cache_chunks.put(int(r["id"]), r)
                out[int(r["id"])] = r
        return out

    def _rows(self, rows: list[int]) -> dict[int, dict]:
        wanted = set(rows)
        out = {i: self._cache_rows[i] for i in rows if i in self._cache_rows}
        todo = [i for i in rows if i not in out]
        if todo:  # one round trip for the sentences of every chunk the last searches found, not one per chunk
            more = {r for c in self._recent if (info := self._cache_chunks.get(c))
                    for r in range(info["row_lo"], info["row_hi"]) if r not in self._cache_rows}
            todo = list(dict.fromkeys(todo + sorted(more)[:4000]))
            self._recent.clear()
        for lo in range(0, len(todo), 4 * _BATCH):
            part = todo[lo:lo + 4 * _BATCH]
            for r in self.client.query(self._name("sentences"), filter=f"id in {part}", limit=len(part),
                                       output_fields=["id", "doc_id", "start", "end", "chunk_id", "vec"]):
                self._cache_rows.put(int(r["id"]), r)
                if int(r["id"]) in wanted:
                    out[int(r["id"])] = r
        return out

    # -- the store interface ------------------------------------------------------------------------------------
    def search_dense(self, qvec, k: int) -> list[tuple[int, float]]:
        res = self.client.search(self._name("chunks"), data=[np.asarray(qvec, "float32").tolist()], anns_field="vec",
                                 limit=k, search_params={"metric_type": "IP"}, output_fields=_CHUNK_FIELDS)
        return self._remember(res[0])

    def _remember(self, hits) -> list[tuple[int, float]]:
        """Cache what a search returned about its chunks: retrieve() reads their vectors and sentences next."""
        out = []
        for hit in hits:
            e = dict(hit["entity"])
            e["id"] = int(hit["id"])
            self._cache_chunks.put(e["id"], e)
            self._recent.append(e["id"])
            out.append((e["id"], float(hit["distance"])))
        del self._recent[:-256]
        return out

    def search_sentences(self, qvec, k: int) -> list[tuple[int, float]]:
        res = self.client.search(self._name("sentences"), data=[np.asarray(qvec, "float32").tolist()], anns_field="vec",
                                 limit=k, search_params={"metric_type": "IP"})
        return [(int(h["id"]), float(h["distance"])) for h in res[0]]

    def search_lexical(self, question: str, k: int) -> list[tuple[int, float]]:
        terms = content_terms(question)
        if not terms:
            return []
        res = self.client.search(self._name("chunks"), data=[" ".join(terms)], anns_field="sparse", limit=k,
                                 search_params={"metric_type": "BM25"}, output_fields=_CHUNK_FIELDS)
        return [(i, s) for i, s in self._remember(res[0]) if s > 0]

    def search_hybrid(self, qvec, question: str, k: int) -> list[tuple[int, float]]:
        """Dense and BM25 fused by reciprocal rank inside the engine (RRFRanker, k=60 as in qa/retrieve.py)."""
        from pymilvus import AnnSearchRequest, RRFRanker

        reqs = [AnnSearchRequest(data=[np.asarray(qvec, "float32").tolist()], anns_field="vec",
                                 param={"metric_type": "IP"}, limit=k)]
        terms = content_terms(question)
        if terms:
            reqs.append(AnnSearchRequest(data=[" ".join(terms)], anns_field="sparse", param={"metric_type": "BM25"},
                                         limit=k))
        res = self.client.hybrid_search(self._name("chunks"), reqs, RRFRanker(60), limit=k)
        return [(int(h["id"]), float(h["distance"])) for h in res[0]]

    def text(self, doc_id: str, start: int, end: int) -> str:
        return self.docs[doc_id].text[start:end]

    def chunk_vector(self, chunk_id: int) -> np.ndarray:
        return np.asarray(self._chunk_info([int(chunk_id)])[int(chunk_id)]["vec"], "float32")

    def chunk_vectors(self, ids) -> np.ndarray:
        info = self._chunk_info([int(i) for i in ids])
        return np.asarray([info[int(i)]["vec"] for i in ids], "float32").reshape(len(ids), -1)

    def sentence_rows(self, chunk_id: int) -> list[int]:
        info = self._chunk_info([int(chunk_id)]).get(int(chunk_id))
        return list(range(info["row_lo"], info["row_hi"])) if info else []

    def sentence(self, row: int) -> SentenceRow:
        r = self._rows([int(row)])[int(row)]
        return SentenceRow(_dec(r["doc_id"]), int(r["start"]), int(r["end"]), int(r["chunk_id"]))

    def sentence_vectors(self, rows) -> np.ndarray:
        rows = [int(r) for r in rows]
        got = self._rows(rows)
        return np.asarray([got[r]["vec"] for r in rows], "float32").reshape(len(rows), -1)

    def sentence_vector(self, doc_id: str, start: int, end: int):
        rows = self.client.query(self._name("sentences"), output_fields=["vec"],
                                 filter=f"doc_id == {_lit(doc_id)} and start == {int(start)} and end == {int(end)}")
        return np.asarray(rows[0]["vec"], "float32") if rows else None

    def doc_freq(self, terms: Iterable[str]) -> dict[str, int]:
        """Chunks holding each term, kept up to date by add and remove (one query for the uncached terms)."""
        terms = list(dict.fromkeys(terms))
        todo = [t for t in terms if t not in self._cache_df]
        if todo:
            found = {_dec(r["term"]): int(r["df"]) for r in self.client.query(
                self._name("terms"), filter=f"term in {_lit(todo)}", output_fields=["term", "df"])}
            for t in todo:
                self._cache_df.put(t, found.get(t, 0))
        return {t: self._cache_df[t] for t in terms}

    def has_term(self, term: str) -> bool:
        return self.doc_freq([term])[term] > 0

    # -- changes --------------------------------------------------------------------------------------------------
    def add_documents(self, docs: Iterable[Document], progress=None) -> list[str]:
        docs = list(docs)
        self.add_batches(seg.batches(docs, self.embedder, self.settings.chunk_chars,
                                     self.settings.chunk_overlap_sentences,
                                     (lambda n: progress(n, None)) if progress else None),
                         replaced=[d.doc_id for d in docs])
        return [d.doc_id for d in docs]

    def add_batches(self, batches: Iterable[seg.Batch], replaced: Iterable[str] = ()) -> None:
        """Insert documents already chunked and embedded (qa/segments.py, or the Ray indexer)."""
        with self._lock:
            replaced = [d for d in replaced if d in self.docs]
            if replaced:
                self.remove_documents(replaced)
            for b in batches:
                self._insert(b)
            self._clear_caches()

    def _insert(self, b: seg.Batch) -> None:
        c0, s0 = int(self._meta("next_chunk", "0")), int(self._meta("next_row", "0"))
        df: Counter[str] = Counter()
        rows = []
        for i, (d, start, end) in enumerate(b.chunks.tolist()):
            terms = content_terms(b.chunk_text(i))
            df.update(set(terms))
            sent = b.rows[b.ptr[i]:b.ptr[i + 1]]
            rows.append({"id": c0 + i, "doc_id": _enc(b.docs[d].doc_id), "start": start, "end": end,
                         "row_lo": s0 + int(sent.min()), "row_hi": s0 + int(sent.max()) + 1,
                         "terms": _clip(" ".join(terms) or "∅"), "vec": b.chunk_vecs[i].tolist()})
        self._insert_rows("chunks", rows)
        self._insert_rows("sentences", [
            {"id": s0 + j, "doc_id": _enc(b.docs[d].doc_id), "start": s, "end": e, "chunk_id": c0 + c,
             "vec": b.sent_vecs[j].tolist()} for j, (d, s, e, c) in enumerate(b.sentences.tolist())])
        self._insert_rows("docs", [{"doc_id": _enc(d.doc_id), "v": [0.0, 0.0], "meta": json.dumps(
            d.model_dump(mode="json", exclude={"text"}))} for d in b.docs])
        self._insert_rows("text", [{"id": f"{_enc(d.doc_id)}#{p}", "doc_id": _enc(d.doc_id), "part": p, "v": [0.0, 0.0],
                                    "text": d.text[p * TEXT_PART:(p + 1) * TEXT_PART]}
                                   for d in b.docs for p in range(max(1, -(-len(d.text) // TEXT_PART)))])
        self._add_df(df, +1)
        self._set_meta(next_chunk=c0 + len(b.chunks), next_row=s0 + len(b.sentences))

    def _insert_rows(self, kind: str, rows: list[dict]) -> None:
        for lo in range(0, len(rows), _BATCH):
            self.client.insert(self._name(kind), rows[lo:lo + _BATCH])

    def _add_df(self, df: Counter, sign: int) -> None:
        terms = list(df)
        for lo in range(0, len(terms), _BATCH):
            part = terms[lo:lo + _BATCH]
            old = {_dec(r["term"]): int(r["df"]) for r in self.client.query(
                self._name("terms"), filter=f"term in {_lit(part)}", output_fields=["term", "df"])}
            rows = [{"term": _enc(t), "df": old.get(t, 0) + sign * df[t], "v": [0.0, 0.0]} for t in part]
            self._replace("terms", "term", [r for r in rows if r["df"] > 0], [r["term"] for r in rows if r["df"] <= 0])

    def remove_documents(self, doc_ids: Iterable[str]) -> None:
        with self._lock:
            ids = list(dict.fromkeys(doc_ids))
            for lo in range(0, len(ids), 100):
                flt = f"doc_id in {_lit(ids[lo:lo + 100])}"
                df: Counter[str] = Counter()
                it = self.client.query_iterator(self._name("chunks"), batch_size=_BATCH, filter=flt, output_fields=["terms"])
                while rows := it.next():
                    for r in rows:
                        df.update(set(r["terms"].split()) - {"∅"})
                it.close()
                self._add_df(df, -1)
                for kind in ("chunks", "sentences", "text", "docs"):
                    self.client.delete(self._name(kind), filter=flt)
            self._clear_caches()

    # -- the corpus folder, as the embedded store does it ----------------------------------------------------------
    def sync(self, progress=None) -> "MilvusStore":
        """Make the server hold exactly the corpus folder's documents: only new or changed ones are embedded."""
        from qa.ingest import load_corpus

        with self._lock:
            if self._meta("fingerprint") not in ("", self.settings.fingerprint()):
                log.warning("Milvus collections %s_* were built with other settings: rebuilding", self.prefix)
                self.drop()
                self._ensure()
            known = {}
            it = self.client.query_iterator(self._name("docs"), batch_size=_BATCH, filter="", output_fields=["doc_id", "meta"])
            while rows := it.next():
                known.update({_dec(r["doc_id"]): json.loads(r["meta"])["sha256"] for r in rows})
            it.close()
            report = load_corpus(Path(self.settings.corpus_dir), frozenset(known))
            current = {d.doc_id: d for d in report.documents}
            gone = [d for d, sha in known.items() if d not in current or current[d].sha256 != sha]
            if gone:
                self.remove_documents(gone)
            new = [d for d in report.documents if d.doc_id not in known or d.doc_id in gone]
            if new:
                self.add_documents(new, progress)
            self._set_meta(fingerprint=self.settings.fingerprint())
            self.skipped = report.skipped
            return self

    refresh = sync

    def add_files(self, paths, progress=None) -> list[str]:
        from qa.store import Store

        return Store.add_files(self, paths, progress)  # copies into corpus/uploads/, then refresh()

    def remove(self, doc_id: str) -> None:
        from qa.store import Store

        Store.remove(self, doc_id)


class _SentenceRows(Sequence):
    def __init__(self, store: MilvusStore):
        self._s = store

    def __len__(self) -> int:
        return self._s._count("sentences")

    def __getitem__(self, row):
        return self._s.sentence(int(row))

    def __iter__(self):
        for r in sorted(self._s._all_ids("sentences")):
            yield self._s.sentence(r)


def _enc(key: str) -> str:
    """A key as stored: as it is, unless it holds a quote or backslash (Milvus filters fail on them): then hex."""
    return key if not _UNSAFE.search(key) else "~" + key.encode().hex()


def _dec(key: str) -> str:
    return bytes.fromhex(key[1:]).decode() if key.startswith("~") else key


def _lit(value) -> str:
    """A Milvus filter literal of stored keys: JSON with characters as they are (escaped \\uXXXX never match)."""
    return json.dumps([_enc(v) for v in value] if isinstance(value, list) else _enc(value), ensure_ascii=False)


def _clip(text: str) -> str:
    raw = text.encode()
    return text if len(raw) <= MAX_VARCHAR else raw[:MAX_VARCHAR].decode(errors="ignore").rsplit(" ", 1)[0]


def open_milvus(settings: Settings, embedder=None, progress=None, rebuild: bool = False, empty: bool = False):
    """The Milvus store named by settings.store, in step with the corpus folder (unless empty=True)."""
    store = MilvusStore(settings, embedder)
    if rebuild or empty:
        store.drop()
        store._ensure()
        store._set_meta(fingerprint=settings.fingerprint())
    return store if empty else store.sync(progress)


# -- a local server for tests and trials ---------------------------------------------------------------------------
def start_local(data_dir: Path, port: int = 0, timeout: float = 60.0) -> tuple[str, subprocess.Popen]:
    """Start milvus-lite's C++ server on 127.0.0.1 (a free port when 0); returns its URI and the process."""
    spec = importlib.util.find_spec("milvus_lite")  # not imported: its __init__ needs pkg_resources
    if spec is None or not spec.submodule_search_locations:
        raise StoreError("milvus-lite is not installed: pip install -e '.[scale]'")
    lib = Path(spec.submodule_search_locations[0]) / "lib"
    if port == 0:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, LD_LIBRARY_PATH=f"{lib}:{os.environ.get('LD_LIBRARY_PATH', '')}")
    proc = subprocess.Popen([str(lib / "milvus"), str(data_dir / "milvus.db"), f"127.0.0.1:{port}", "ERROR"],
                            env=env, cwd=str(data_dir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StoreError(f"milvus-lite exited at start: {proc.stderr.read().decode()[-500:]}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return f"milvus://127.0.0.1:{port}", proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise StoreError(f"milvus-lite did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


if __name__ == "__main__":  # python -m qa.store_milvus [DATA_DIR] [PORT]: a local server until Ctrl-C
    import sys

    uri, proc = start_local(Path(sys.argv[1] if len(sys.argv) > 1 else "milvus-data"),
                            int(sys.argv[2]) if len(sys.argv) > 2 else 19530)
    print(f"milvus-lite (C++ engine) at {uri}: QA_STORE={uri} qa index", flush=True)
    try:
        proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
