"""The command line: `qa index | ask | eval | serve | mcp`. Thin: every command calls the library and prints.

User mistakes (QAError) print one red line and exit with status 2; never a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Answers from your documents, with verbatim quotes.")


def _settings(corpus: Optional[Path], index: Optional[Path], **more):
    from qa.settings import Settings

    return Settings.from_env(corpus_dir=corpus, index_dir=index, **more)


def _fail(exc: Exception) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
    raise typer.Exit(2)


def _progress_index(settings, rebuild: bool = False):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from qa.store import open_store

    with Progress(TextColumn("embedding"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  transient=True) as bar:
        task = bar.add_task("embed", total=None)

        def progress(n, total):
            bar.update(task, total=total, advance=n)

        return open_store(settings, progress=progress, rebuild=rebuild)


@app.command()
def index(corpus: Optional[Path] = typer.Option(None, help="folder of documents (default: corpus/)"),
          index_dir: Optional[Path] = typer.Option(None, "--index", help="where the index lives (default: index/)"),
          rebuild: bool = typer.Option(False, help="re-embed everything"),
          ray: Optional[str] = typer.Option(None, "--ray", help="chunk and embed on Ray: 'auto' or a cluster address"),
          store_spec: Optional[str] = typer.Option(None, "--store", help="embedded | milvus://host:19530 (QA_STORE)")):
    """Build or update the index of the corpus (only changed documents are re-embedded)."""
    from qa.errors import QAError

    settings = _settings(corpus, index_dir, store=store_spec)
    try:
        if ray:
            from qa.index_ray import index_with_ray

            store = index_with_ray(settings, ray, rebuild)
        else:
            store = _progress_index(settings, rebuild)
    except QAError as exc:
        _fail(exc)
    where = store.gen_dir or getattr(store, "uri", settings.store)
    typer.echo(f"indexed {len(store.docs)} document(s), {len(store.chunks)} chunks, {len(store.sentences)} sentences "
               f"-> {where}")
    for path, why in store.skipped:
        typer.secho(f"skipped {path}: {why}", fg="yellow", err=True)


@app.command()
def ask(question: Optional[str] = typer.Argument(None, help="the question; leave out for an interactive loop"),
        json_out: bool = typer.Option(False, "--json", help="print the Answer as JSON"),
        llm: Optional[str] = typer.Option(None, help="none | local | local-small | openai:<model> | auto"),
        k: Optional[int] = typer.Option(None, help="number of evidence passages"),
        corpus: Optional[Path] = typer.Option(None), index_dir: Optional[Path] = typer.Option(None, "--index")):
    """Ask a question; the answer cites verbatim quotes."""
    from qa.errors import QAError
    from qa.pipeline import ask as ask_fn
    from qa.render import render_terminal

    settings = _settings(corpus, index_dir)
    try:
        _progress_index(settings)
    except QAError as exc:
        _fail(exc)
    history: list[tuple[str, str]] = []
    questions = [question] if question is not None else _prompt_loop()
    for q in questions:
        try:
            a = ask_fn(q, settings, llm=llm, k=k, history=history or None)
        except QAError as exc:
            if question is not None:
                _fail(exc)
            typer.secho(f"error: {exc}", fg="red", err=True)
            continue
        history.append((q, a.text))
        typer.echo(json.dumps(a.to_dict(), ensure_ascii=False, indent=1) if json_out else render_terminal(a))


def _prompt_loop():
    while True:
        try:
            q = input("\nquestion> ")
        except (EOFError, KeyboardInterrupt):
            return
        if q.strip().lower() in ("exit", "quit"):
            return
        yield q


@app.command("eval")
def eval_(set_: str = typer.Option("seed", "--set", help="seed | conflictqa | clapnq | ramdocs | conflictqa-each | counterfactual | counterfactual-cut | planted | all"),
          llm: str = typer.Option("none", help="none | local | openai:<model>"),
          limit: Optional[int] = typer.Option(None, help="at most this many questions per set"),
          corpus: Optional[Path] = typer.Option(None, help="your own corpus folder"),
          questions: Optional[Path] = typer.Option(None, help="your own questions (JSONL, eval/seed.jsonl format)")):
    """Run the eval set: citation accuracy, correctness, disagreement detection, abstention."""
    from qa.errors import QAError
    from qa.eval import cli_run

    try:
        raise typer.Exit(cli_run(set_, llm, limit, corpus, questions))
    except QAError as exc:
        _fail(exc)


@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="interface to listen on"),
          port: int = typer.Option(7860),
          password: Optional[str] = typer.Option(None, help="require this password (user 'qa')", envvar="QA_PASSWORD"),
          allow_remote: bool = typer.Option(False, "--allow-remote", help="needed to listen on a non-loopback host")):
    """Serve the chat page and the OpenAI-compatible API at /v1 (default http://127.0.0.1:7860)."""
    from qa.errors import QAError

    if host not in ("127.0.0.1", "localhost", "::1") and not allow_remote:
        _fail(QAError(f"listening on {host} exposes the page to the network: add --allow-remote (and --password)"))
    import importlib.util

    spec = importlib.util.spec_from_file_location("qa_app", Path(__file__).resolve().parent.parent / "app.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    try:
        mod.launch(host=host, port=port, auth=("qa", password) if password else None, allow_remote=allow_remote,
                   warm_model=True)
    except QAError as exc:
        _fail(exc)


@app.command()
def mcp(http: bool = typer.Option(False, "--http", help="serve streamable HTTP at http://HOST:PORT/mcp, not stdio"),
        host: str = typer.Option("127.0.0.1", help="interface to listen on (with --http)"),
        port: int = typer.Option(8765, help="port (with --http)"),
        password: Optional[str] = typer.Option(None, help="bearer key required over HTTP", envvar="QA_PASSWORD"),
        allow_remote: bool = typer.Option(False, "--allow-remote", help="needed to listen on a non-loopback host")):
    """Serve the tools ask, search, list_documents and get_passage over MCP (stdio by default)."""
    from qa.mcp_server import main as mcp_main

    argv = ["--host", host, "--port", str(port)] + ["--http"] * http + ["--allow-remote"] * allow_remote
    raise typer.Exit(mcp_main(argv + (["--password", password] if password else [])))


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "sentence_transformers", "bm25s", "faiss"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    app()


if __name__ == "__main__":
    sys.exit(main())
