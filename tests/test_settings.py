"""Settings: every field is typed, has a default and a QA_* environment variable; nothing hides in an untyped dict."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from qa.settings import Settings


def test_no_untyped_extra_dict():
    assert "extra" not in {f.name for f in fields(Settings)}
    assert all(f.type in ("Path", "str", "int", "float", "bool") for f in fields(Settings)), \
        [(f.name, f.type) for f in fields(Settings)]


@pytest.mark.parametrize("name, raw, value", [
    pytest.param("disagree_k", "20", 20, id="int"),
    pytest.param("disagree_pair_sim_lexical", "0.2", 0.2, id="float"),
    pytest.param("reattribute", "0", False, id="bool-off"),
    pytest.param("stance_conflicts", "yes", True, id="bool-on"),
    pytest.param("local_weights", "fast", "fast", id="str"),
    pytest.param("index_dir", "/tmp/qa-index", Path("/tmp/qa-index"), id="path"),
])
def test_env_var_sets_field(monkeypatch, name, raw, value):
    monkeypatch.setenv("QA_" + name.upper(), raw)
    assert getattr(Settings.from_env(), name) == value


def test_every_field_reads_its_env_var(monkeypatch):
    base = Settings()
    for f in fields(Settings):
        default = getattr(base, f.name)
        if isinstance(default, Path):
            changed = Path("/tmp") / f.name
        else:
            changed = {bool: lambda: not default, int: lambda: default + 1, float: lambda: default + 0.5,
                       str: lambda: default + "x"}[type(default)]()
        monkeypatch.setenv("QA_" + f.name.upper(), str(int(changed) if isinstance(changed, bool) else changed))
        assert getattr(Settings.from_env(), f.name) == changed, f.name
        monkeypatch.delenv("QA_" + f.name.upper())


def test_overrides_beat_env(monkeypatch):
    monkeypatch.setenv("QA_DISAGREE_K", "20")
    assert Settings.from_env(disagree_k=7).disagree_k == 7
    assert Settings.from_env().with_(lookup=10).lookup == 10


def test_fingerprint_ignores_answer_time_settings():
    assert Settings().fingerprint() == Settings(disagree_k=30, min_score_ratio=0.5).fingerprint()
    assert Settings().fingerprint() != Settings(chunk_chars=500).fingerprint()
