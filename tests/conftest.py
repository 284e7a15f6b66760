"""Shared fixtures: the real corpus indexed once per session (real embedder), and small fake-embedder corpora."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# the same float32 vectors on every test machine, whatever its CPU (bfloat16 indexing has its own tests)
os.environ.setdefault("QA_EMBED_BF16", "off")

from qa.settings import ROOT, Settings  # noqa: E402

CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory) -> Settings:
    """The shipped corpus with the real embedder, indexed into a session temp folder."""
    return Settings.from_env(corpus_dir=CORPUS, index_dir=tmp_path_factory.mktemp("index"), llm="none")


@pytest.fixture(scope="session")
def real_store(real_settings):
    from qa.store import open_store

    return open_store(real_settings)


@pytest.fixture
def fake_settings(tmp_path) -> Settings:
    """A copy of the shipped corpus with the fast fake embedder, in a temp folder."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    return Settings.from_env(corpus_dir=corpus, index_dir=tmp_path / "index", embedder="fake", llm="none")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
