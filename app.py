"""The chat page: a thin Gradio Blocks layer over qa.pipeline (``create_app`` builds, ``launch`` serves).

The page streams each answer into the chat, puts quote cards under it, shows the "Sources disagree" panel, and
opens the cited document in a side viewer with the quote highlighted by offsets (``qa.render`` builds all HTML
and escapes everything from documents and users). Uploads go through ``qa.uploads`` into the upload folder
and then ``Store.add_files``; the corpus list removes documents with ``Store.remove``. The same functions are named
API endpoints (/ask, /upload, /documents, /remove) for ``gradio_client``. Errors become one short message, never a
traceback. By default the page listens on 127.0.0.1 only; any other host needs ``allow_remote`` and should get a
password. Left out: user accounts and per-user corpora (one corpus per server), and persistence of chats.

Run: ``python app.py [--host H --port P --password PW --allow-remote]`` or ``qa serve``.
"""

import argparse
import ipaddress
import logging
import os
import sys
import threading
import time
from pathlib import Path

from qa import render
from qa.errors import BadQuestion, QAError
from qa.settings import Settings
from qa.types import Answer, Evidence
from qa.uploads import ALLOWED_SUFFIXES, DEFAULT_MAX_BYTES, human_size, save_uploads

log = logging.getLogger("qa.app")

MODEL_CHOICES = [("auto (best available)", "auto"), ("local model", "local"), ("hosted model", "hosted"),
                 ("extractive (no model)", "extractive")]
GENERIC_ERROR = "Something went wrong while answering. Please try again; the server log has the details."
HISTORY_MESSAGES = 12  # the last six turns are enough context for a follow-up

CSS = """
#qa-chat .qa-question { white-space: pre-wrap; }
.qa-answer p { margin: 0 0 .5em 0; }
.qa-refs a.qa-ref { text-decoration: none; font-weight: 600; padding: 0 1px; }
.qa-cards, .qa-dis-claims { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0; }
.qa-dis-claims > .qa-claim { flex: 1 1 45%; min-width: 220px; }
a.qa-card { display: block; flex: 1 1 45%; min-width: 220px; border: 1px solid var(--border-color-primary);
  border-left: 4px solid var(--color-accent); border-radius: 6px; padding: 6px 8px; text-decoration: none !important;
  color: inherit !important; background: var(--background-fill-secondary); cursor: pointer; }
a.qa-card:hover, a.qa-card:focus, a.qa-card.qa-active { border-color: var(--color-accent); outline: none;
  box-shadow: 0 0 0 2px var(--color-accent-soft); }
.qa-card-n { font-weight: 700; margin-right: 4px; }
.qa-card-quote { display: -webkit-box; -webkit-line-clamp: 4; -webkit-box-orient: vertical; overflow: hidden;
  font-style: italic; margin: 2px 0 4px 0; }
a.qa-card.qa-active .qa-card-quote { -webkit-line-clamp: unset; }
.qa-card-meta { display: block; font-size: .85em; opacity: .8; }
.qa-card-title { font-style: normal; font-weight: 600; }
.qa-disagree { border: 1px solid #d97706; border-radius: 6px; padding: 6px 8px; margin: 8px 0;
  background: rgba(217, 119, 6, .07); }
.qa-disagree-head { margin: 0 0 4px 0; color: #b45309; }
.qa-claim-stance { margin: 0 0 4px 0; font-weight: 600; }
.qa-abstain { border: 1px solid #6b7280; border-radius: 6px; padding: 6px 8px; background: rgba(107,114,128,.08); }
.qa-error { border: 1px solid #dc2626; border-radius: 6px; padding: 6px 8px; background: rgba(220,38,38,.08); }
.qa-notes { font-size: .85em; opacity: .85; margin: 4px 0; }
.qa-writing { font-size: .85em; opacity: .75; margin: 4px 0; }
.qa-writing::before { content: ""; display: inline-block; width: .6em; height: .6em; margin-right: 6px;
  border-radius: 50%; background: var(--color-accent); animation: qa-pulse 1s ease-in-out infinite alternate; }
@keyframes qa-pulse { from { opacity: .25; } to { opacity: 1; } }
.qa-evidence a.qa-card { opacity: .8; }
.qa-evidence .qa-card-n:empty { display: none; }
.qa-mode { font-size: .75em; opacity: .6; margin: 2px 0 0 0; }
#qa-viewer .qa-source-meta { font-size: .9em; margin-bottom: 6px; }
#qa-viewer .qa-source-title { font-weight: 700; }
#qa-viewer .qa-source-text { white-space: pre-wrap; max-height: 62vh; overflow-y: auto; font-size: .9em;
  border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 8px; }
#qa-viewer mark.qa-hl { background: #fde047; color: #111; padding: 1px 0; }
#qa-docs ul.qa-docs { list-style: none; padding: 0; margin: 0; max-height: 40vh; overflow-y: auto; }
#qa-docs li.qa-doc { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; padding: 4px 0;
  border-bottom: 1px solid var(--border-color-primary); }
#qa-docs .qa-doc-title { font-weight: 600; flex: 1 1 100%; }
#qa-docs .qa-doc-meta { font-size: .85em; opacity: .8; }
#qa-docs code { font-size: .8em; flex: 1 1 auto; }
#qa-docs button.qa-remove { border: 1px solid #dc2626; color: #dc2626; border-radius: 4px; padding: 0 6px;
  background: transparent; cursor: pointer; font-size: .75em; font-weight: 400; margin-left: auto; }
"""

# Runs once when the viewer mounts: one capture-phase listener for the whole page. Cards carry
# href="#qa-open/<doc>/<start>/<end>"; [n] markers link to "#qa-c<turn>-<n>" (their card).
VIEWER_JS = r"""
window.__qaViewer = { server, props, element };
if (!window.__qaBound) {
  window.__qaBound = true;
  const open = async (href) => {
    const parts = href.slice('#qa-open/'.length).split('/');
    if (parts.length !== 3) return;
    const v = window.__qaViewer;
    const req = { doc_id: decodeURIComponent(parts[0]), start: parseInt(parts[1], 10), end: parseInt(parts[2], 10) };
    v.props.value = '<p class="qa-loading">Opening the source…</p>';
    let html;
    try { html = await v.server.open_source(req); }
    catch (err) { html = '<div class="qa-error">Could not open the source.</div>'; }
    v.props.value = html;
    const show = (tries) => {
      const m = v.element.querySelector('mark.qa-hl');
      if (m) { m.scrollIntoView({ block: 'center' }); }
      else if (tries > 0) { setTimeout(() => show(tries - 1), 50); }
    };
    setTimeout(() => show(40), 0);
  };
  const activate = (card) => {
    document.querySelectorAll('a.qa-card.qa-active').forEach((x) => x.classList.remove('qa-active'));
    card.classList.add('qa-active');
    open(card.getAttribute('href'));
  };
  document.addEventListener('click', (e) => {
    const a = e.target && e.target.closest ? e.target.closest('a') : null;
    if (!a) return;
    const href = a.getAttribute('href') || '';
    if (href.startsWith('#qa-open/')) {
      e.preventDefault(); e.stopPropagation(); activate(a);
    } else if (href.startsWith('#qa-c')) {
      e.preventDefault(); e.stopPropagation();
      const card = document.getElementById(href.slice(1));
      if (card) { card.scrollIntoView({ block: 'nearest' }); activate(card); }
    }
  }, true);
}
"""

DOCS_JS = r"""
element.addEventListener('click', (e) => {
  const b = e.target && e.target.closest ? e.target.closest('button[data-qa-remove]') : null;
  if (!b) return;
  b.disabled = true;
  b.textContent = 'Removing…';
  trigger('click', { doc_id: b.getAttribute('data-qa-remove') });
});
"""

VIEWER_EMPTY = '<p class="qa-viewer-empty">Click a quote card to open its source here, with the quote highlighted.</p>'


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Lazy:
    """Builds a value once, on first use, even when several requests ask at the same time."""

    def __init__(self, make):
        self._make, self._lock, self._value = make, threading.Lock(), None

    def __call__(self):
        with self._lock:
            if self._value is None:
                self._value = self._make()
            return self._value


def _as_answer(result) -> Answer:
    if isinstance(result, Answer):
        return result
    if isinstance(result, dict):
        return Answer.model_validate(result)
    raise TypeError(f"the answer function returned {type(result).__name__}, not an Answer")


def streaming_html(text: str, evidence: Evidence | None = None) -> str:
    """The answer while it is written: the text so far and, once retrieval is done, the evidence as quote cards.

    The cards carry no [n] label: the model numbers only the passages it is shown, and the final answer renumbers
    its citations; when it arrives, the cards settle to the cited ones."""
    if evidence is None:
        return render.render_streaming_html(text or "…")
    body = f'<p class="qa-text">{render.esc_inline(text)}</p>' if text else ""
    n = len(evidence.citations)
    status = (f"Writing the answer… from {n} passage{'s' if n != 1 else ''} found" if n
              else "Writing the answer…")
    cards = "".join(render.render_card(c, label="") for c in evidence.citations)
    return (f'<div class="qa-answer qa-streaming">{body}<p class="qa-writing" role="status">{status}</p>'
            f'<div class="qa-cards qa-evidence">{cards}</div></div>')


def create_app(ask_fn=None, stream_fn=None, store_fn=None, settings: Settings | None = None, *,
               upload_dir: str | Path | None = None, max_upload_bytes: int = DEFAULT_MAX_BYTES,
               concurrency: int = 4, max_queue: int = 256):
    """Build the page. ask_fn/stream_fn take (question, settings, *, store, llm, history) like qa.pipeline."""
    import gradio as gr

    settings = settings or Settings.from_env()
    if ask_fn is None and stream_fn is None:
        from qa import pipeline

        ask_fn, stream_fn = pipeline.ask, pipeline.ask_stream
    if store_fn is None:
        def store_fn():
            from qa.pipeline import get_store

            return get_store(settings)
    get_store = _Lazy(store_fn)
    upload_dir = Path(upload_dir or os.environ.get("QA_UPLOAD_DIR") or Path(settings.corpus_dir) / "uploads")
    upload_lock = threading.Lock()  # one corpus change at a time; searches keep running on the old index

    def llm_spec(model: str | None) -> str | None:
        model = (model or "auto").strip()
        if model == "auto":
            return None  # settings.llm decides
        if model in ("extractive", "none"):
            return "none"
        if model == "hosted":
            if str(settings.llm).startswith("openai:"):
                return settings.llm
            return os.environ.get("QA_HOSTED_LLM", "openai:gpt-4o-mini")
        return model  # "local", "local-small", "openai:<model>" pass through

    def request_settings(passages) -> Settings:
        try:
            n = int(passages or 0)
        except (TypeError, ValueError):
            raise BadQuestion("the number of passages must be a whole number") from None
        return settings.with_(k_evidence=max(1, min(n, 30))) if n > 0 else settings

    def clean_history(history) -> list[dict]:
        out = []
        for m in list(history or [])[-HISTORY_MESSAGES:]:
            if isinstance(m, dict) and m.get("role") in ("user", "assistant"):
                out.append({"role": m["role"], "content": str(m.get("content") or "")[:4000]})
        return out

    def call_kwargs(model, history):
        return {"store": get_store(), "llm": llm_spec(model), "history": clean_history(history) or None}

    def run_ask(question, model, passages, history) -> Answer:
        s = request_settings(passages)
        if ask_fn is not None:
            return _as_answer(ask_fn(question, s, **call_kwargs(model, history)))
        final = None
        for piece in stream_fn(question, s, **call_kwargs(model, history)):
            if not isinstance(piece, str):
                final = piece
        return _as_answer(final)

    def run_stream(question, model, passages, history):
        s = request_settings(passages)
        if stream_fn is None:
            yield _as_answer(ask_fn(question, s, **call_kwargs(model, history)))
            return
        yield from stream_fn(question, s, **call_kwargs(model, history))

    # -- API endpoints ------------------------------------------------------------------------------------------
    def ask(question: str, model: str = "auto", passages: int = 0, history: list[dict] | None = None) -> dict:
        """Answer a question from the corpus; returns Answer.to_dict() (text, citations with offsets, ...)."""
        try:
            return run_ask(question, model, passages, history).to_dict()
        except QAError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception:
            log.exception("ask failed")
            raise gr.Error(GENERIC_ERROR, print_exception=False) from None

    def documents() -> list[dict]:
        """The documents in the corpus: doc_id, title, source, date, kind, characters."""
        return [{"doc_id": d.doc_id, "title": d.title, "source": d.source, "date": d.date, "kind": d.kind,
                 "chars": len(d.text)} for d in sorted(get_store().docs.values(), key=lambda d: d.doc_id)]

    def remove(doc_id: str) -> dict:
        """Take one document out of the corpus (its file is moved aside, not deleted)."""
        try:
            with upload_lock:
                get_store().remove(str(doc_id))
            return {"removed": str(doc_id), "documents": len(get_store().docs)}
        except QAError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception:
            log.exception("remove failed")
            raise gr.Error("The document could not be removed; the server log has the details.",
                           print_exception=False) from None

    def upload(files) -> dict:
        """Save uploaded files into the upload folder and index them."""
        paths = [files] if isinstance(files, (str, Path)) else list(files or [])
        report = save_uploads([(p, Path(str(p)).name) for p in paths], upload_dir, max_upload_bytes)
        added, refused = [], [{"name": n, "reason": r} for n, r in report.refused]
        if report.saved:
            try:
                with upload_lock:
                    added = get_store().add_files([p for _, p in report.saved])
            except QAError as exc:
                refused.append({"name": ", ".join(n for n, _ in report.saved), "reason": str(exc)})
            except Exception:
                log.exception("indexing uploads failed")
                refused.append({"name": ", ".join(n for n, _ in report.saved),
                                "reason": "the files could not be indexed; the server log has the details"})
        return {"added": added, "refused": refused, "documents": len(get_store().docs)}

    # -- page handlers ------------------------------------------------------------------------------------------
    def chat_submit(question, chat, history, model, passages):
        chat, history = list(chat or []), list(history or [])
        question = question if isinstance(question, str) else ""
        if not question.strip():
            yield chat, history, question
            return
        turn = 1 + sum(1 for m in chat if isinstance(m, dict) and m.get("role") == "assistant")
        shown = question if len(question) <= 4000 else f"{question[:4000]}… ({len(question):,} characters)"
        chat.append({"role": "user", "content": render.render_question_html(shown)})
        chat.append({"role": "assistant", "content": render.render_streaming_html("…")})
        yield chat, history, ""
        text, last, evidence = "", 0.0, None
        try:
            answer = None
            for piece in run_stream(question, model, passages, history):
                if isinstance(piece, Evidence):  # retrieval is done: show the evidence at once, then the text
                    evidence = piece
                    chat[-1] = {"role": "assistant", "content": streaming_html(text, evidence)}
                    last = time.monotonic()
                    yield chat, history, ""
                elif isinstance(piece, str):
                    text += piece
                    if time.monotonic() - last > 0.08:  # at most ~12 updates a second
                        chat[-1] = {"role": "assistant", "content": streaming_html(text, evidence)}
                        last = time.monotonic()
                        yield chat, history, ""
                else:
                    answer = _as_answer(piece)
            if answer is None:
                raise QAError("the answer did not arrive; please ask again")
            chat[-1] = {"role": "assistant", "content": render.render_answer_html(answer, turn)}
            history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
        except QAError as exc:
            chat[-1] = {"role": "assistant", "content": render.render_error_html(str(exc))}
        except Exception:
            log.exception("answering failed")
            chat[-1] = {"role": "assistant", "content": render.render_error_html(GENERIC_ERROR)}
        yield chat, history[-HISTORY_MESSAGES:], ""

    def open_source(req):
        """Server function for the viewer: the document with the quote at [start, end) highlighted."""
        try:
            doc_id, start, end = str(req["doc_id"]), req["start"], req["end"]
            if not (isinstance(start, int) and isinstance(end, int)):
                raise ValueError("offsets must be integers")
            return render.render_source_html(get_store().docs.get(doc_id), start, end)
        except Exception as exc:
            log.warning("open_source(%r) failed: %s", req, exc)
            return render.render_error_html("the source could not be opened")

    def docs_panel(message: str = ""):
        try:
            listing = render.render_documents_html(get_store().docs.values())
        except QAError as exc:
            listing = render.render_error_html(str(exc))
        except Exception:
            log.exception("listing documents failed")
            listing = render.render_error_html("the corpus could not be listed")
        return message, listing

    def after_upload(result):
        result = result or {}
        lines = []
        if result.get("added"):
            lines.append("Added: " + ", ".join(result["added"]))
        for r in result.get("refused", []):
            name, reason = str(r.get("name")), str(r.get("reason"))
            lines.append(f"Refused: {reason}" if reason.startswith(name) else f"Refused {name}: {reason}")
        msg = "".join(f"<p>{render.esc(line)}</p>" for line in lines)
        return (*docs_panel(msg), None)

    def on_remove(evt: gr.EventData):
        doc_id = getattr(evt, "_data", None) or {}
        doc_id = doc_id.get("doc_id") if isinstance(doc_id, dict) else None
        if not doc_id:
            return docs_panel()
        try:
            remove(doc_id)
            return docs_panel(f"<p>Removed {render.esc(doc_id)}.</p>")
        except gr.Error as exc:
            return docs_panel(render.render_error_html(exc.message))

    def new_conversation():
        return [], [], VIEWER_EMPTY

    accepted = ", ".join(ALLOWED_SUFFIXES)
    with gr.Blocks(title="qa · answers from your documents", analytics_enabled=False) as demo:
        gr.Markdown("## Ask your documents\nAnswers quote the documents verbatim; click a quote card to see it in "
                    "its source.")
        history = gr.State([])
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(elem_id="qa-chat", height=600, latex_delimiters=[], feedback_options=None,
                                  show_label=False, placeholder="Ask a question about the documents.")
                with gr.Row():
                    question = gr.Textbox(elem_id="qa-question", show_label=False, scale=5, max_lines=6,
                                          placeholder="Ask about the documents… (Enter to send)")
                    ask_btn = gr.Button("Ask", variant="primary", elem_id="qa-ask", scale=1, min_width=80)
                with gr.Accordion("Settings", open=False):
                    model = gr.Radio(MODEL_CHOICES, value="auto", label="Model", elem_id="qa-model")
                    passages = gr.Slider(1, 12, step=1, value=settings.k_evidence, label="Passages (evidence)",
                                         elem_id="qa-passages")
                    clear = gr.Button("New conversation", size="sm")
            with gr.Column(scale=2):
                gr.Markdown("### Source")
                viewer = gr.HTML(VIEWER_EMPTY, elem_id="qa-viewer", js_on_load=VIEWER_JS,
                                 server_functions=[open_source])
                with gr.Accordion("Corpus", open=True):
                    files = gr.File(file_count="multiple", file_types=list(ALLOWED_SUFFIXES), elem_id="qa-upload",
                                    label=f"Add documents ({accepted}; up to {human_size(max_upload_bytes)} each)")
                    upload_msg = gr.HTML("", elem_id="qa-upload-msg", js_on_load=None)
                    docs_html = gr.HTML("", elem_id="qa-docs", js_on_load=DOCS_JS)
        upload_result = gr.JSON(visible=False)

        submit = dict(fn=chat_submit, inputs=[question, chat, history, model, passages],
                      outputs=[chat, history, question], api_visibility="private", concurrency_id="ask")
        question.submit(**submit)
        ask_btn.click(**submit)
        clear.click(new_conversation, outputs=[chat, history, viewer], api_visibility="private", queue=False)
        files.upload(upload, inputs=files, outputs=upload_result, api_name="upload", concurrency_id="corpus",
                     concurrency_limit=1).then(after_upload, inputs=upload_result,
                                               outputs=[upload_msg, docs_html, files], api_visibility="private")
        docs_html.click(on_remove, outputs=[upload_msg, docs_html], api_visibility="private",
                        concurrency_id="corpus", concurrency_limit=1)
        demo.load(docs_panel, outputs=[upload_msg, docs_html], api_visibility="private")
        gr.api(ask, api_name="ask", concurrency_id="ask")
        gr.api(documents, api_name="documents")
        gr.api(remove, api_name="remove", concurrency_id="corpus", concurrency_limit=1)

    demo.queue(default_concurrency_limit=concurrency, max_size=max_queue)
    demo.qa_max_upload_bytes = max_upload_bytes
    demo.qa_warm = get_store
    demo.qa_answer, demo.qa_settings, demo.qa_concurrency = run_ask, settings, concurrency  # qa.openai_api
    return demo


def launch(host: str = "127.0.0.1", port: int = 7860, auth=None, share: bool = False, *, allow_remote: bool = False,
           demo=None, prevent_thread_lock: bool = False, quiet: bool = False, warm_model: bool = False,
           **create_kwargs):
    """Serve the page. A non-loopback host (or a share link) needs allow_remote=True; auth=(user, password).

    warm_model=True also loads the default language model at start (what `qa serve` and `python app.py` do)."""
    if (not is_loopback(host) or share) and not allow_remote:
        where = "a public share link" if share else host
        raise QAError(f"listening on {where} exposes the page and the corpus to the network: pass --allow-remote "
                      f"(and --password) to do it on purpose")
    if not is_loopback(host) and auth is None:
        log.warning("the page on %s:%s has no password: anyone on the network can use it and change the corpus",
                    host, port)
    demo = demo if demo is not None else create_app(**create_kwargs)
    from qa.openai_api import page_routes  # /v1/models and /v1/chat/completions on the same server

    api_routes = page_routes(demo, auth)  # the page's password is the API's bearer key
    # load the index in the background so the first question does not pay for it
    threading.Thread(target=_warm, args=(demo, warm_model), daemon=True, name="qa-warm").start()
    demo.launch(server_name=host, server_port=int(port), auth=auth, share=share, show_error=False, quiet=quiet,
                prevent_thread_lock=prevent_thread_lock, css=CSS, ssr_mode=False, footer_links=["api"],
                max_file_size=2 * getattr(demo, "qa_max_upload_bytes", DEFAULT_MAX_BYTES) + (1 << 20),
                auth_message="This qa page is password-protected." if auth else None,
                app_kwargs={"routes": api_routes})
    return demo


#: asked once at start by _warm, so the first real question finds every stage warm
WARM_QUESTION = "When was the United Nations founded?"


def _warm(demo, warm_model: bool = False) -> None:
    store = None
    try:
        store = demo.qa_warm()
    except Exception as exc:  # the page shows the same error when it is used
        log.warning("could not load the index yet: %s", exc)
    if not warm_model:
        return
    try:  # load the default model and cache its system prompt, so the first question is not the slow one
        from qa.llm import make_llm
        from qa.pipeline import ask
        from qa.prompts import SYSTEM_PROMPT
        from qa.settings import Settings

        settings = Settings.from_env()
        model = make_llm(None, settings)
        if model is not None and hasattr(model, "warm"):
            model.warm(SYSTEM_PROMPT)
        # then one question end to end: the embedder's first call, the lazy imports of the answer and disagreement
        # steps and the model's first full answer are paid here, not by the first person who asks
        if store is not None:
            ask(WARM_QUESTION, settings, store=store, llm=model if model is not None else "none")
    except Exception as exc:
        log.warning("could not warm the language model: %s", exc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the qa chat page.")
    parser.add_argument("--host", default=os.environ.get("QA_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("QA_PORT", "7860")))
    parser.add_argument("--user", default="qa", help="user name for --password (default: qa)")
    parser.add_argument("--password", default=os.environ.get("QA_PASSWORD"),
                        help="require this password (or set QA_PASSWORD)")
    parser.add_argument("--allow-remote", action="store_true", help="needed to listen on a non-loopback host")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "sentence_transformers", "bm25s", "faiss"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        launch(host=args.host, port=args.port, auth=(args.user, args.password) if args.password else None, warm_model=True,
               allow_remote=args.allow_remote)
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
