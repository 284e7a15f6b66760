"""Load test: N simulated chat users ask questions through the page's API for a bounded time (127.0.0.1 only).

Each user has its own gradio_client and asks the next question as soon as the last answer arrives. Every answer is
checked: it must parse as an Answer, and when the app runs in this process, every quote must equal the document
text at its offsets. Prints throughput, p50/p90/p99 latency and the error count (exit status 1 if any error).

    .venv/bin/python bench/load_bench.py                      # starts the real app (extractive), 20 users, 60 s
    .venv/bin/python bench/load_bench.py --users 20 --duration 180 --model auto
    .venv/bin/python bench/load_bench.py --url http://127.0.0.1:7860/   # an app that is already running

Left out: browsers (the page's JavaScript is not exercised) and any host other than loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa.sample_questions import QUESTIONS as ANSWERABLE, UNANSWERABLE  # noqa: E402  (after sys.path above)

QUESTIONS = (*ANSWERABLE, UNANSWERABLE)  # the last one should abstain
MAX_USERS, MAX_DURATION_S = 200, 3600
ERROR_CHARS = 200  # of one error message kept in the report
SHOWN_ERRORS = 10
JOIN_GRACE_S = 300  # a request in flight at the deadline may finish


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def start_app(model: str):
    """The real app in this process on a free loopback port; returns (url, docs, demo)."""
    import app
    from qa.pipeline import get_store
    from qa.settings import Settings

    settings = Settings.from_env()
    print(f"loading the index of {settings.corpus_dir} ...", flush=True)
    store = get_store(settings)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = app.create_app(settings=settings, store_fn=lambda: store)
    app.launch(port=port, demo=demo, prevent_thread_lock=True, quiet=True)
    return f"http://127.0.0.1:{port}/", store.docs, demo


def well_formed(data, docs) -> str | None:
    """None when the answer is well-formed, else what is wrong."""
    from qa.types import Answer

    try:
        answer = Answer.model_validate(data)
    except Exception as exc:
        return f"not an Answer: {exc}"[:ERROR_CHARS]
    if not answer.abstained and not answer.citations:
        return "an answer without citations"
    for c in answer.citations:
        if docs is not None and (c.doc_id not in docs or docs[c.doc_id].text[c.start:c.end] != c.quote):
            return f"quote [{c.n}] does not match {c.doc_id} at {c.start}:{c.end}"
    return None


def page_user(url: str, model: str, docs):
    """connect() for run_users: user i's gradio_client asks the page's /ask, and each answer is checked."""
    def connect(i: int):
        from gradio_client import Client

        client = Client(url, verbose=False, analytics_enabled=False, download_files=False)

        def ask(q: str) -> tuple[str | None, bool]:
            data = client.predict(q, model, api_name="/ask")
            return well_formed(data, docs), bool(isinstance(data, dict) and data.get("abstained"))

        return ask

    return connect


# -- shared with bench/openai_load_bench.py ---------------------------------------------------------------------
def add_bench_args(ap: argparse.ArgumentParser, model: str, models: str) -> None:
    """The options every load bench takes: --users, --duration, --model (default model, help models), --json."""
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds to keep asking (bounded)")
    ap.add_argument("--model", default=model, help=models)
    ap.add_argument("--json", type=Path, help="also write the figures to this file")


def check_bench_args(ap: argparse.ArgumentParser, args) -> None:
    if not 1 <= args.users <= MAX_USERS or not 0 < args.duration <= MAX_DURATION_S:
        ap.error(f"--users must be 1..{MAX_USERS} and --duration 1..{MAX_DURATION_S} seconds")


def run_users(users: int, duration: float, connect) -> tuple[dict, float]:
    """users threads, each asking the next of QUESTIONS as soon as its last answer arrives, until duration is up.

    connect(i) gives user i its ask(question) -> (problem or None, abstained). Returns (out, wall seconds): out
    holds the latencies of good answers, the errors and the number of abstentions."""
    out = {"latencies": [], "errors": [], "abstained": 0}
    lock = threading.Lock()
    t0 = time.monotonic()
    threads = [threading.Thread(target=_user, args=(i, connect, t0 + duration, out, lock), daemon=True)
               for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + JOIN_GRACE_S)
    return out, time.monotonic() - t0


def _user(i: int, connect, deadline: float, out: dict, lock: threading.Lock) -> None:
    try:
        ask = connect(i)
    except Exception as exc:
        with lock:
            out["errors"].append(f"user {i}: could not connect: {exc}")
        return
    n = i  # users start at different questions
    while time.monotonic() < deadline:
        q = QUESTIONS[n % len(QUESTIONS)]
        n += 1
        t = time.perf_counter()
        try:
            problem, abstained = ask(q)
        except Exception as exc:
            problem, abstained = f"{type(exc).__name__}: {exc}"[:ERROR_CHARS], False
        took = time.perf_counter() - t
        with lock:
            if problem:
                out["errors"].append(f"user {i} {q!r}: {problem}")
            else:
                out["latencies"].append(took)
                out["abstained"] += int(abstained)


def figures_of(args, out: dict, wall: float) -> dict:
    """The figures a bench prints and writes: answers, abstentions, errors, throughput and latency percentiles."""
    lat = out["latencies"]
    return {
        "users": args.users, "duration_s": round(wall, 1), "model": args.model,
        "requests": len(lat) + len(out["errors"]), "answers": len(lat), "abstained": out["abstained"],
        "errors": len(out["errors"]), "throughput_per_s": round(len(lat) / wall, 2) if wall else 0.0,
        "p50_s": round(statistics.median(lat), 3) if lat else None,
        "p90_s": round(percentile(lat, 90), 3) if lat else None,
        "p99_s": round(percentile(lat, 99), 3) if lat else None,
        "max_s": round(max(lat), 3) if lat else None,
    }


def finish(figures: dict, out: dict, json_path: Path | None) -> int:
    """Prints the latencies and the first errors, writes the figures to json_path; the exit status (1: errors)."""
    print(f"latency p50 {figures['p50_s']} s, p90 {figures['p90_s']} s, p99 {figures['p99_s']} s, "
          f"max {figures['max_s']} s")
    print(f"errors {figures['errors']}")
    for e in out["errors"][:SHOWN_ERRORS]:
        print("  " + e)
    if json_path:
        json_path.write_text(json.dumps(figures, indent=2) + "\n")
    return 1 if out["errors"] else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_bench_args(ap, "extractive", "auto | local | hosted | extractive")
    ap.add_argument("--url", help="an app already running on this machine (default: start one here)")
    args = ap.parse_args(argv)
    check_bench_args(ap, args)

    demo = docs = None
    if args.url:
        host = urlparse(args.url).hostname or ""
        if host not in ("127.0.0.1", "localhost", "::1"):
            ap.error("this load test only runs against 127.0.0.1")
        url = args.url
    else:
        url, docs, demo = start_app(args.model)
    print(f"{args.users} users, {args.duration:.0f} s, model={args.model}, {url}", flush=True)
    out, wall = run_users(args.users, args.duration, page_user(url, args.model, docs))
    if demo is not None:
        demo.close()
    figures = figures_of(args, out, wall)
    print(f"answers {figures['answers']} ({figures['abstained']} abstained) in {figures['duration_s']} s: "
          f"{figures['throughput_per_s']} answers/s")
    return finish(figures, out, args.json)


if __name__ == "__main__":
    sys.exit(main())
