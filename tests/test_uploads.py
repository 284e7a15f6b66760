"""qa.uploads: names cannot escape the upload folder; type and size limits refuse with a message."""

import os

import pytest

from qa.errors import UploadError
from qa.uploads import safe_filename, save_upload, save_uploads


@pytest.mark.parametrize("name, expected", [
    pytest.param("report.txt", "report.txt", id="plain"),
    pytest.param("../../etc/passwd.txt", "passwd.txt", id="dot-dot"),
    pytest.param("/etc/cron.d/evil.md", "evil.md", id="absolute"),
    pytest.param("C:\\Windows\\System32\\evil.html", "evil.html", id="windows-path"),
    pytest.param("..\\..\\boot.ini.txt", "boot.ini.txt", id="windows-dot-dot"),
    pytest.param("evil\x00.txt", "evil.txt", id="nul-byte"),
    pytest.param("a\x00/../../b.pdf", "b.pdf", id="nul-then-traversal"),
    pytest.param(".bashrc.md", "bashrc.md", id="leading-dot"),
    pytest.param("...txt", "upload.txt", id="only-dots"),
    pytest.param("My Report (final).DOCX", "My_Report_final.docx", id="spaces-parens-upper-suffix"),
    pytest.param("re\u202eport.txt", "report.txt", id="rtl-override"),
    pytest.param("ｆｕｌｌ／ｗｉｄｔｈ.txt", "width.txt", id="fullwidth-slash-nfkc"),
    pytest.param("résumé.md", "r_sum.md", id="non-ascii"),
    pytest.param("x" * 500 + ".txt", "x" * 96 + ".txt", id="too-long"),
])
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


@pytest.mark.parametrize("name", [
    pytest.param("tool.exe", id="exe"), pytest.param("script.sh", id="sh"), pytest.param("README", id="no-suffix"),
    pytest.param("page.html.exe", id="double-suffix"), pytest.param("../../etc/passwd", id="passwd"),
    pytest.param("x.txt\x00.exe", id="nul-hides-suffix"), pytest.param("", id="empty"),
])
def test_refused_types(name):
    with pytest.raises(UploadError, match="not accepted"):
        safe_filename(name)


@pytest.mark.parametrize("name, data, message", [
    pytest.param("empty.txt", b"", "empty", id="empty"),
    pytest.param("big.txt", b"a" * 2000, "limit", id="too-big"),
    pytest.param("fake.pdf", b"hello", "not a PDF", id="fake-pdf"),
    pytest.param("fake.docx", b"hello", "not a .docx", id="fake-docx"),
    pytest.param("bin.txt", b"ab\x00\x01\x02cd", "binary", id="binary-text"),
])
def test_content_checks(tmp_path, name, data, message):
    src = tmp_path / "in"
    src.write_bytes(data)
    with pytest.raises(UploadError, match=message):
        save_upload(src, name, tmp_path / "up", max_bytes=1000)
    assert not (tmp_path / "up").exists() or not any((tmp_path / "up").iterdir())


@pytest.mark.parametrize("make", [
    pytest.param(lambda p: p.mkdir(), id="a-folder"),
    pytest.param(lambda p: None, id="missing"),
])
def test_unreadable_upload_is_refused(tmp_path, make):
    src = tmp_path / "in"
    make(src)
    with pytest.raises(UploadError, match="could not be read"):
        save_upload(src, "notes.txt", tmp_path / "up")


@pytest.mark.parametrize("name", ["../../etc/passwd.txt", "/tmp/abs.txt", "a\x00b.txt", "..\\..\\x.txt"])
def test_saved_file_stays_in_upload_folder(tmp_path, name):
    src = tmp_path / "in"
    src.write_text("Some text.")
    up = tmp_path / "deep" / "up"
    dest = save_upload(src, name, up)
    assert dest.resolve().parent == up.resolve() and dest.read_text() == "Some text."
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(["in", dest.name])


def test_same_content_reuses_file_and_other_content_gets_new_name(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("first")
    b.write_text("second")
    up = tmp_path / "up"
    assert save_upload(a, "n.txt", up).name == "n.txt"
    assert save_upload(a, "n.txt", up).name == "n.txt"
    assert save_upload(b, "n.txt", up).name == "n-1.txt"


def test_planted_symlink_is_not_followed(tmp_path):
    target = tmp_path / "outside.txt"
    target.write_text("keep me")
    up = tmp_path / "up"
    up.mkdir()
    os.symlink(target, up / "n.txt")
    src = tmp_path / "in"
    src.write_text("new content")
    dest = save_upload(src, "n.txt", up)
    assert dest.name == "n-1.txt" and target.read_text() == "keep me"


def test_batch_reports_each_file(tmp_path):
    good, bad = tmp_path / "g", tmp_path / "b"
    good.write_text("fine")
    bad.write_bytes(b"MZ\x00\x00")
    report = save_uploads([(good, "g.md"), (bad, "b.pdf"), (good, "run.exe")], tmp_path / "up", max_files=5)
    assert [n for n, _ in report.saved] == ["g.md"]
    assert [n for n, _ in report.refused] == ["b.pdf", "run.exe"]
    report = save_uploads([(good, f"{i}.txt") for i in range(4)], tmp_path / "up2", max_files=2)
    assert len(report.saved) == 2 and "more than 2" in report.refused[0][1]
