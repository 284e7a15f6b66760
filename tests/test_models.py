"""qa.models: the local model's files joined from package parts, verified by size and hash, stamped, rebuilt when
corrupt; the fast Q4_0 copy used only when made from the current source (fake parts on sys.path)."""

from __future__ import annotations

import hashlib
import json

import pytest

from qa import models
from qa.errors import ModelError


@pytest.fixture
def fake_parts(tmp_path, monkeypatch):
    """A 3-part fake model installed as packages fakeqa_part1..3 on sys.path, cached under tmp_path/cache."""
    blobs = [b"GGUF" + bytes(range(256)) * 3, b"x" * 1000, b"tail"]
    for i, blob in enumerate(blobs, 1):
        pkg = tmp_path / "site" / f"fakeqa_part{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(blob)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    joined = b"".join(blobs)
    spec = models.ModelFile("fake", "fake.gguf", "fakeqa-part{i}", "0.1", 3, len(joined),
                            hashlib.sha256(joined).hexdigest())
    monkeypatch.setitem(models.MODELS, "fake", spec)
    monkeypatch.setenv("QA_MODEL_DIR", str(tmp_path / "cache"))
    return spec, joined


def test_models_join_verify_and_stamp(fake_parts, monkeypatch):
    spec, joined = fake_parts
    path = models.model_path("fake")
    assert path.read_bytes() == joined and path.with_name("fake.gguf.verified").is_file()
    calls = []
    real_sha = models._sha256
    monkeypatch.setattr(models, "_sha256", lambda p: calls.append(p) or real_sha(p))
    assert models.model_path("fake") == path and calls == []  # the stamp makes a second load instant
    assert models.is_available("fake")


def test_models_rebuild_a_corrupt_file(fake_parts):
    spec, joined = fake_parts
    path = models.model_path("fake")
    data = bytearray(joined)
    data[10] ^= 0xFF
    path.write_bytes(bytes(data))  # same size, new mtime: the stamp no longer vouches for it
    assert not models.verify(path, spec)
    assert models.model_path("fake").read_bytes() == joined


def test_models_missing_parts_or_wrong_size(fake_parts, monkeypatch):
    spec, _ = fake_parts
    monkeypatch.setitem(models.MODELS, "fake", spec.__class__(**{**spec.__dict__, "size": 5}))
    with pytest.raises(ModelError, match="add up to"):
        models.model_path("fake")
    monkeypatch.setitem(models.MODELS, "fake", spec.__class__(**{**spec.__dict__, "parts": 4}))
    with pytest.raises(ModelError, match=r"pip install fakeqa-part\{1..4\}==0.1"):
        models.model_path("fake")
    with pytest.raises(ModelError, match="valid: local, local-small"):
        models.model_path("nope")


def test_fast_copy_is_used_only_when_made_from_the_current_source(fake_parts, monkeypatch):
    spec, _ = fake_parts
    monkeypatch.setitem(models.FAST, "fake", models.FastCopy(filename="fake-q4_0.gguf", ftype=2))
    source = models.model_path("fake")
    assert models.fast_path("fake") is None  # not made yet: the shipped file is used
    copy = source.with_name("fake-q4_0.gguf")
    copy.write_bytes(b"GGUF q4_0")
    stamp = {"stat": models._stat_key(copy), "source_sha256": spec.sha256}
    copy.with_name(copy.name + ".verified").write_text(json.dumps(stamp))
    assert models.fast_path("fake") == copy
    copy.write_bytes(b"GGUF q4_0, changed")  # a different file than the one stamped
    assert models.fast_path("fake") is None
    stamp = {"stat": models._stat_key(copy), "source_sha256": "0" * 64}  # made from another source
    copy.with_name(copy.name + ".verified").write_text(json.dumps(stamp))
    assert models.fast_path("fake") is None
    assert models.fast_path("local-small") is None  # no fast copy for this one


def test_models_cli_status(capsys):
    assert models.main(["status"]) == 0
    assert "local-small" in capsys.readouterr().out
