"""The page's handlers called directly (qa.page.Page): no server, no browser, fake answers and a fake store.

Each event and endpoint of app.py is one method; these check what it returns for good and bad input (an empty or
100 kB question, unreadable uploads, unknown documents, broken offsets, a failing store or model): always a short
message a person can act on, never a traceback. tests/test_app_api.py and tests/test_app_browser.py run the same
methods behind a real server.
"""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path

import pytest

from qa import page as qa_page
from qa.errors import GENERIC_ERROR, BadQuestion, CorpusError
from qa.page import Page, clean_history, llm_spec, request_settings, shown_question, upload_message
from qa.pipeline import clean_question
from qa.sample_questions import SEED
from qa.settings import Settings
from qa.types import Evidence
from tests.app_fakes import ROOT, FakeStore, copy_corpus, fake_ask, fake_stream

HUGE = "When was Azerbaijan admitted to the UN? " * 2_500  # 100,000 characters of words


def strict_ask(question, settings=None, **kwargs):
    """fake_ask behind the pipeline's own question checks (empty, not text, too long)."""
    clean = clean_question(question)
    if len(clean) > settings.max_question_chars:
        raise BadQuestion(f"the question is {len(clean):,} characters long; the limit is "
                          f"{settings.max_question_chars:,}")
    return fake_ask(clean, settings, **kwargs)


@pytest.fixture
def store(tmp_path) -> FakeStore:
    return FakeStore(copy_corpus(tmp_path / "corpus"))


def make_page(store, ask_fn=strict_ask, stream_fn=None, **kw) -> Page:
    return Page(ask_fn, stream_fn, lambda: store, Settings.from_env(corpus_dir=store.corpus_dir), **kw)


def submit(page: Page, *args) -> list[tuple[list, list, str]]:
    """Every state chat_submit yields, copied (it updates one chat list in place, as Gradio shows each at once)."""
    return [(list(chat), list(history), box) for chat, history, box in page.chat_submit(*args)]


def last_html(steps) -> str:
    chat, _, _ = steps[-1]
    return chat[-1]["content"]


def gradio_message(exc: BaseException) -> str:
    return getattr(exc, "message", str(exc))


# -- the chat -------------------------------------------------------------------------------------------------
def test_chat_streams_then_shows_the_cited_answer(store):
    steps = submit(make_page(store, fake_ask, fake_stream), SEED, [], [], "auto", 0)
    chat, history, box = steps[0]
    assert box == "" and [m["role"] for m in chat] == ["user", "assistant"] and "qa-streaming" in chat[1]["content"]
    chat, history, box = steps[-1]
    assert box == "" and "qa-streaming" not in chat[-1]["content"] and "qa-card" in chat[-1]["content"]
    assert [m["role"] for m in history] == ["user", "assistant"] and history[0]["content"] == SEED
    assert "2 March 1992" in history[1]["content"]


def test_evidence_cards_come_before_the_text(store):
    def stream(question, settings=None, **kw):
        answer = fake_ask(question, settings, **kw)
        yield Evidence(citations=answer.citations)
        yield "Azerbaijan was admitted "
        yield answer

    shown = [chat[-1]["content"] for chat, _, _ in submit(make_page(store, None, stream), SEED, [], [], "", 0)]
    evidence_at = next(i for i, html in enumerate(shown) if "qa-evidence" in html)
    assert "Writing the answer" in shown[evidence_at] and "qa-text" not in shown[evidence_at]
    assert "qa-evidence" not in shown[-1] and "qa-mode" in shown[-1]


def test_follow_up_sends_the_history(store):
    page = make_page(store, fake_ask)
    _, history, _ = submit(page, SEED, [], [], "auto", 0)[-1]
    steps = submit(page, "And which UN bodies was Azerbaijan elected to?", [], history, "extractive", 3)
    html = last_html(steps)
    assert "history used" in html and "llm=none" in html and "k_evidence=3" in html
    assert len(steps[-1][1]) == 4


@pytest.mark.parametrize("question", [pytest.param("", id="empty"), pytest.param("  \n\t", id="whitespace"),
                                      pytest.param(None, id="none"), pytest.param(42, id="number")])
def test_blank_question_changes_nothing(store, question):
    chat = [{"role": "user", "content": "earlier"}]
    steps = submit(make_page(store), question, chat, [], "auto", 0)
    assert len(steps) == 1 and steps[0][0] == chat and steps[0][1] == []


@pytest.mark.parametrize("question, words", [
    pytest.param(HUGE, "the limit is", id="100kB"),
    pytest.param(bytes(range(256)).decode("latin-1") * 4, "does not look like text", id="binary-garbage"),
    pytest.param("please explode", GENERIC_ERROR, id="internal-error-is-generic"),
])
def test_bad_question_is_one_short_message(store, question, words):
    steps = submit(make_page(store), question, [], [], "auto", 0)
    html = last_html(steps)
    assert "qa-error" in html and words in html
    assert "Traceback" not in html and "/secret/path" not in html and len(html) < 600
    assert steps[-1][1] == []  # a failed turn is not history


def test_huge_question_is_shown_cut_with_its_length(store):
    chat, _, _ = submit(make_page(store), HUGE, [], [], "auto", 0)[0]
    assert "(100,000 characters)" in chat[0]["content"] and len(chat[0]["content"]) < 5000


def test_stream_without_a_final_answer(store):
    steps = submit(make_page(store, None, lambda q, s, **kw: iter(["some text "])), SEED, [], [], "", 0)
    assert "the answer did not arrive" in last_html(steps)


@pytest.mark.parametrize("passages", [pytest.param("many", id="word"), pytest.param([1], id="list")])
def test_bad_passages_value(store, passages):
    assert "whole number" in last_html(submit(make_page(store), SEED, [], [], "auto", passages))


# -- the API endpoints ----------------------------------------------------------------------------------------
def test_ask_endpoint_returns_the_answer_dict(store):
    data = make_page(store, None, fake_stream).ask(SEED)  # only a stream function: run_ask keeps its final Answer
    assert data["question"] == SEED and data["citations"]
    for c in data["citations"]:
        assert store.docs[c["doc_id"]].text[c["start"]:c["end"]] == c["quote"]


@pytest.mark.parametrize("question, words", [
    pytest.param("", "the question is empty", id="empty"),
    pytest.param(HUGE, "the limit is", id="100kB"),
    pytest.param("please explode", GENERIC_ERROR, id="internal-error-is-generic"),
])
def test_ask_endpoint_errors(store, question, words):
    with pytest.raises(Exception) as info:
        make_page(store).ask(question)
    assert type(info.value).__name__ == "Error" and words in gradio_message(info.value)
    assert "/secret/path" not in gradio_message(info.value)


def test_documents_are_sorted(store):
    listed = make_page(store).documents()
    assert [d["doc_id"] for d in listed] == sorted(store.docs)
    assert all(d["chars"] == len(store.docs[d["doc_id"]].text) for d in listed)


def test_remove_endpoint(store):
    page = make_page(store)
    doc_id = sorted(store.docs)[0]
    assert page.remove(doc_id) == {"removed": doc_id, "documents": len(store.docs)} and doc_id not in store.docs
    with pytest.raises(Exception, match="no document"):
        page.remove("../../etc/passwd")


# -- uploads --------------------------------------------------------------------------------------------------
def test_upload_good_and_unreadable_files(store, tmp_path):
    good = tmp_path / "harbour note.md"
    good.write_text("# Harbour\n\nThe old harbour of Baku was rebuilt in 2011.\n")
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    fake_pdf = tmp_path / "report.pdf"
    fake_pdf.write_bytes(b"#!/bin/sh\n")
    page = make_page(store, upload_dir=store.corpus_dir / "uploads")
    result = page.upload([str(good), str(folder), str(tmp_path / "gone.txt"), str(fake_pdf)])
    assert result["added"] == ["uploads/harbour_note.md"] and result["documents"] == len(store.docs)
    reasons = {r["name"]: r["reason"] for r in result["refused"]}
    assert "could not be read" in reasons["folder.txt"] and "could not be read" in reasons["gone.txt"]
    assert "not a PDF" in reasons["report.pdf"]
    message = upload_message(result)
    assert "Added: uploads/harbour_note.md" in message
    assert "Refused: folder.txt: the upload could not be read" in message


@pytest.mark.parametrize("error, reason", [
    pytest.param(CorpusError("uploads/note.txt: no readable text"), "uploads/note.txt: no readable text",
                 id="qa-error"),
    pytest.param(RuntimeError("disk on fire at /secret/path"), qa_page.INDEX_FAILED, id="internal"),
])
def test_upload_that_cannot_be_indexed(store, tmp_path, error, reason):
    def add_files(paths, progress=None):
        raise error

    store.add_files = add_files
    note = tmp_path / "note.txt"
    note.write_text("Some text about the harbour.")
    result = make_page(store, upload_dir=tmp_path / "up").upload(str(note))
    assert result["added"] == [] and result["refused"] == [{"name": "note.txt", "reason": reason}]


def test_after_upload_escapes_and_clears_the_control(store):
    msg, listing, control = make_page(store).after_upload({"added": [], "refused": [
        {"name": "<b>x.txt", "reason": "<b>x.txt: refused"}, {"name": "y.exe", "reason": "not accepted"}]})
    assert control is None and "qa-doc" in listing
    assert msg == "<p>Refused: &lt;b&gt;x.txt: refused</p><p>Refused y.exe: not accepted</p>"
    assert make_page(store).after_upload(None)[0] == ""


# -- the corpus list and the source viewer ----------------------------------------------------------------------
@pytest.mark.parametrize("data", [None, {}, {"doc_id": ""}, "not a dict"])
def test_remove_click_without_a_document(store, data):
    assert make_page(store).remove_clicked(data)[0] == ""


def test_remove_click(store):
    page = make_page(store)
    doc_id = sorted(store.docs)[0]
    msg, listing = page.remove_clicked({"doc_id": doc_id})
    assert msg == f"<p>Removed {doc_id}.</p>" and doc_id not in listing
    msg, _ = page.remove_clicked({"doc_id": doc_id})
    assert "qa-error" in msg and "no document" in msg


def test_remove_click_internal_error(store):
    def remove(doc_id):
        raise OSError("/secret/path is read-only")

    store.remove = remove
    msg, _ = make_page(store).remove_clicked({"doc_id": "a.txt"})
    assert qa_page.REMOVE_FAILED in msg and "/secret/path" not in msg


def test_open_source_highlights_the_offsets(store):
    doc = store.docs[sorted(store.docs)[0]]
    start = doc.text.index("Azerbaijan")
    html = make_page(store).open_source({"doc_id": doc.doc_id, "start": start, "end": start + len("Azerbaijan")})
    assert 'class="qa-hl">Azerbaijan</mark>' in html


@pytest.mark.parametrize("req, words", [
    pytest.param({"doc_id": "nope.txt", "start": 0, "end": 5}, "no longer in the corpus", id="unknown-doc"),
    pytest.param({"doc_id": "mfa-relations-azerbaijan-un.txt", "start": 5, "end": 10**9}, "is outside",
                 id="offsets-past-the-end"),
    pytest.param({"doc_id": "x", "start": "0", "end": "5"}, qa_page.OPEN_FAILED, id="string-offsets"),
    pytest.param({"doc_id": "x"}, qa_page.OPEN_FAILED, id="no-offsets"),
    pytest.param(None, qa_page.OPEN_FAILED, id="none"),
])
def test_open_source_bad_requests(store, req, words):
    html = make_page(store).open_source(req)
    assert words in html and "<mark" not in html


def test_docs_panel_when_the_store_fails(tmp_path):
    def broken():
        raise CorpusError("corpus/ is empty: add .txt files")

    page = Page(fake_ask, None, broken, Settings.from_env(corpus_dir=tmp_path))
    assert "corpus/ is empty" in page.docs_panel("hi")[1] and page.docs_panel("hi")[0] == "hi"
    page = Page(fake_ask, None, lambda: 1 / 0, Settings.from_env(corpus_dir=tmp_path))
    assert qa_page.LIST_FAILED in page.docs_panel()[1]


def test_new_conversation():
    assert Page.new_conversation() == ([], [], qa_page.VIEWER_EMPTY)


# -- pure helpers -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model, llm, env, spec", [
    pytest.param(None, "local", {}, None, id="none-is-auto"),
    pytest.param(" auto ", "local", {}, None, id="auto"),
    pytest.param("extractive", "local", {}, "none", id="extractive"),
    pytest.param("hosted", "openai:gpt-x", {}, "openai:gpt-x", id="hosted-from-settings"),
    pytest.param("hosted", "local", {"QA_HOSTED_LLM": "openai:m"}, "openai:m", id="hosted-from-env"),
    pytest.param("hosted", "local", {}, qa_page.DEFAULT_HOSTED_LLM, id="hosted-default"),
    pytest.param("local-small", "local", {}, "local-small", id="passes-through"),
])
def test_llm_spec(model, llm, env, spec):
    assert llm_spec(model, Settings.from_env(llm=llm), env) == spec


@pytest.mark.parametrize("passages, k", [
    pytest.param(0, None, id="zero-default"), pytest.param(None, None, id="none-default"),
    pytest.param("3", 3, id="text-number"), pytest.param(500, qa_page.MAX_PASSAGES, id="capped"),
    pytest.param(-2, None, id="negative-default"),
])
def test_request_settings(passages, k):
    settings = Settings.from_env()
    assert request_settings(settings, passages).k_evidence == (k or settings.k_evidence)


def test_clean_history():
    history = [{"role": "system", "content": "x"}, "junk", {"role": "user", "content": None},
               {"role": "assistant", "content": "a" * 10_000}]
    assert clean_history(history) == [{"role": "user", "content": ""},
                                      {"role": "assistant", "content": "a" * qa_page.MAX_HISTORY_CHARS}]
    many = [{"role": "user", "content": str(i)} for i in range(40)]
    assert [m["content"] for m in clean_history(many)] == [str(i) for i in range(28, 40)]
    assert clean_history(None) == []


def test_shown_question():
    assert shown_question("short?") == "short?"
    assert shown_question(HUGE).endswith("… (100,000 characters)")


def test_page_files_are_package_data():
    """qa/static/ ships in a non-editable install: every file there matches pyproject's package-data."""
    tomllib = pytest.importorskip("tomllib")
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "qa.static" in setuptools["packages"]
    globs = setuptools["package-data"]["qa.static"]
    static = sorted(p for p in (Path(qa_page.__file__).parent / "static").iterdir())
    assert {p.name for p in static} == {"page.css", "viewer.js", "docs.js"}
    for p in static:
        assert any(fnmatch(p.name, g) for g in globs), p.name
        assert qa_page.asset(p.name) == p.read_text()


def test_the_start_warm_up_loads_the_parser(real_store, monkeypatch):
    """`qa serve` warms every stage before the first question: spaCy's parser too (answer slots, tenses), whatever
    the warm-up answer needed."""
    import types

    import app
    from qa import candidates

    monkeypatch.setenv("QA_LLM", "none")
    candidates._dep_nlp.cache_clear()
    app._warm(types.SimpleNamespace(qa_warm=lambda: real_store), warm_model=True)
    assert candidates._dep_nlp.cache_info().currsize == 1
