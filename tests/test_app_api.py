"""The page's API through gradio_client against the real app on a free loopback port.

A fake answer function (real citations into a copy of the corpus) keeps the API tests fast; the last tests run the
real pipeline (qa.pipeline.ask_stream, real store, extractive) through the same endpoints, 10 questions at once.
"""

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from qa.errors import QAError
from qa.sample_questions import QUESTIONS, SEED
from qa.types import Answer
from tests.app_fakes import FakeStore, copy_corpus, fake_ask, fake_stream


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(demo, **kw):
    import app

    port = free_port()
    app.launch(port=port, demo=demo, prevent_thread_lock=True, quiet=True, **kw)
    return f"http://127.0.0.1:{port}/"


def client(url, **kw):
    from gradio_client import Client

    return Client(url, verbose=False, analytics_enabled=False, download_files=False, **kw)


def check_answer(data: dict, docs) -> Answer:
    """Well-formed: parses as an Answer, and every quote is the document text at its offsets."""
    answer = Answer.model_validate(data)
    assert answer.abstained or answer.citations
    for c in answer.citations:
        assert docs[c.doc_id].text[c.start:c.end] == c.quote
        assert f"[{c.n}]" in answer.text
    return answer


@pytest.fixture(scope="module")
def fake_app(tmp_path_factory):
    import app
    from qa.settings import Settings

    root = tmp_path_factory.mktemp("api")
    corpus = copy_corpus(root / "corpus")
    store = FakeStore(corpus)
    calls = []

    def counting_ask(*args, **kwargs):
        calls.append(threading.current_thread().name)
        return fake_ask(*args, **kwargs)

    demo = app.create_app(ask_fn=counting_ask, stream_fn=fake_stream, store_fn=lambda: store,
                          settings=Settings.from_env(corpus_dir=corpus), max_upload_bytes=4096)
    url = serve(demo)
    yield url, store, corpus, calls
    demo.close()


def test_ask_returns_answer_dict(fake_app):
    url, store, _, _ = fake_app
    data = client(url).predict(SEED, api_name="/ask")
    answer = check_answer(data, store.docs)
    assert "2 March 1992" in " ".join(c.quote for c in answer.citations)


def test_ask_passes_settings_and_history(fake_app):
    url, store, _, _ = fake_app
    history = [{"role": "user", "content": SEED}, {"role": "assistant", "content": "On 2 March 1992 [1]."}]
    data = client(url).predict("And when was the UN established?", "extractive", 3, history, api_name="/ask")
    notes = check_answer(data, store.docs).notes
    assert {"history used", "llm=none", "k_evidence=3"} <= set(notes)
    default = check_answer(client(url).predict(SEED, api_name="/ask"), store.docs).notes
    assert "llm=None" in default and "history used" not in default  # "auto": settings.llm decides


def test_ten_concurrent_questions(fake_app):
    url, store, _, calls = fake_app
    c = client(url)
    before = len(calls)
    jobs = [c.submit(q, api_name="/ask") for q in QUESTIONS]
    answers = [check_answer(job.result(timeout=60), store.docs) for job in jobs]
    assert len(answers) == 10 and len(calls) - before == 10
    assert [a.question for a in answers] == list(QUESTIONS)


@pytest.mark.parametrize("question, message", [
    pytest.param("", "empty", id="empty"),
    pytest.param("   \n\t", "empty", id="whitespace"),
    pytest.param("please explode now", "Something went wrong", id="internal-error-is-generic"),
])
def test_errors_are_short_messages(fake_app, question, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as info:
        client(fake_app[0]).predict(question, api_name="/ask")
    text = str(info.value)
    assert message in text
    assert "Traceback" not in text and "/secret/path" not in text


def test_upload_documents_remove(fake_app, tmp_path):
    from gradio_client import handle_file

    url, store, corpus, _ = fake_app
    c = client(url)
    good = tmp_path / "harbour note.md"
    good.write_text("# Harbour\n\nThe old harbour of Baku was rebuilt in 2011 by the city council.\n")
    bad = tmp_path / "payload.pdf"
    bad.write_bytes(b"#!/bin/sh\necho not a pdf\n")
    big = tmp_path / "big.txt"
    big.write_text("word " * 2000)  # over the 4096-byte limit of this app
    result = c.predict([handle_file(str(good)), handle_file(str(bad)), handle_file(str(big))], api_name="/upload")
    assert result["added"] == ["uploads/harbour_note.md"]
    reasons = {r["name"]: r["reason"] for r in result["refused"]}
    assert "not a PDF" in reasons["payload.pdf"] and "limit" in reasons["big.txt"]
    assert (corpus / "uploads" / "harbour_note.md").read_bytes() == good.read_bytes()
    assert sorted(p.name for p in (corpus / "uploads").iterdir()) == ["harbour_note.md"]

    listed = {d["doc_id"]: d for d in c.predict(api_name="/documents")}
    assert "uploads/harbour_note.md" in listed and len(listed) == len(store.docs)
    answer = check_answer(c.predict("When was the old harbour of Baku rebuilt?", api_name="/ask"), store.docs)
    assert answer.citations[0].doc_id == "uploads/harbour_note.md"

    assert c.predict("uploads/harbour_note.md", api_name="/remove")["removed"] == "uploads/harbour_note.md"
    assert "uploads/harbour_note.md" not in {d["doc_id"] for d in c.predict(api_name="/documents")}
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="no document"):
        c.predict("../../etc/passwd", api_name="/remove")


@pytest.mark.parametrize("host, loopback", [
    pytest.param("127.0.0.1", True, id="ipv4-loopback"),
    pytest.param("127.0.0.2", True, id="ipv4-loopback-range"),
    pytest.param("localhost", True, id="localhost"),
    pytest.param("::1", True, id="ipv6-loopback"),
    pytest.param("0.0.0.0", False, id="all-interfaces"),
    pytest.param("::", False, id="ipv6-all"),
    pytest.param("192.168.1.5", False, id="lan"),
    pytest.param("example.com", False, id="hostname"),
])
def test_is_loopback(host, loopback):
    import app

    assert app.is_loopback(host) is loopback


@pytest.mark.parametrize("kwargs", [
    pytest.param({"host": "0.0.0.0"}, id="all-interfaces"),
    pytest.param({"host": "192.168.1.5", "auth": ("qa", "pw")}, id="lan-even-with-password"),
    pytest.param({"share": True}, id="share-link"),
])
def test_network_exposure_needs_explicit_flag(kwargs):
    import app

    with pytest.raises(QAError, match="allow-remote"):
        app.launch(demo=object(), **kwargs)  # refused before anything is built or bound


def test_password_protects_page_and_api(tmp_path):
    import app
    from qa.settings import Settings

    corpus = copy_corpus(tmp_path / "corpus")
    store = FakeStore(corpus)
    demo = app.create_app(ask_fn=fake_ask, store_fn=lambda: store, settings=Settings.from_env(corpus_dir=corpus))
    url = serve(demo, auth=("qa", "s3cret-pw"))
    try:
        with pytest.raises(Exception):
            client(url).predict(SEED, api_name="/ask")
        check_answer(client(url, auth=("qa", "s3cret-pw")).predict(SEED, api_name="/ask"), store.docs)
    finally:
        demo.close()


# -- the real pipeline ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_app(real_settings, real_store):
    import app

    demo = app.create_app(settings=real_settings, store_fn=lambda: real_store)  # default: qa.pipeline
    url = serve(demo)
    yield url, real_store
    demo.close()


def test_real_pipeline_through_api(real_app):
    url, store = real_app
    answer = check_answer(client(url).predict(SEED, "extractive", api_name="/ask"), store.docs)
    assert not answer.abstained
    assert any("2 March 1992" in c.quote for c in answer.citations)


def test_real_pipeline_ten_concurrent(real_app):
    url, store = real_app
    c = client(url)
    with ThreadPoolExecutor(10) as pool:  # ten separate callers, not one client's queue
        results = list(pool.map(lambda q: c.predict(q, "extractive", api_name="/ask"), QUESTIONS))
    answers = [check_answer(r, store.docs) for r in results]
    assert [a.question for a in answers] == list(QUESTIONS)
    assert sum(not a.abstained for a in answers) >= 8
