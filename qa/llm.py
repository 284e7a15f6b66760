"""The one door to language models: ``make_llm(spec, settings)`` returns a langchain chat model, or None.

Specs: ``none`` (extractive answers), ``local`` (Qwen2.5-Coder-1.5B-Instruct Q4_K_M through llama.cpp), ``local-small``
(the 0.5B model: faster, cites worse), ``llamacpp:<path.gguf>`` (any local GGUF with a ChatML template),
``openai:<model>`` (any OpenAI-compatible server: ``QA_OPENAI_BASE_URL``, ``OPENAI_API_KEY``), and ``auto`` (local
when its files and llama-cpp-python are installed, else none). A langchain chat model object passes through.

The local backend is a thin ``BaseChatModel`` over ``llama_cpp.Llama``: the model is loaded lazily, once per process
per file, and guarded by a lock so one request at a time uses it; its thread count follows the machine's load
(``pick_threads``), because llama.cpp threads fighting other processes for 2 cores slow down several-fold. It
formats ChatML itself so the fixed system prompt is always the same token prefix, which llama.cpp keeps in its KV
cache between requests (``warm()`` evaluates it ahead of the first question). Streaming yields text pieces, then a
last empty chunk with token usage.

Left out: tool calling, structured output, sampling options beyond greedy decoding, and GPU offload settings.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time
from typing import Any, Iterator

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from qa.errors import ModelError, QAError
from qa.settings import Settings

VALID_SPECS = ("auto", "none", "local", "local-small", "openai:<model>", "llamacpp:<path.gguf>")

_STOP = ["<|im_end|>", "<|endoftext|>", "<|im_start|>"]
_LOADED: dict[tuple, tuple[Any, threading.Lock]] = {}
_LOAD_LOCK = threading.Lock()


def _load_llama(path: str, n_ctx: int, n_threads: int) -> tuple[Any, threading.Lock]:
    """One ``Llama`` per (file, context, threads) per process, with the lock that serialises its use."""
    key = (path, n_ctx, n_threads)
    with _LOAD_LOCK:
        if key in _LOADED:
            return _LOADED[key]
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelError(
                "llama-cpp-python is not installed: "
                "`CMAKE_ARGS=\"-DLLAVA_BUILD=OFF\" pip install llama-cpp-python==0.3.36`, or use --llm none"
            ) from exc
        try:
            llama = Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                          n_batch=512, verbose=False)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(
                f"could not load the model file {path}: {exc}. Rebuild it with "
                "`python -m qa.models install --force`, or use --llm none"
            ) from exc
        _LOADED[key] = (llama, threading.Lock())
        return _LOADED[key]


def pick_threads(cores: int | None = None, loadavg: str | None = None) -> int:
    """Threads for the next request: all cores when the machine is idle, fewer when other work is running.

    llama.cpp's threads wait on each other at every step, so on a shared 2-core machine two threads competing with
    other processes run several times slower than one thread. ``loadavg`` is /proc/loadavg's text (for tests).
    """
    cores = cores or os.cpu_count() or 1
    try:
        if loadavg is None:
            with open("/proc/loadavg") as fh:
                loadavg = fh.read()
        running = int(loadavg.split()[3].split("/")[0]) - 1  # minus the thread reading the file
    except (OSError, ValueError, IndexError):
        return cores
    return max(1, min(cores, cores - max(running, 0)))


def chatml(messages: list[BaseMessage], *, open_assistant: bool = True) -> str:
    """Qwen's ChatML prompt for the messages; system first, so its tokens are a stable cache prefix."""
    roles = {"system": "system", "human": "user", "ai": "assistant"}
    out = []
    for msg in messages:
        role = roles.get(msg.type, "user")
        out.append(f"<|im_start|>{role}\n{msg.text if hasattr(msg, 'text') else msg.content}<|im_end|>\n")
    if open_assistant:
        out.append("<|im_start|>assistant\n")
    return "".join(out)


class LocalLlamaChat(BaseChatModel):
    """A langchain chat model over a local GGUF file run by llama-cpp-python (greedy decoding)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_name: str = "local"  # a qa.models name, or "file" when model_file is given
    model_file: str = ""
    n_ctx: int = 2048
    n_threads: int = 0  # 0 = chosen per request by pick_threads()
    max_tokens: int = 160
    timeout: float = 60.0
    _path: str = PrivateAttr(default="")

    @property
    def _llm_type(self) -> str:
        return "qa-llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "model_file": self.model_file, "n_ctx": self.n_ctx}

    def path(self) -> str:
        """The GGUF file, joined from its parts on first use (raises ModelError with the fix)."""
        if not self._path:
            if self.model_file:
                if not os.path.isfile(self.model_file):
                    raise ModelError(f"model file {self.model_file} does not exist; pass an existing .gguf path")
                self._path = self.model_file
            else:
                from qa.models import model_path

                self._path = str(model_path(self.model_name))
        return self._path

    def _llama(self) -> tuple[Any, threading.Lock]:
        return _load_llama(self.path(), self.n_ctx, self.n_threads or os.cpu_count() or 1)

    def warm(self, system_prompt: str | None = None) -> None:
        """Load the model and put the system prompt's tokens in the KV cache, so the first question is fast."""
        llama, lock = self._llama()
        if not system_prompt:
            return
        prefix = f"<|im_start|>system\n{system_prompt}<|im_end|>\n<|im_start|>user\n"
        with lock:
            tokens = llama.tokenize(prefix.encode(), add_bos=False, special=True)
            if list(llama.input_ids[: min(llama.n_tokens, len(tokens))]) != tokens:
                self._set_threads(llama)
                llama.reset()
                llama.eval(tokens)

    def _set_threads(self, llama: Any) -> int:
        threads = self.n_threads or pick_threads()
        try:
            llama._ctx.set_n_threads(threads, threads)
        except AttributeError:  # another llama-cpp-python layout: keep the threads it was loaded with
            pass
        return threads

    def count_tokens(self, text: str) -> int:
        llama, _ = self._llama()
        return len(llama.tokenize(text.encode(), add_bos=False, special=True))

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        text, usage, meta = [], None, {}
        for chunk in self._stream(messages, stop=stop, run_manager=run_manager, **kwargs):
            text.append(chunk.message.content)
            usage = chunk.message.usage_metadata or usage
            meta.update(chunk.message.response_metadata or {})
        message = AIMessage(content="".join(text), usage_metadata=usage, response_metadata=meta)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        from llama_cpp import StoppingCriteriaList

        llama, lock = self._llama()
        max_tokens = int(kwargs.get("max_tokens") or self.max_tokens)
        with lock:
            threads = self._set_threads(llama)
            tokens = llama.tokenize(chatml(messages).encode(), add_bos=False, special=True)
            if len(tokens) + max_tokens > self.n_ctx:
                raise ModelError(f"the prompt has {len(tokens)} tokens; the local model's context is {self.n_ctx}")
            deadline = time.monotonic() + self.timeout
            timed_out = []

            def past_deadline(_ids, _logits) -> bool:
                if time.monotonic() > deadline:
                    timed_out.append(True)
                    return True
                return False

            n_out, finish = 0, None
            for part in llama.create_completion(tokens, max_tokens=max_tokens, temperature=0.0, top_k=1,
                                                stop=_STOP + list(stop or []), stream=True,
                                                stopping_criteria=StoppingCriteriaList([past_deadline])):
                choice = part["choices"][0]
                finish = choice.get("finish_reason") or finish
                piece = choice.get("text") or ""
                if piece:
                    n_out += 1
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
                    if run_manager:
                        run_manager.on_llm_new_token(piece, chunk=chunk)
                    yield chunk
            if timed_out:
                raise ModelError(f"the local model timed out after {self.timeout:.0f} s")
            usage = {"input_tokens": len(tokens), "output_tokens": n_out, "total_tokens": len(tokens) + n_out}
            yield ChatGenerationChunk(message=AIMessageChunk(
                content="", usage_metadata=usage,
                response_metadata={"finish_reason": finish or "stop", "n_threads": threads}))


def _openai(model: str, settings: Settings) -> BaseChatModel:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise ModelError("langchain-openai is not installed: `pip install langchain-openai`") from exc
    base_url = os.environ.get("QA_OPENAI_BASE_URL") or None
    extra = {}
    if base_url and "api.openai.com" not in base_url:
        # llama.cpp's server, vLLM and Ollama read max_tokens; langchain sends only max_completion_tokens
        extra["extra_body"] = {"max_tokens": settings.max_new_tokens}
    return ChatOpenAI(model=model, base_url=base_url, api_key=os.environ.get("OPENAI_API_KEY") or "sk-no-key",
                      timeout=settings.llm_timeout, max_retries=1, temperature=0.0,
                      max_tokens=settings.max_new_tokens, stream_usage=True, **extra)


def local_ready(name: str = "local") -> bool:
    """True when llama-cpp-python is importable and the model's files are installed (nothing is loaded)."""
    from qa.models import is_available

    return importlib.util.find_spec("llama_cpp") is not None and is_available(name)


def make_llm(spec: str | BaseChatModel | None = None, settings: Settings | None = None) -> BaseChatModel | None:
    """A langchain chat model for ``spec`` (default ``settings.llm``), or None for extractive answers."""
    settings = settings or Settings.from_env()
    if isinstance(spec, BaseChatModel):
        return spec
    spec = (spec if spec is not None else settings.llm).strip()
    kind, _, arg = spec.partition(":")
    kind = kind.lower()
    local = dict(max_tokens=settings.max_new_tokens, timeout=settings.llm_timeout,
                 n_ctx=int(settings.extra.get("n_ctx", 2048)), n_threads=int(settings.extra.get("n_threads", 0)))
    if kind == "none":
        return None
    if kind == "auto":
        return LocalLlamaChat(model_name="local", **local) if local_ready("local") else None
    if kind in ("local", "local-small") and not arg:
        return LocalLlamaChat(model_name=kind, **local)
    if kind == "llamacpp" and arg:
        return LocalLlamaChat(model_name="file", model_file=arg, **local)
    if kind == "openai" and arg:
        return _openai(arg, settings)
    raise QAError(f"unknown llm {spec!r}; valid: {', '.join(VALID_SPECS)}")
