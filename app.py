"""The chat page: Gradio components and their wiring over qa.page (``create_app`` builds, ``launch`` serves).

The page streams each answer into the chat, puts quote cards under it, shows the "Sources disagree" panel, and
opens the cited document in a side viewer with the quote highlighted by offsets. What each event and endpoint does
lives in ``qa.page.Page`` (explicit state, callable without a server); its HTML comes from ``qa.render``, which
escapes everything from documents and users; the styles and scripts are qa/static/page.css, viewer.js and docs.js.
Uploads go through ``qa.uploads`` into the upload folder and then ``Store.add_files``; the corpus list removes
documents with ``Store.remove``. The same functions are named API endpoints (/ask, /upload, /documents, /remove)
for ``gradio_client``, and ``launch`` mounts the OpenAI-compatible API (``qa.openai_api``) on the same server.
Errors become one short message, never a traceback. By default the page listens on 127.0.0.1 only; any other host
needs ``allow_remote`` and should get a password. Left out: user accounts and per-user corpora (one corpus per
server), and persistence of chats.

Run: ``python app.py [--host H --port P --password PW --allow-remote]`` or ``qa serve``.
"""

import argparse
import functools
import ipaddress
import logging
import os
import sys
import threading
from pathlib import Path

from qa.errors import QAError
from qa.page import VIEWER_EMPTY, Page, asset
from qa.settings import Settings
from qa.uploads import ALLOWED_SUFFIXES, DEFAULT_MAX_BYTES, human_size

log = logging.getLogger("qa.app")

MODEL_CHOICES = [("auto (best available)", "auto"), ("local model", "local"), ("hosted model", "hosted"),
                 ("extractive (no model)", "extractive")]
TITLE = "qa · answers from your documents"
INTRO = "## Ask your documents\nAnswers quote the documents verbatim; click a quote card to see it in its source."
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 7860
DEFAULT_CONCURRENCY = 4  # answers worked on at once; the rest wait in Gradio's queue
DEFAULT_MAX_QUEUE = 256
CORPUS_CHANGES_AT_ONCE = 1  # uploads and removals take turns; questions keep running on the old index
CHAT_SCALE, SOURCE_SCALE = 3, 2  # the chat column is wider than the source viewer's
QUESTION_SCALE, ASK_SCALE, ASK_MIN_WIDTH_PX = 5, 1, 80
CHAT_HEIGHT_PX = 600
QUESTION_MAX_LINES = 6
PASSAGES_MIN, PASSAGES_MAX = 1, 12  # the passages slider's range
# Gradio refuses a larger file before qa.uploads sees it, with a less helpful message: leave it room
GRADIO_FILE_LIMIT_FACTOR, GRADIO_FILE_LIMIT_SLACK = 2, 1 << 20
EXIT_ERROR = 2  # as argparse: the command could not do what it was asked


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def with_event_data(fn):
    """fn(data) as a Gradio handler: Gradio passes an event's data only to a parameter annotated gr.EventData."""
    import gradio as gr

    def handler(evt: gr.EventData):
        return fn(getattr(evt, "_data", None))

    return handler


def server_function(method):
    """A bound method as a gr.HTML server function: Gradio marks the function object, which a method cannot take;
    the name stays the method's, the one the page's script calls (server.open_source)."""
    @functools.wraps(method)
    def fn(*args, **kwargs):
        return method(*args, **kwargs)

    return fn


def create_app(ask_fn=None, stream_fn=None, store_fn=None, settings: Settings | None = None, *,
               upload_dir: str | Path | None = None, max_upload_bytes: int = DEFAULT_MAX_BYTES,
               concurrency: int = DEFAULT_CONCURRENCY, max_queue: int = DEFAULT_MAX_QUEUE):
    """Build the page. ask_fn/stream_fn take (question, settings, *, store, llm, history) like qa.pipeline."""
    import gradio as gr

    page = Page(ask_fn, stream_fn, store_fn, settings, upload_dir=upload_dir, max_upload_bytes=max_upload_bytes)
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown(INTRO)
        history = gr.State([])
        with gr.Row():
            with gr.Column(scale=CHAT_SCALE):
                chat = gr.Chatbot(elem_id="qa-chat", height=CHAT_HEIGHT_PX, latex_delimiters=[], feedback_options=None,
                                  show_label=False, placeholder="Ask a question about the documents.")
                with gr.Row():
                    question = gr.Textbox(elem_id="qa-question", show_label=False, scale=QUESTION_SCALE,
                                          max_lines=QUESTION_MAX_LINES,
                                          placeholder="Ask about the documents… (Enter to send)")
                    ask_btn = gr.Button("Ask", variant="primary", elem_id="qa-ask", scale=ASK_SCALE,
                                        min_width=ASK_MIN_WIDTH_PX)
                with gr.Accordion("Settings", open=False):
                    model = gr.Radio(MODEL_CHOICES, value="auto", label="Model", elem_id="qa-model")
                    passages = gr.Slider(PASSAGES_MIN, PASSAGES_MAX, step=1, value=page.settings.k_evidence,
                                         label="Passages (evidence)", elem_id="qa-passages")
                    clear = gr.Button("New conversation", size="sm")
            with gr.Column(scale=SOURCE_SCALE):
                gr.Markdown("### Source")
                viewer = gr.HTML(VIEWER_EMPTY, elem_id="qa-viewer", js_on_load=asset("viewer.js"),
                                 server_functions=[server_function(page.open_source)])
                with gr.Accordion("Corpus", open=True):
                    files = gr.File(file_count="multiple", file_types=list(ALLOWED_SUFFIXES), elem_id="qa-upload",
                                    label=f"Add documents ({', '.join(ALLOWED_SUFFIXES)}; "
                                          f"up to {human_size(max_upload_bytes)} each)")
                    upload_msg = gr.HTML("", elem_id="qa-upload-msg", js_on_load=None)
                    docs_html = gr.HTML("", elem_id="qa-docs", js_on_load=asset("docs.js"))
        upload_result = gr.JSON(visible=False)

        submit = dict(fn=page.chat_submit, inputs=[question, chat, history, model, passages],
                      outputs=[chat, history, question], api_visibility="private", concurrency_id="ask")
        question.submit(**submit)
        ask_btn.click(**submit)
        clear.click(page.new_conversation, outputs=[chat, history, viewer], api_visibility="private", queue=False)
        corpus_change = dict(concurrency_id="corpus", concurrency_limit=CORPUS_CHANGES_AT_ONCE)
        files.upload(page.upload, inputs=files, outputs=upload_result, api_name="upload", **corpus_change).then(
            page.after_upload, inputs=upload_result, outputs=[upload_msg, docs_html, files], api_visibility="private")
        docs_html.click(with_event_data(page.remove_clicked), outputs=[upload_msg, docs_html],
                        api_visibility="private", **corpus_change)
        demo.load(page.docs_panel, outputs=[upload_msg, docs_html], api_visibility="private")
        gr.api(page.ask, api_name="ask", concurrency_id="ask")
        gr.api(page.documents, api_name="documents")
        gr.api(page.remove, api_name="remove", **corpus_change)

    demo.queue(default_concurrency_limit=concurrency, max_size=max_queue)
    demo.qa_page, demo.qa_max_upload_bytes, demo.qa_warm = page, max_upload_bytes, page.get_store
    demo.qa_answer, demo.qa_settings, demo.qa_concurrency = page.run_ask, page.settings, concurrency  # qa.openai_api
    return demo


def launch(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, auth=None, share: bool = False, *,
           allow_remote: bool = False, demo=None, prevent_thread_lock: bool = False, quiet: bool = False,
           warm_model: bool = False, **create_kwargs):
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
    file_limit = GRADIO_FILE_LIMIT_FACTOR * getattr(demo, "qa_max_upload_bytes", DEFAULT_MAX_BYTES)
    demo.launch(server_name=host, server_port=int(port), auth=auth, share=share, show_error=False, quiet=quiet,
                prevent_thread_lock=prevent_thread_lock, css=asset("page.css"), ssr_mode=False,
                footer_links=["api"],
                max_file_size=file_limit + GRADIO_FILE_LIMIT_SLACK,
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

        settings = Settings.from_env()
        model = make_llm(None, settings)
        if model is not None and hasattr(model, "warm"):
            model.warm(SYSTEM_PROMPT)
        # then one question end to end: the embedder's first call, the lazy imports of the answer and disagreement
        # steps and the model's first full answer are paid here, not by the first person who asks
        if store is not None:
            ask(WARM_QUESTION, settings, store=store, llm=model if model is not None else "none")
        from qa.candidates import tokens

        tokens(WARM_QUESTION)  # spaCy's parser (answer slots, tenses) loads here whatever that answer needed
    except Exception as exc:
        log.warning("could not warm the language model: %s", exc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the qa chat page.")
    parser.add_argument("--host", default=os.environ.get("QA_HOST", DEFAULT_HOST))
    parser.add_argument("--port", type=int, default=int(os.environ.get("QA_PORT", DEFAULT_PORT)))
    parser.add_argument("--user", default="qa", help="user name for --password (default: qa)")
    parser.add_argument("--password", default=os.environ.get("QA_PASSWORD"),
                        help="require this password (or set QA_PASSWORD)")
    parser.add_argument("--allow-remote", action="store_true", help="needed to listen on a non-loopback host")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "sentence_transformers", "bm25s", "faiss"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        launch(host=args.host, port=args.port, auth=(args.user, args.password) if args.password else None,
               warm_model=True, allow_remote=args.allow_remote)
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
