"""An OpenAI-compatible chat API on the page's server: ``GET /v1/models`` and ``POST /v1/chat/completions``.

Clients that speak OpenAI's chat API (Open WebUI, LibreChat, LangChain's ``ChatOpenAI``, the ``openai`` package)
ask the corpus through the page's own answer path (``app.create_app``'s ``demo.qa_answer``: same models, same
history handling, same errors). The reply's ``content`` is the verified answer with ``[n]`` markers followed by a
readable "Sources:" list; the top-level extra field ``qa`` carries the citations (doc_id, title, source = the
publisher, date, quote, start, end), the disagreements, ``abstained``, ``mode`` and ``notes``, in the shapes of
``Answer.to_dict()``. ``stream: true`` sends the same reply as server-sent events once it has been verified: an
OpenAI client cannot take back text it has shown, so a model's unverified draft is never streamed. With a page
password, requests need ``Authorization: Bearer <password>``.

Left out: tools/function calling, images and audio, ``n`` > 1, logprobs, sampling parameters (accepted and
ignored: qa decides how its models answer), system prompts (ignored: qa has its own), ``/v1/completions`` and
``/v1/embeddings``.
"""

import hmac
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from qa.errors import GENERIC_ERROR, QAError
from qa.types import Answer

log = logging.getLogger(__name__)

#: OpenAI model name -> the page's model choice (app.MODEL_CHOICES)
MODELS = {"qa-local": "local", "qa-extractive": "extractive", "qa-hosted": "hosted"}
MAX_BODY_BYTES = 1 << 20  # a conversation the page would keep (12 messages of 4,000 characters) is far smaller
MAX_MESSAGES = 200
SOURCES_HEAD, DISAGREE_HEAD = "Sources:", "Sources disagree:"
_PIECE = re.compile(r"\S+\s*|\s+")


class ApiError(Exception):
    """A request refused with an HTTP status and an OpenAI error body."""

    def __init__(self, status: int, message: str, code: str | None = None, param: str | None = None,
                 kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.code, self.param, self.kind = status, message, code, param, kind

    def body(self) -> dict[str, Any]:
        """OpenAI's error shape."""
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


@dataclass(frozen=True)
class ChatRequest:
    """What qa needs from a chat completion request."""

    model: str  # the OpenAI model name, echoed back
    page_model: str  # the page's model choice: local | extractive | hosted
    question: Any  # the last user message's text (the pipeline checks it, as on the page)
    history: tuple[dict[str, str], ...]  # earlier user/assistant turns, Sources lists removed
    stream: bool = False
    include_usage: bool = False


def hosted_configured(llm_setting: str, environ: dict[str, str] | None = None) -> bool:
    """True when a hosted OpenAI-compatible model is set up (settings.llm, QA_HOSTED_LLM or QA_OPENAI_BASE_URL)."""
    env = os.environ if environ is None else environ
    return str(llm_setting).startswith("openai:") or bool(env.get("QA_HOSTED_LLM") or env.get("QA_OPENAI_BASE_URL"))


def model_names(hosted: bool) -> list[str]:
    """The model ids /v1/models lists."""
    return [m for m in MODELS if hosted or m != "qa-hosted"]


def models_body(names: list[str], created: int = 0) -> dict[str, Any]:
    """The /v1/models reply."""
    return {"object": "list", "data": [{"id": n, "object": "model", "created": created, "owned_by": "qa"}
                                       for n in names]}


def message_text(content: Any) -> Any:
    """A message's text: a string as it is, text parts joined; anything else is returned for the pipeline to refuse."""
    if isinstance(content, list):
        texts = []
        for part in content:
            if not (isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)):
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise ApiError(400, f"only text messages are supported, not {kind!r} parts", param="messages")
            texts.append(part["text"])
        return "\n".join(texts)
    return content


def strip_sources(text: str) -> str:
    """An earlier reply without the "Sources:" (and "Sources disagree:") lists this API appended to it (pure)."""
    cuts = [i for i in (text.find(f"\n\n{DISAGREE_HEAD}\n"), text.find(f"\n\n{SOURCES_HEAD}\n")) if i >= 0]
    return text[:min(cuts)] if cuts else text


def parse_request(body: Any, models: list[str]) -> ChatRequest:
    """Check a /v1/chat/completions body; ApiError with a one-line message when it cannot be answered."""
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object with 'model' and 'messages'")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ApiError(400, f"'model' is required: use one of {', '.join(models)}", param="model")
    if model not in models:
        raise ApiError(404, f"unknown model {model[:80]!r}: use one of {', '.join(models)}", code="model_not_found",
                       param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' must be a non-empty list of {role, content} objects", param="messages")
    if len(messages) > MAX_MESSAGES:
        raise ApiError(400, f"the conversation has {len(messages):,} messages; the limit is {MAX_MESSAGES}: start a "
                            f"new conversation", param="messages")
    turns = []
    for m in messages:
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise ApiError(400, "every message must be an object with a 'role' and 'content'", param="messages")
        turns.append((m["role"], message_text(m.get("content"))))
    role, question = turns[-1]
    if role != "user":
        raise ApiError(400, f"the last message must be the user's question, not a {role[:20]!r} message",
                       param="messages")
    history = tuple({"role": r, "content": strip_sources(t) if r == "assistant" else t}
                    for r, t in turns[:-1] if r in ("user", "assistant") and isinstance(t, str))
    options = body.get("stream_options")
    return ChatRequest(model=model, page_model=MODELS[model], question=question, history=history,
                       stream=body.get("stream") is True,
                       include_usage=isinstance(options, dict) and options.get("include_usage") is True)


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _where(*parts: str) -> str:
    return ", ".join(p for p in parts if p)


def sources_text(answer: Answer) -> str:
    """The readable lists appended to content: who disagrees, then every cited quote with its source (pure)."""
    parts = []
    if answer.disagreements:
        lines = [DISAGREE_HEAD]
        for d in answer.disagreements:
            lines.append(f"- {_one_line(d.summary)}")
            lines += [f"  - {_where(c.citation.title, c.citation.source, c.citation.date)}: "
                      f"\"{_one_line(c.citation.quote, 200)}\"" for c in d.claims]
        parts.append("\n".join(lines))
    if answer.citations:
        lines = [SOURCES_HEAD]
        lines += [f"[{c.n}] {_where(c.title, f'quoting {c.speaker}' if c.speaker else '', c.source, c.date)} "
                  f"({c.doc_id}): \"{_one_line(c.quote)}\""
                  for c in answer.citations]
        parts.append("\n".join(lines))
    return "".join("\n\n" + p for p in parts)


def reply_content(answer: Answer) -> str:
    """The message content: the answer with [n] markers, then the readable Sources lists (pure)."""
    return answer.text + sources_text(answer)


def qa_field(answer: Answer) -> dict[str, Any]:
    """The documented extra field: citations, disagreements, abstained, mode, notes (Answer.to_dict() shapes)."""
    d = answer.to_dict()
    return {k: d[k] for k in ("citations", "disagreements", "abstained", "mode", "notes")}


def usage_body(answer: Answer) -> dict[str, int]:
    """Token counts when a model reported them; zeros for extractive answers."""
    prompt = int(answer.usage.get("prompt_tokens", 0))
    output = int(answer.usage.get("output_tokens", 0))
    return {"prompt_tokens": prompt, "completion_tokens": output, "total_tokens": prompt + output}


def completion_body(answer: Answer, model: str, cid: str, created: int) -> dict[str, Any]:
    """The non-streaming reply: one choice, content with Sources, and the qa field."""
    return {"id": cid, "object": "chat.completion", "created": created, "model": model, "system_fingerprint": None,
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": reply_content(answer), "refusal": None}}],
            "usage": usage_body(answer), "qa": qa_field(answer)}


def content_pieces(text: str, words: int = 8) -> list[str]:
    """The content cut into runs of a few words, whitespace kept, so the pieces join back to text (pure)."""
    tokens = _PIECE.findall(text)
    return ["".join(tokens[i:i + words]) for i in range(0, len(tokens), words)] or [""]


def stream_chunks(answer: Answer, model: str, cid: str, created: int, include_usage: bool = False) -> Iterator[dict]:
    """The chat.completion.chunk objects of a streamed reply; the last one with a choice carries the qa field."""
    def chunk(delta: dict, finish: str | None = None, **more) -> dict:
        return {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                "system_fingerprint": None,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **more}

    yield chunk({"role": "assistant", "content": ""})
    for piece in content_pieces(reply_content(answer)):
        yield chunk({"content": piece})
    yield chunk({}, "stop", qa=qa_field(answer))
    if include_usage:
        yield {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
               "system_fingerprint": None, "choices": [], "usage": usage_body(answer)}


def api_keys(auth) -> tuple[str, ...] | None:
    """The bearer keys the API accepts: the page's password(s); None when the page has none."""
    if auth is None:
        return None
    if isinstance(auth, tuple) and len(auth) == 2 and all(isinstance(x, str) for x in auth):
        return (auth[1],)
    if isinstance(auth, list) and all(isinstance(a, tuple) and len(a) == 2 for a in auth):
        return tuple(a[1] for a in auth)
    raise QAError("the OpenAI-compatible API needs the page's auth as (user, password) pairs")


def key_ok(header: str | None, keys: tuple[str, ...] | None) -> bool:
    """True when no key is needed or the Authorization header carries one of them (constant-time compare)."""
    if keys is None:
        return True
    scheme, _, token = (header or "").partition(" ")
    token = token.strip().encode()
    return scheme.lower() == "bearer" and any(hmac.compare_digest(token, k.encode()) for k in keys)


def routes(answer_fn: Callable[..., Answer], *, llm_setting: str = "auto", auth=None, concurrency: int = 4) -> list:
    """FastAPI routes for /v1/models and /v1/chat/completions; answer_fn(question, page_model, passages, history)."""
    import anyio
    from fastapi.responses import JSONResponse, StreamingResponse
    from fastapi.routing import APIRoute
    from starlette.requests import Request

    # (no `from __future__ import annotations` in this module: FastAPI reads the `Request` annotation at runtime)
    keys = api_keys(auth)
    limiter = anyio.CapacityLimiter(concurrency)  # like the page's queue: a few answers at a time, the rest wait

    def error(exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    def check_key(request: Request) -> None:
        if not key_ok(request.headers.get("authorization"), keys):
            raise ApiError(401, "a valid API key is required: send the page's password as the bearer key",
                           code="invalid_api_key", kind="authentication_error")

    def names() -> list[str]:
        return model_names(hosted_configured(llm_setting))

    async def list_models(request: Request):
        try:
            check_key(request)
        except ApiError as exc:
            return error(exc)
        return JSONResponse(models_body(names(), int(time.time())))

    async def chat_completions(request: Request):
        try:
            check_key(request)
            size = request.headers.get("content-length", "")
            if size.isdigit() and int(size) > MAX_BODY_BYTES:
                raise ApiError(413, f"the request is {int(size):,} bytes; the limit is {MAX_BODY_BYTES:,}: send a "
                                    f"shorter conversation")
            raw = await request.body()
            if len(raw) > MAX_BODY_BYTES:
                raise ApiError(413, f"the request is {len(raw):,} bytes; the limit is {MAX_BODY_BYTES:,}: send a "
                                    f"shorter conversation")
            try:
                body = json.loads(raw)
            except ValueError:
                raise ApiError(400, "the request body is not valid JSON") from None
            req = parse_request(body, names())
            answer = await anyio.to_thread.run_sync(
                lambda: answer_fn(req.question, req.page_model, 0, list(req.history)), limiter=limiter)
        except ApiError as exc:
            return error(exc)
        except QAError as exc:
            return error(ApiError(400, str(exc), param="messages"))
        except Exception:
            log.exception("chat completion failed")
            return error(ApiError(500, GENERIC_ERROR, kind="server_error"))
        cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if not req.stream:
            return JSONResponse(completion_body(answer, req.model, cid, created))
        events = (f"data: {json.dumps(c, ensure_ascii=False)}\n\n"
                  for c in stream_chunks(answer, req.model, cid, created, req.include_usage))
        return StreamingResponse(_with_done(events), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return [APIRoute("/v1/models", list_models, methods=["GET"], include_in_schema=False),
            APIRoute("/v1/chat/completions", chat_completions, methods=["POST"], include_in_schema=False)]


def _with_done(events: Iterator[str]) -> Iterator[str]:
    yield from events
    yield "data: [DONE]\n\n"


def page_routes(demo, auth=None) -> list:
    """The API routes for a page built by app.create_app (its answer path and settings); none for other Blocks."""
    answer_fn = getattr(demo, "qa_answer", None)
    if answer_fn is None:
        return []
    settings = getattr(demo, "qa_settings", None)
    return routes(answer_fn, llm_setting=getattr(settings, "llm", "auto"), auth=auth,
                  concurrency=getattr(demo, "qa_concurrency", 4))
