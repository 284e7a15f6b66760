"""Load test of the OpenAI-compatible API: N users of the official ``openai`` client for a bounded time (127.0.0.1).

Each user has its own client and asks the next question (bench/load_bench.py's: qa/sample_questions.py and one to
abstain on) as soon as the last reply arrives; even-numbered users stream, odd ones do not (``--stream on|off`` for
all). Every reply is checked: each citation in the ``qa`` field must equal the document text at its offsets and
appear in the content's Sources list.
Prints the request count, errors and p50/p90/p99 latency (exit status 1 if any error).

    .venv/bin/python bench/openai_load_bench.py                    # starts the real app, 20 users, 60 s, extractive
    .venv/bin/python bench/openai_load_bench.py --users 20 --duration 60 --model qa-local

Left out: other hosts than loopback, and an app already running elsewhere (the check needs the documents).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_bench import (  # noqa: E402  (the same questions, app, users and figures as the page bench)
    add_bench_args, check_bench_args, figures_of, finish, run_users, start_app)

TIMEOUT_S = 120  # one reply


def check(content: str, qa: dict | None, docs) -> str | None:
    """None when the reply is well-formed, else what is wrong."""
    if not isinstance(qa, dict):
        return "no qa field"
    if not qa.get("abstained") and not qa.get("citations"):
        return "an answer without citations"
    for c in qa.get("citations", []):
        if c["doc_id"] not in docs or docs[c["doc_id"]].text[c["start"]:c["end"]] != c["quote"]:
            return f"quote [{c['n']}] does not match {c['doc_id']} at {c['start']}:{c['end']}"
        if f"\n[{c['n']}] " not in content:
            return f"[{c['n']}] is missing from the Sources list"
    return None


def ask_once(client, model: str, question: str, stream: bool) -> tuple[str, dict | None]:
    messages = [{"role": "user", "content": question}]
    if not stream:
        r = client.chat.completions.create(model=model, messages=messages)
        return r.choices[0].message.content, getattr(r, "qa", None)
    text, qa = [], None
    for chunk in client.chat.completions.create(model=model, messages=messages, stream=True):
        if chunk.choices:
            text.append(chunk.choices[0].delta.content or "")
            qa = getattr(chunk, "qa", None) or qa
    return "".join(text), qa


def openai_user(url: str, model: str, stream_mode: str, docs):
    """connect() for run_users: user i's OpenAI client; even users stream when stream_mode is "mixed"."""
    def connect(i: int):
        from openai import OpenAI

        client = OpenAI(base_url=url + "v1", api_key="unused", max_retries=0, timeout=TIMEOUT_S)
        stream = stream_mode == "on" or (stream_mode == "mixed" and i % 2 == 0)

        def ask(q: str) -> tuple[str | None, bool]:
            content, qa = ask_once(client, model, q, stream)
            return check(content, qa, docs), bool(isinstance(qa, dict) and qa.get("abstained"))

        return ask

    return connect


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_bench_args(ap, "qa-extractive", "qa-extractive | qa-local | qa-hosted")
    ap.add_argument("--stream", choices=["mixed", "on", "off"], default="mixed")
    args = ap.parse_args(argv)
    check_bench_args(ap, args)

    url, docs, demo = start_app(args.model)
    print(f"{args.users} OpenAI-client users, {args.duration:.0f} s, model={args.model}, stream={args.stream}, "
          f"{url}v1", flush=True)
    out, wall = run_users(args.users, args.duration, openai_user(url, args.model, args.stream, docs))
    demo.close()
    figures = {**figures_of(args, out, wall), "stream": args.stream}
    print(f"requests {figures['requests']}: {figures['answers']} answers ({figures['abstained']} abstained), "
          f"{figures['errors']} errors, in {figures['duration_s']} s: {figures['throughput_per_s']} answers/s")
    return finish(figures, out, args.json)


if __name__ == "__main__":
    sys.exit(main())
