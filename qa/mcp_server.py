"""An MCP server (Model Context Protocol, official ``mcp`` SDK) over the corpus: ``qa mcp``.

Tools: ``ask(question, mode)`` returns the Answer (text with [n] markers, citations with offsets, disagreements,
abstained) as structured content; ``search(query, k)`` the evidence sentences with their offsets;
``list_documents()`` the corpus; ``get_passage(doc_id, start, end)`` the exact text at those offsets, so an agent
can check any quote (``text[start:end] == quote``). Refusals are tool errors carrying the page's one-line messages,
never a traceback. Stdio by default; ``--http`` serves streamable HTTP on 127.0.0.1 (another host needs
``--allow-remote``; a password becomes a required bearer key).

Left out: resources and prompts (the tools cover them), uploads and removals (the corpus changes through the page
or ``qa index``), and OAuth.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field

from qa.errors import BadQuestion, QAError
from qa.settings import Settings
from qa.types import Answer

log = logging.getLogger(__name__)

GENERIC_ERROR = "Something went wrong while answering. Please try again; the server log has the details."
MAX_PASSAGE_CHARS = 20_000
Mode = Literal["auto", "local", "hosted", "extractive"]


class Evidence(BaseModel):
    """One evidence sentence found for a query."""

    doc_id: str
    title: str
    source: str = Field(description="the publisher")
    date: str
    text: str = Field(description="== the document's text[start:end]")
    start: int
    end: int
    score: float = Field(description="fused relevance, higher is better, roughly in [0, 1]")


class SearchResult(BaseModel):
    """The best evidence sentences for a query, best first."""

    query: str
    evidence: list[Evidence]


class DocumentInfo(BaseModel):
    """One document of the corpus."""

    doc_id: str
    title: str
    source: str = Field(description="the publisher")
    date: str
    kind: str
    chars: int = Field(description="length of the text offsets point into")


class DocumentList(BaseModel):
    """Every document of the corpus, by doc_id."""

    documents: list[DocumentInfo]


class Passage(BaseModel):
    """The exact text of a document between two offsets."""

    doc_id: str
    title: str
    start: int
    end: int
    text: str = Field(description="== the document's text[start:end]")


def llm_spec(mode: str, settings: Settings, environ: dict[str, str] | None = None) -> str | None:
    """The pipeline's llm argument for a mode, as the page maps its model choice (None: settings.llm decides)."""
    env = os.environ if environ is None else environ
    if mode == "auto":
        return None
    if mode == "extractive":
        return "none"
    if mode == "hosted":
        return settings.llm if str(settings.llm).startswith("openai:") else env.get("QA_HOSTED_LLM",
                                                                                   "openai:gpt-4o-mini")
    if mode in ("local", "local-small"):
        return mode
    raise BadQuestion(f"unknown mode {str(mode)[:40]!r}: use auto, local, hosted or extractive")


def passage(docs: dict, doc_id: str, start: int, end: int) -> Passage:
    """The document's text[start:end], or a QAError saying which offsets are possible (pure)."""
    doc = docs.get(doc_id)
    if doc is None:
        raise QAError(f"no document {doc_id[:200]!r} in the corpus: list_documents gives the doc_ids")
    n = len(doc.text)
    if not 0 <= start < end <= n:
        raise QAError(f"offsets {start}:{end} are outside {doc_id!r}: use 0 <= start < end <= {n:,}")
    if end - start > MAX_PASSAGE_CHARS:
        raise QAError(f"{end - start:,} characters asked for; the limit is {MAX_PASSAGE_CHARS:,}: ask for a shorter "
                      f"passage")
    return Passage(doc_id=doc_id, title=doc.title, start=start, end=end, text=doc.text[start:end])


def build_server(settings: Settings | None = None, *, store_fn: Callable[[], Any] | None = None,
                 ask_fn: Callable[..., Answer] | None = None):
    """The MCPServer with the four tools; store_fn and ask_fn (qa.pipeline's by default) can be swapped."""
    from mcp.server import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    settings = settings or Settings.from_env()
    if ask_fn is None:
        from qa.pipeline import ask as ask_fn
    lock, cache = threading.Lock(), {}

    def store():
        with lock:  # built once, even when several calls arrive together
            if "store" not in cache:
                if store_fn is not None:
                    cache["store"] = store_fn()
                else:
                    from qa.pipeline import get_store

                    cache["store"] = get_store(settings)
            return cache["store"]

    def guarded(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except QAError as exc:
            raise ToolError(str(exc)) from None
        except Exception:
            log.exception("MCP tool failed")
            raise ToolError(GENERIC_ERROR) from None

    server = MCPServer("qa", instructions="Answers from a corpus of documents that may disagree, with verbatim "
                       "quotes pinned to character offsets. ask answers; search finds evidence; get_passage "
                       "returns the exact text at offsets.", log_level="WARNING")

    @server.tool()
    def ask(question: str, mode: Mode = "auto") -> Answer:
        """Answer a question from the documents: text with [n] markers, citations (doc_id, title, source, date,
        quote, start, end), disagreements between sources, and abstained when the documents do not answer."""
        return guarded(lambda: ask_fn(question, settings, store=store(), llm=llm_spec(mode, settings)))

    @server.tool()
    def search(query: str, k: int = 6) -> SearchResult:
        """The k best evidence sentences for a query (1 to 30), each with its document and character offsets."""
        def run() -> SearchResult:
            from qa.pipeline import clean_question
            from qa.retrieve import retrieve

            if not isinstance(k, int) or not 1 <= k <= 30:
                raise BadQuestion(f"k must be a whole number from 1 to 30, not {k!r}")
            if isinstance(query, str) and len(query.strip()) > settings.max_question_chars:
                raise BadQuestion(f"the query is {len(query.strip()):,} characters long; the limit is "
                                  f"{settings.max_question_chars:,}: search for something shorter")
            q, s = clean_question(query), store()
            hits = retrieve(q, s, settings, k=k)
            return SearchResult(query=q, evidence=[
                Evidence(doc_id=h.doc_id, title=s.docs[h.doc_id].title, source=s.docs[h.doc_id].source,
                         date=s.docs[h.doc_id].date, text=h.text, start=h.start, end=h.end, score=round(h.score, 4))
                for h in hits])
        return guarded(run)

    @server.tool()
    def list_documents() -> DocumentList:
        """Every document in the corpus: doc_id, title, source (publisher), date, kind, length in characters."""
        return guarded(lambda: DocumentList(documents=[
            DocumentInfo(doc_id=d.doc_id, title=d.title, source=d.source, date=d.date, kind=d.kind,
                         chars=len(d.text)) for d in sorted(store().docs.values(), key=lambda d: d.doc_id)]))

    @server.tool()
    def get_passage(doc_id: str, start: int, end: int) -> Passage:
        """The exact text of a document between character offsets start (inclusive) and end (exclusive)."""
        return guarded(lambda: passage(store().docs, doc_id, start, end))

    server.qa_store = store  # lets `qa mcp` load the index before the first call
    return server


def bearer_only(app, keys: tuple[str, ...]):
    """ASGI wrapper: HTTP requests without one of the bearer keys get 401 (lifespan events pass through)."""
    async def guarded(scope, receive, send):
        if scope["type"] == "http":
            header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not any(hmac.compare_digest(token.strip().encode(), k.encode())
                                                     for k in keys):
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]})
                await send({"type": "http.response.body", "body": b'{"error": "a valid bearer key is required"}'})
                return
        await app(scope, receive, send)
    return guarded


def main(argv: list[str] | None = None) -> int:
    """`qa mcp`: stdio by default, streamable HTTP with --http."""
    ap = argparse.ArgumentParser(prog="qa mcp", description="Serve qa's tools over MCP (stdio by default).")
    ap.add_argument("--http", action="store_true", help="serve streamable HTTP at http://HOST:PORT/mcp instead")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--allow-remote", action="store_true", help="needed to listen on a non-loopback host")
    ap.add_argument("--password", default=os.environ.get("QA_PASSWORD"), help="bearer key required over HTTP")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "sentence_transformers", "bm25s", "faiss"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    loopback = args.host in ("127.0.0.1", "localhost", "::1")
    if args.http and not loopback and not args.allow_remote:
        print(f"error: listening on {args.host} exposes the corpus to the network: add --allow-remote (and "
              f"--password)", file=sys.stderr)
        return 2
    server = build_server()

    def warm() -> None:
        try:
            server.qa_store()
        except Exception as exc:  # the tools report the same error when called
            log.warning("could not load the index yet: %s", exc)

    threading.Thread(target=warm, daemon=True, name="qa-warm").start()
    if not args.http:
        server.run("stdio")
        return 0
    import uvicorn

    if not loopback and not args.password:
        log.warning("the MCP server on %s:%s has no password: anyone on the network can use it", args.host, args.port)
    app = server.streamable_http_app(host=args.host)
    if args.password:
        app = bearer_only(app, (args.password,))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
