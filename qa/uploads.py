"""Uploaded files -> safe files inside the upload folder, ready for ``Store.add_files``.

A browser or API client chooses the file name, so the name is rebuilt from a small alphabet: no path separators,
no NUL or control characters, no leading dots, bounded length. The result is written with ``O_CREAT | O_EXCL |
O_NOFOLLOW`` inside the upload folder and checked to resolve there, so ``../../etc/passwd``, absolute paths, NUL
bytes and pre-planted symlinks cannot write anywhere else. Type is checked by suffix and by the first bytes
(``%PDF-``, a zip for .docx, no NUL bytes in text); size by ``max_bytes``. Each refusal is an ``UploadError`` with a
message a user can act on. Left out: virus scanning and content parsing (``qa.ingest`` reads the saved file).
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import UploadError
from qa.ingest import file_sha256

ALLOWED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_FILES_PER_UPLOAD = 20
MAX_NAME_CHARS = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def human_size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"


def safe_filename(name: str) -> str:
    """A name that is one plain path component with an allowed suffix, or UploadError."""
    if not isinstance(name, str):
        raise UploadError("the file has no usable name")
    name = unicodedata.normalize("NFKC", name).replace("\x00", "")
    name = re.split(r"[/\\]", name)[-1]  # last component of a Unix or Windows path
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")  # control/format characters
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    suffix = "." + suffix.lower() if suffix else ""
    if suffix not in ALLOWED_SUFFIXES:
        shown = suffix or "no extension"
        raise UploadError(f"{name[:60]!r}: {shown} files are not accepted; use {', '.join(ALLOWED_SUFFIXES)}")
    stem = _UNSAFE.sub("_", stem).strip("._-")[: MAX_NAME_CHARS - len(suffix)]
    return (stem or "upload") + suffix


def check_content(path: Path, name: str, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Size and magic-byte checks on the received file; UploadError on failure."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UploadError(f"{name}: the upload could not be read ({exc.strerror or exc})") from None
    if size == 0:
        raise UploadError(f"{name}: the file is empty")
    if size > max_bytes:
        raise UploadError(f"{name}: {human_size(size)} is over the {human_size(max_bytes)} limit")
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
    except OSError as exc:  # a folder, or a file this process may not read
        raise UploadError(f"{name}: the upload could not be read ({exc.strerror or exc})") from None
    suffix = Path(name).suffix.lower()
    if suffix == ".pdf" and b"%PDF-" not in head[:1024]:
        raise UploadError(f"{name}: this is not a PDF file")
    if suffix == ".docx" and not head.startswith(b"PK\x03\x04"):
        raise UploadError(f"{name}: this is not a .docx file")
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    if suffix in TEXT_SUFFIXES and b"\x00" in head and not utf16:
        raise UploadError(f"{name}: this looks like a binary file, not text")


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().parent == folder.resolve()


def save_upload(src: str | Path, name: str, upload_dir: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Path:
    """Copy one received file into upload_dir under a safe name; identical content reuses the existing file."""
    safe = safe_filename(name)
    src = Path(src)
    check_content(src, safe, max_bytes)
    folder = Path(upload_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stem, suffix = safe[: -len(Path(safe).suffix)], Path(safe).suffix
    digest = file_sha256(src)
    for n in range(1000):
        dest = folder / (safe if n == 0 else f"{stem}-{n}{suffix}")
        if dest.is_symlink():
            continue  # never write through, or reuse, a link planted in the folder
        if not _inside(dest, folder):
            raise UploadError(f"{safe}: refused, the name does not stay inside the upload folder")
        if dest.exists():
            if dest.is_file() and file_sha256(dest) == digest:
                return dest  # the same document again
            continue
        try:
            fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except FileExistsError:
            continue  # another request took the name in the meantime
        try:
            with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
                copied = 0
                for block in iter(lambda: inp.read(1 << 20), b""):
                    copied += len(block)
                    if copied > max_bytes:
                        raise UploadError(f"{safe}: over the {human_size(max_bytes)} limit")
                    out.write(block)
        except BaseException:
            dest.unlink(missing_ok=True)
            raise
        return dest
    raise UploadError(f"{safe}: too many files with this name in the upload folder")


@dataclass
class UploadReport:
    """What happened to each file of one upload."""

    saved: list[tuple[str, Path]] = field(default_factory=list)  # (name as sent, path written)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (name as sent, reason)


def save_uploads(items, upload_dir: str | Path, max_bytes: int = DEFAULT_MAX_BYTES,
                 max_files: int = MAX_FILES_PER_UPLOAD) -> UploadReport:
    """Save (src_path, name) pairs; a refused file is reported and does not stop the others."""
    report = UploadReport()
    items = list(items)
    for i, (src, name) in enumerate(items):
        shown = str(name).replace("\x00", "")[:80]
        if i >= max_files:
            report.refused.append((shown, f"more than {max_files} files in one upload"))
            continue
        try:
            report.saved.append((shown, save_upload(src, name, upload_dir, max_bytes)))
        except UploadError as exc:
            report.refused.append((shown, str(exc)))
    return report
