"""The one door to language models: ``make_llm(spec, settings)`` returns a langchain chat model, or None.

Specs: ``none`` (extractive answers), ``local`` (Qwen2.5-Coder-1.5B-Instruct through llama.cpp), ``local-small``
(the 0.5B model: faster, cites worse), ``llamacpp:<path.gguf>`` (any local GGUF with a ChatML template),
``openai:<model>`` (any OpenAI-compatible server: ``QA_OPENAI_BASE_URL``, ``OPENAI_API_KEY``), and ``auto`` (local
when its files and llama-cpp-python are installed, else none). A langchain chat model object passes through.

The local backend is a thin ``BaseChatModel`` over ``llama_cpp.Llama``: the model is loaded lazily, once per process
per file and settings, and guarded by a lock so one request at a time uses it. Speed on a shared 2-core CPU
(each lever measured side by side with ``bench/answer_bench.py``):

- the KV cache: the fixed system prompt is always the same token prefix, so llama.cpp keeps it between requests
  (``warm()`` evaluates it, then answers one throwaway question, before the first real one;
  ``last_stats["cached_tokens"]`` shows the reuse). Turning it off makes the first token about 1.6x slower;
- threads: all cores unless other processes are running (``pick_threads``; this process's own threads and threads
  runnable for an instant do not count), because llama.cpp's threads wait on each other at every step and a thread
  sharing its core stalls them all;
- prompt-lookup decoding (``lookup``, 6 draft tokens, ``QA_LOOKUP``): answers copy the passages' words, so drafts
  taken from the prompt are often accepted, and the model checks each one (``_logits_only_for_drafts`` works round
  a llama-cpp-python fault with long prompts);
- an option that did not pay here and is off by default: ``weights="fast"`` (the Q4_0 copy from ``python -m
  qa.models install --q4_0``, repacked at load, ``QA_LOCAL_WEIGHTS=fast``).

llama.cpp's AMX weight buffers crash this build (a segfault in the first decode), so the CPU's "extra" buffer types
are turned off, and only a Q4_0 file's block matrices are placed in the repacking buffer, by name. Streaming yields
text pieces, then a last empty chunk with token usage.

Left out: tool calling, structured output, sampling options beyond greedy decoding, and GPU offload settings.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import threading
import time
from collections.abc import Sequence
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
LOOKUP_TOKENS = Settings.lookup  # prompt-lookup draft tokens per step (QA_LOOKUP; 0 turns it off)
#: the matrices of each transformer block: in a Q4_0 file these are Q4_0, which the CPU_REPACK buffer repacks
_BLOCK_MATRICES = rb"^blk\.\d+\.(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\.weight$"


def _cpu_buffer_type(name: str) -> int | None:
    """The address of one of the CPU backend's extra buffer types ("CPU_REPACK", "AMX"), or None."""
    import ctypes

    from llama_cpp._ggml import libggml

    ggml = libggml
    ggml.ggml_backend_reg_by_name.restype = ctypes.c_void_p
    ggml.ggml_backend_reg_by_name.argtypes = [ctypes.c_char_p]
    ggml.ggml_backend_reg_dev_get.restype = ctypes.c_void_p
    ggml.ggml_backend_reg_dev_get.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    ggml.ggml_backend_reg_get_proc_address.restype = ctypes.c_void_p
    ggml.ggml_backend_reg_get_proc_address.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    ggml.ggml_backend_buft_name.restype = ctypes.c_char_p
    ggml.ggml_backend_buft_name.argtypes = [ctypes.c_void_p]
    reg = ggml.ggml_backend_reg_by_name(b"CPU")
    fn = reg and ggml.ggml_backend_reg_get_proc_address(reg, b"ggml_backend_dev_get_extra_bufts")
    if not fn:
        return None
    bufts = ctypes.CFUNCTYPE(ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p)(fn)(ggml.ggml_backend_reg_dev_get(reg, 0))
    i = 0
    while bufts and bufts[i]:
        if ggml.ggml_backend_buft_name(bufts[i]).decode() == name:
            return bufts[i]
        i += 1
    return None


@contextlib.contextmanager
def _model_params(repack: bool):
    """While a Llama is built: no extra buffer types (AMX segfaults), and, for a Q4_0 file, its block matrices in
    the CPU_REPACK buffer. llama-cpp-python has no argument for either, so its default-params function is wrapped."""
    import ctypes

    import llama_cpp.llama_cpp as lib

    class Override(ctypes.Structure):
        _fields_ = [("pattern", ctypes.c_char_p), ("buft", ctypes.c_void_p)]

    overrides = None
    buft = _cpu_buffer_type("CPU_REPACK") if repack else None
    if buft:
        overrides = (Override * 2)()
        overrides[0].pattern, overrides[0].buft = _BLOCK_MATRICES, buft
    default = lib.llama_model_default_params

    def params():
        p = default()
        if hasattr(p, "use_extra_bufts"):
            p.use_extra_bufts = False
        if overrides is not None:
            p.tensor_buft_overrides = ctypes.cast(overrides, ctypes.c_void_p)
        return p

    lib.llama_model_default_params = params
    try:
        yield overrides
    finally:
        lib.llama_model_default_params = default


def _load_llama(path: str, n_ctx: int, n_threads: int, *, n_batch: int = 512, lookup: int = 0,
                repack: bool = False, flash_attn: bool = False) -> tuple[Any, threading.Lock]:
    """One ``Llama`` per (file, settings) per process, with the lock that serialises its use."""
    key = (path, n_ctx, n_threads, n_batch, lookup, repack, flash_attn)
    with _LOAD_LOCK:
        if key in _LOADED:
            return _LOADED[key]
        try:
            from llama_cpp import Llama
            from llama_cpp.llama_speculative import LlamaPromptLookupDecoding
        except ImportError as exc:
            raise ModelError(
                "llama-cpp-python is not installed: "
                "`CMAKE_ARGS=\"-DLLAVA_BUILD=OFF\" pip install llama-cpp-python==0.3.36`, or use --llm none"
            ) from exc
        draft = _copy_draft(LlamaPromptLookupDecoding, lookup) if lookup > 0 else None
        try:
            with _model_params(repack) as overrides:
                llama = Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                              n_batch=n_batch, draft_model=draft, flash_attn=flash_attn, verbose=False)
            llama._qa_overrides = overrides  # llama.cpp keeps pointers into it
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(
                f"could not load the model file {path}: {exc}. Rebuild it with "
                "`python -m qa.models install --force`, or use --llm none"
            ) from exc
        if draft is not None:
            _logits_only_for_drafts(llama, lookup)
        _LOADED[key] = (llama, threading.Lock())
        return _LOADED[key]


#: a draft is taken only where the last DRAFT_MIN_NGRAM..DRAFT_MAX_NGRAM tokens occur earlier in the prompt: one
#: token ("the", ",") occurs everywhere, and llama-cpp-python's own lookup falls back to it, so nearly every step
#: drafted tokens that were then thrown away, and a short answer that copies little ran slower than without drafts
DRAFT_MIN_NGRAM, DRAFT_MAX_NGRAM = 3, 4


def _copy_draft(base: type, lookup: int):
    """A prompt-lookup draft model that proposes the ``lookup`` tokens following the most recent earlier occurrence
    of the reply's last 3-4 tokens (the longest found), or nothing."""
    import numpy as np

    class CopyDraft(base):
        def __call__(self, input_ids, /, **kwargs):
            ids = np.asarray(input_ids)
            n = ids.shape[0]
            for size in range(min(DRAFT_MAX_NGRAM, n - 1), DRAFT_MIN_NGRAM - 1, -1):
                tail = ids[n - size:]
                windows = np.lib.stride_tricks.sliding_window_view(ids[:n - 1], size)
                hits = np.nonzero(np.all(windows == tail, axis=1))[0]
                hits = hits[hits + size < n]
                if hits.size:
                    start = int(hits[-1]) + size
                    return ids[start:min(start + self.num_pred_tokens, n)].astype(np.intc)
            return np.array([], dtype=np.intc)

    return CopyDraft(max_ngram_size=DRAFT_MAX_NGRAM, num_pred_tokens=lookup)


def _logits_only_for_drafts(llama: Any, lookup: int) -> None:
    """With a draft model llama-cpp-python computes and copies the logits of every prompt token (152k floats each);
    only the last prompt token and the short draft batches need them, so long batches skip the rest.

    A draft batch is decoded here without llama-cpp-python's copy of its logits into ``Llama.scores``: the sampler
    reads them from llama.cpp itself, and that array has only ``n_batch`` rows when the model is loaded with a draft
    model (0.3.36 sizes it by the ``logits_all`` argument, not by the draft's forced setting), so the copy of a batch
    past row 512 failed ("could not broadcast input array from shape (759680,) into shape (607744,)") and the answer
    fell back to quoted evidence."""
    evaluate = llama.eval

    def eval_tokens(tokens):
        if not len(tokens):  # a prompt already cached whole: nothing to decode (an empty batch corrupts memory)
            return evaluate(tokens)
        if len(tokens) > lookup + 1:
            llama._logits_all = False
            try:
                evaluate(tokens)
            finally:
                llama._logits_all = True
            return
        n_past = llama.n_tokens
        llama._ctx.kv_cache_seq_rm(-1, n_past, -1)
        llama._batch.set_batch(batch=list(tokens), n_past=n_past, logits_all=True)
        llama._ctx.decode(llama._batch)
        llama.input_ids[n_past:n_past + len(tokens)] = tokens
        llama.n_tokens += len(tokens)
        llama._requires_eval = False

    llama.eval = eval_tokens


#: /proc/loadavg is read this many times, this many seconds apart, per request: a thread that is runnable for an
#: instant (a kernel worker, one of this process's threads going to sleep between two reads) is no competitor, a
#: busy process is runnable in every read
THREAD_SAMPLES, THREAD_SAMPLE_GAP = 5, 0.002


def pick_threads(cores: int | None = None, loadavg: str | Sequence[str] | None = None,
                 own_running: int | None = None, background: int | None = None) -> int:
    """Threads for the next request: all cores when no other process is running, fewer when others are.

    llama.cpp's threads wait on each other at every step, so on a shared 2-core machine two threads competing with
    other processes run several times slower than one thread. ``loadavg`` is /proc/loadavg's text, or several
    readings (for tests; read THREAD_SAMPLES times otherwise), and ``own_running`` this process's runnable threads,
    the reader included: this process's own threads (an embedder still finishing, the page's server) are not
    competition. Nor are ``background`` threads: other processes' runnable threads at a lower priority (``nice``: an
    indexer or a benchmark run at nice 19 gets the CPU only when the model leaves it idle), counted from /proc when
    others run and it is None. Competition is the fewest other runnable threads over the readings.
    """
    cores = cores or os.cpu_count() or 1
    readings = [loadavg] if isinstance(loadavg, str) else list(loadavg) if loadavg is not None else None
    others = None
    for k in range(len(readings) if readings is not None else THREAD_SAMPLES):
        if readings is None and k:
            time.sleep(THREAD_SAMPLE_GAP)
        own = own_running if own_running is not None else _own_running_threads()
        try:
            if readings is None:
                with open("/proc/loadavg") as fh:
                    text = fh.read()
            else:
                text = readings[k]
            running = int(text.split()[3].split("/")[0])
        except (OSError, ValueError, IndexError):
            return cores
        if own_running is None:  # this process's threads counted after the reading too: the larger count is ours
            own = max(own, _own_running_threads())
        now = running - max(own, 1)  # the thread reading the file is always running
        others = now if others is None else min(others, now)
        if others <= 0:
            break
    others = others or 0
    if others > 0:
        others -= _background_running() if background is None else background
    return max(1, min(cores, cores - max(others, 0)))


def _background_running() -> int:
    """Runnable threads of other processes with a positive nice value (lower priority than ours)."""
    n, own = 0, str(os.getpid())
    try:
        procs = [p.name for p in os.scandir("/proc") if p.name.isdigit() and p.name != own]
    except OSError:
        return 0
    for pid in procs:
        try:
            for task in os.scandir(f"/proc/{pid}/task"):
                with open(f"{task.path}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                n += fields[0] == "R" and int(fields[16]) > 0  # state, nice (fields 3 and 19 of stat)
        except (OSError, IndexError, ValueError):
            continue
    return n


def _own_running_threads() -> int:
    n = 0
    try:
        for task in os.scandir("/proc/self/task"):
            try:
                with open(f"{task.path}/stat") as fh:
                    n += fh.read().rsplit(")", 1)[1].split()[0] == "R"
            except (OSError, IndexError):
                continue
    except OSError:
        return 1
    return max(n, 1)


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
    weights: str = "shipped"  # fast: the Q4_0 copy made at install when there is one; shipped: the shipped file
    n_ctx: int = 2048
    n_threads: int = 0  # 0 = chosen per request by pick_threads()
    n_batch: int = 512
    lookup: int = LOOKUP_TOKENS  # prompt-lookup draft tokens per step; 0 = off
    cache_prompt: bool = True  # keep the KV cache of the common prefix between requests
    flash_attn: bool = False  # llama.cpp's flash-attention kernels: within the noise on this CPU (answer_bench)
    max_tokens: int = 160
    timeout: float = 60.0
    _path: str = PrivateAttr(default="")
    _repack: bool = PrivateAttr(default=False)
    _stats: dict = PrivateAttr(default_factory=dict)

    @property
    def _llm_type(self) -> str:
        return "qa-llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "model_file": self.model_file, "n_ctx": self.n_ctx,
                "weights": self.weights, "lookup": self.lookup}

    @property
    def last_stats(self) -> dict:
        """The last request: prompt tokens, tokens reused from the KV cache, threads (for benchmarks)."""
        return dict(self._stats)

    def path(self) -> str:
        """The GGUF file, joined from its parts on first use (raises ModelError with the fix)."""
        if not self._path:
            if self.model_file:
                if not os.path.isfile(self.model_file):
                    raise ModelError(f"model file {self.model_file} does not exist; pass an existing .gguf path")
                self._path = self.model_file
            else:
                from qa.models import fast_path, model_path

                fast = fast_path(self.model_name) if self.weights == "fast" else None
                self._path, self._repack = (str(fast), True) if fast else (str(model_path(self.model_name)), False)
        return self._path

    def _llama(self) -> tuple[Any, threading.Lock]:
        path = self.path()
        return _load_llama(path, self.n_ctx, self.n_threads or os.cpu_count() or 1, n_batch=self.n_batch,
                           lookup=self.lookup, repack=self._repack, flash_attn=self.flash_attn)

    def warm(self, system_prompt: str | None = None) -> None:
        """Load the model and put the system prompt's tokens in the KV cache, so the first question is fast.

        Then one throwaway question is answered: the first decode of a fresh context pays for buffer allocation and
        the first touch of the weights, which would otherwise land on the first real question."""
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
            warmup = tokens + llama.tokenize(b"Passages:\n[1] (warm-up) The sky is blue.\n\nQuestion: What colour "
                                             b"is the sky?<|im_end|>\n<|im_start|>assistant\n",
                                             add_bos=False, special=True)
            for _ in llama.generate(warmup, temp=0.0, top_k=1):
                break  # one token is enough to run every kernel once; the system prompt stays cached

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
            if not self.cache_prompt:
                llama.reset()
            cached = common_prefix(llama.input_ids[: llama.n_tokens], tokens)
            self._stats = {"prompt_tokens": len(tokens), "cached_tokens": cached, "n_threads": threads}
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
            usage = {"input_tokens": len(tokens), "output_tokens": n_out, "total_tokens": len(tokens) + n_out,
                     "input_token_details": {"cache_read": cached}}
            yield ChatGenerationChunk(message=AIMessageChunk(
                content="", usage_metadata=usage,
                response_metadata={"finish_reason": finish or "stop", "n_threads": threads}))


def common_prefix(a, b) -> int:
    """How many leading tokens two sequences share (the KV cache llama.cpp can keep)."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


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
    local = dict(max_tokens=settings.max_new_tokens, timeout=settings.llm_timeout, n_ctx=settings.n_ctx,
                 n_threads=settings.n_threads, weights=settings.local_weights, lookup=settings.lookup,
                 flash_attn=settings.flash_attn)
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
