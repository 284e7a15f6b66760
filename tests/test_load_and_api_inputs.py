"""Through the page's API with the real pipeline: 20 simultaneous users for a bounded time (QA_LOAD_SECONDS,
default 20) with zero errors and well-formed answers, and bad questions that each get a short error or an answer,
never a traceback. bench/load_bench.py measures the same loop for longer and prints throughput."""

from __future__ import annotations

import os
import threading
import time

import pytest

from qa.sample_questions import QUESTIONS
from tests.test_app_api import check_answer, client, serve


@pytest.fixture(scope="module")
def real_app(real_settings, real_store):
    import app

    demo = app.create_app(settings=real_settings, store_fn=lambda: real_store)
    url = serve(demo)
    yield url, real_store
    demo.close()


def test_twenty_users_for_a_while(real_app):
    url, store = real_app
    seconds = float(os.environ.get("QA_LOAD_SECONDS", "20"))
    deadline = time.monotonic() + seconds
    done, errors, lock = [], [], threading.Lock()

    def user(i: int) -> None:
        c = client(url)
        n = i
        while time.monotonic() < deadline:
            q = QUESTIONS[n % len(QUESTIONS)]
            n += 1
            try:
                check_answer(c.predict(q, "extractive", api_name="/ask"), store.docs)
                with lock:
                    done.append(q)
            except Exception as exc:  # any failure is a load error
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=user, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    assert not errors, errors[:3]
    assert len(done) >= 20  # every user got at least one answer on average


@pytest.mark.parametrize("question,outcome", [
    pytest.param("", "error", id="empty"),
    pytest.param(" \t\n ", "error", id="whitespace"),
    pytest.param("q" * 100_000, "error", id="100kB"),
    pytest.param(bytes(range(256)).decode("latin-1") * 4, "error", id="binary-garbage"),
    pytest.param("\x1b[31mWhen was Azerbaijan admitted to the UN?\x1b[0m", "answer", id="control-chars"),
    pytest.param("\u202bWhen was Azerbaijan admitted to the UN?\u202c", "answer", id="rtl-marks"),
    pytest.param("Когда Азербайджан вступил в ООН?", "answer", id="russian"),
    pytest.param("<img src=x onerror=alert(1)> What is UNICEF?", "answer", id="html"),
])
def test_bad_questions_through_the_page_api(real_app, question, outcome):
    from gradio_client.exceptions import AppError

    url, store = real_app
    if outcome == "error":
        with pytest.raises(AppError) as info:
            client(url).predict(question, "extractive", api_name="/ask")
        assert "Traceback" not in str(info.value) and len(str(info.value)) < 400
    else:
        check_answer(client(url).predict(question, "extractive", api_name="/ask"), store.docs)
