"""The MCP server through the official ``mcp`` SDK client: ``python -m qa mcp`` spawned over stdio (and once over
streamable HTTP with a bearer key), with the real pipeline, embedder and corpus in extractive mode.

Every tool is called; every quote, evidence sentence and passage must be the document's text at its offsets. The
page API's bad inputs are repeated and must come back as tool errors with the page's one-line message, never a
traceback; an internal failure (a fake ask, in-process server) must come back as the generic message.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from qa.mcp_server import MAX_PASSAGE_CHARS, llm_spec, passage
from qa.settings import ROOT, Settings
from qa.types import Answer
from tests.test_app_api import QUESTIONS, SEED


class StdioSession:
    """One MCP client session to a spawned `qa mcp`, held open on a background event loop for sync tests."""

    def __init__(self, env: dict[str, str]):
        from mcp import Client
        from mcp.client.stdio import StdioServerParameters

        params = StdioServerParameters(command=sys.executable, args=["-m", "qa", "mcp"], env=env, cwd=str(ROOT))
        self.loop = asyncio.new_event_loop()
        self.ready, self.failure, self.client = threading.Event(), None, None

        async def hold():
            self.stop = asyncio.Event()
            try:
                async with Client(params, read_timeout_seconds=120) as client:
                    self.client = client
                    self.ready.set()
                    await self.stop.wait()
            except BaseException as exc:  # reported by the fixture
                self.failure = exc
                self.ready.set()

        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(hold(),), daemon=True)
        self.thread.start()
        assert self.ready.wait(180), "the MCP server did not start"
        if self.failure:
            raise self.failure

    def call(self, name: str, args: dict | None = None):
        return asyncio.run_coroutine_threadsafe(self.client.call_tool(name, args or {}), self.loop).result(120)

    def list_tools(self):
        return asyncio.run_coroutine_threadsafe(self.client.list_tools(), self.loop).result(60)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(30)


def server_env(settings: Settings) -> dict[str, str]:
    return {"QA_CORPUS_DIR": str(settings.corpus_dir), "QA_INDEX_DIR": str(settings.index_dir), "QA_LLM": "none",
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


# starting `qa mcp` (python, torch, the embedder, the index) takes 20-40 s on a busy 2-core machine
stdio = pytest.mark.slow


@pytest.fixture(scope="module")
def mcp_session(real_settings, real_store):
    session = StdioSession(server_env(real_settings))  # the index real_store built: the server only loads it
    yield session, real_store
    session.close()


def text_of(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


@stdio
def test_tools_are_listed_with_schemas(mcp_session):
    tools = {t.name: t for t in mcp_session[0].list_tools().tools}
    assert set(tools) == {"ask", "search", "list_documents", "get_passage"}
    assert tools["ask"].input_schema["properties"]["mode"]["enum"] == ["auto", "local", "hosted", "extractive"]
    assert {"citations", "disagreements", "abstained"} <= set(tools["ask"].output_schema["properties"])
    assert set(tools["get_passage"].input_schema["required"]) == {"doc_id", "start", "end"}


@stdio
def test_ask_returns_the_answer_as_structured_content(mcp_session):
    session, store = mcp_session
    answers = []
    for q in QUESTIONS:
        result = session.call("ask", {"question": q, "mode": "extractive"})
        assert not result.is_error, text_of(result)
        answer = Answer.model_validate(result.structured_content)
        assert answer.abstained or answer.citations
        for c in answer.citations:
            assert store.docs[c.doc_id].text[c.start:c.end] == c.quote and f"[{c.n}]" in answer.text
        for d in answer.disagreements:
            assert all(store.docs[x.citation.doc_id].text[x.citation.start:x.citation.end] == x.citation.quote
                       for x in d.claims)
        answers.append(answer)
    assert sum(not a.abstained for a in answers) >= 8
    assert any("2 March 1992" in c.quote for c in answers[0].citations)
    # every citation can be checked through get_passage
    for c in answers[0].citations:
        got = session.call("get_passage", {"doc_id": c.doc_id, "start": c.start, "end": c.end})
        assert got.structured_content["text"] == c.quote


@stdio
def test_search_returns_evidence_with_offsets(mcp_session):
    session, store = mcp_session
    result = session.call("search", {"query": "When did Azerbaijan join the United Nations?", "k": 4})
    assert not result.is_error, text_of(result)
    evidence = result.structured_content["evidence"]
    assert 1 <= len(evidence) <= 4
    for e in evidence:
        doc = store.docs[e["doc_id"]]
        assert doc.text[e["start"]:e["end"]] == e["text"] and e["title"] == doc.title
    assert [e["score"] for e in evidence] == sorted((e["score"] for e in evidence), reverse=True)


@stdio
def test_list_documents_and_get_passage(mcp_session):
    session, store = mcp_session
    docs = session.call("list_documents").structured_content["documents"]
    assert [d["doc_id"] for d in docs] == sorted(store.docs)
    for d in docs[:3]:
        text = store.docs[d["doc_id"]].text
        assert d["chars"] == len(text)
        got = session.call("get_passage", {"doc_id": d["doc_id"], "start": 10, "end": 90}).structured_content
        assert got["text"] == text[10:90] and (got["start"], got["end"]) == (10, 90)


BAD = [
    pytest.param("", "the question is empty", id="empty"),
    pytest.param(" \t\n ", "the question is empty", id="whitespace"),
    pytest.param("q" * 100_000, "the limit is 2,000", id="100kB"),
    pytest.param(bytes(range(256)).decode("latin-1") * 4, "does not look like text", id="binary-garbage"),
]
GOOD = [
    pytest.param("\x1b[31mWhen was Azerbaijan admitted to the UN?\x1b[0m", id="control-chars"),
    pytest.param("\u202bWhen was Azerbaijan admitted to the UN?\u202c", id="rtl-marks"),
    pytest.param("Когда Азербайджан вступил в ООН?", id="russian"),
    pytest.param("<img src=x onerror=alert(1)> What is UNICEF?", id="html"),
]


@stdio
@pytest.mark.parametrize("tool", ["ask", "search"])
@pytest.mark.parametrize("question, message", BAD)
def test_bad_questions_are_tool_errors(mcp_session, tool, question, message):
    args = {"question": question, "mode": "extractive"} if tool == "ask" else {"query": question}
    result = mcp_session[0].call(tool, args)
    text = text_of(result)
    assert result.is_error and message in text
    assert "\n" not in text and "Traceback" not in text and len(text) < 300


@stdio
@pytest.mark.parametrize("question", GOOD)
def test_odd_but_fine_questions_are_answered(mcp_session, question):
    session, store = mcp_session
    result = session.call("ask", {"question": question, "mode": "extractive"})
    assert not result.is_error, text_of(result)
    for c in Answer.model_validate(result.structured_content).citations:
        assert store.docs[c.doc_id].text[c.start:c.end] == c.quote


@stdio
@pytest.mark.parametrize("tool, args, message", [
    pytest.param("get_passage", {"doc_id": "../../etc/passwd", "start": 0, "end": 10}, "no document", id="no-doc"),
    pytest.param("get_passage", {"doc_id": "mfa-relations-azerbaijan-un.txt", "start": 50, "end": 10}, "outside",
                 id="start-after-end"),
    pytest.param("get_passage", {"doc_id": "mfa-relations-azerbaijan-un.txt", "start": -5, "end": 10}, "outside",
                 id="negative"),
    pytest.param("get_passage", {"doc_id": "mfa-relations-azerbaijan-un.txt", "start": 0, "end": 10 ** 9}, "outside",
                 id="past-the-end"),
    pytest.param("search", {"query": "UN", "k": 0}, "k must be", id="k-zero"),
    pytest.param("search", {"query": "UN", "k": 1000}, "k must be", id="k-huge"),
    pytest.param("ask", {"question": 42}, "valid string", id="question-not-text"),
    pytest.param("ask", {"question": SEED, "mode": "gpt-4"}, "mode", id="unknown-mode"),
])
def test_other_bad_arguments_are_tool_errors(mcp_session, tool, args, message):
    result = mcp_session[0].call(tool, args)
    text = text_of(result)
    assert result.is_error and message in text and "Traceback" not in text


# -- pure parts and an internal failure -------------------------------------------------------------------------
@pytest.mark.parametrize("mode, env, spec", [
    pytest.param("auto", {}, None, id="auto"),
    pytest.param("extractive", {}, "none", id="extractive"),
    pytest.param("local", {}, "local", id="local"),
    pytest.param("hosted", {"QA_HOSTED_LLM": "openai:m"}, "openai:m", id="hosted-env"),
    pytest.param("hosted", {}, "openai:gpt-4o-mini", id="hosted-default"),
])
def test_llm_spec(mode, env, spec):
    assert llm_spec(mode, Settings(llm="auto"), env) == spec


def test_passage_limits(real_store):
    doc_id = "mfa-relations-azerbaijan-un.txt"
    assert passage(real_store.docs, doc_id, 0, 5).text == real_store.docs[doc_id].text[:5]
    long_doc = max(real_store.docs.values(), key=lambda d: len(d.text))
    if len(long_doc.text) > MAX_PASSAGE_CHARS:
        with pytest.raises(Exception, match="the limit is"):
            passage(real_store.docs, long_doc.doc_id, 0, MAX_PASSAGE_CHARS + 1)


def test_internal_error_is_generic(tmp_path):
    from mcp import Client

    from qa.mcp_server import build_server
    from tests.app_fakes import FakeStore, copy_corpus, fake_ask

    store = FakeStore(copy_corpus(tmp_path / "corpus"))
    server = build_server(Settings.from_env(corpus_dir=tmp_path / "corpus"), store_fn=lambda: store, ask_fn=fake_ask)

    async def run():
        async with Client(server) as client:  # the SDK's in-process transport
            return (await client.call_tool("ask", {"question": "please explode now"}),
                    await client.call_tool("ask", {"question": SEED}))

    failed, fine = asyncio.run(run())
    assert failed.is_error and "Something went wrong" in text_of(failed)
    assert "/secret/path" not in text_of(failed) and "Traceback" not in text_of(failed)
    assert not fine.is_error and fine.structured_content["citations"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_streamable_http_with_bearer_key(real_settings, real_store):
    import httpx

    port, key = _free_port(), "mcp-s3cret"
    env = {**os.environ, **server_env(real_settings)}
    proc = subprocess.Popen([sys.executable, "-m", "qa", "mcp", "--http", "--port", str(port), "--password", key],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                refused = httpx.post(url, json={}, timeout=5)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "the HTTP server did not start"
                time.sleep(0.5)
        assert refused.status_code == 401

        async def run():
            import httpx2
            from mcp import Client
            from mcp.client.streamable_http import streamable_http_client

            async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
                async with Client(streamable_http_client(url, http_client=http)) as client:
                    return await client.call_tool("ask", {"question": SEED, "mode": "extractive"})

        result = asyncio.run(run())
        assert not result.is_error, text_of(result)
        for c in Answer.model_validate(result.structured_content).citations:
            assert real_store.docs[c.doc_id].text[c.start:c.end] == c.quote
    finally:
        proc.terminate()
        proc.wait(30)
