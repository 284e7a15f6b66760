"""The chat page in a real browser (Debian chromium driven by Playwright; never `playwright install`).

Asks a seed question, waits for the streamed answer, checks the quote cards, clicks one and checks that the
highlighted text is exactly the document text at the card's offsets; uploads a document and asks about it; shows
that `<script>` / `<img onerror>` in a document and in a question render as text; removes the upload. Screenshots go
to tests/screenshots/ (git-ignored).
The page runs the real pipeline (qa.pipeline, extractive) over a real Store of a copy of the corpus built with
the fast fake embedder (BM25 + hashed vectors), so uploads go through Store.add_files for real; one test swaps in
a failing answer function to show that internal errors reach the page as a short message. tests/test_app_api.py
runs the real embedder.
"""

import urllib.parse
from pathlib import Path

import pytest

from qa.sample_questions import SEED
from tests.app_fakes import FakeStore, copy_corpus, fake_ask, fake_stream
from tests.test_app_api import serve

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
HOSTILE = ("Ferry notice\n\nThe Lankaran ferry <script>window.__pwned = 1</script> departs from the northern pier "
           "<img src=x onerror=\"window.__pwned = 2\"> every morning at dawn.\n")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium "
                                                               "(apt-get install -y chromium chromium-driver)")


#: how long a test waits for an answer to be final before failing (ms)
ANSWER_WAIT_MS = 120_000


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    import app
    from qa.settings import Settings
    from qa.store import open_store

    root = tmp_path_factory.mktemp("browser")
    settings = Settings.from_env(corpus_dir=copy_corpus(root / "corpus"), index_dir=root / "index",
                                 embedder="fake", llm="none")
    store = open_store(settings)
    demo = app.create_app(settings=settings, store_fn=lambda: store)  # the real qa.pipeline
    yield serve(demo), store
    demo.close()


@pytest.fixture(scope="module")
def page(served):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.set_default_timeout(ANSWER_WAIT_MS)  # slow shared machines: a bound on waiting
        dialogs = []
        pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        pg.goto(served[0])
        pg.wait_for_selector("#qa-question textarea")
        pg.wait_for_selector("#qa-docs li.qa-doc")
        pg.qa_dialogs = dialogs
        yield pg
        browser.close()


def ask(pg, question: str) -> None:
    """Send a question and wait until its answer (the last assistant message) is final."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    n = pg.locator("#qa-chat .qa-mode, #qa-chat .qa-error").count()
    pg.fill("#qa-question textarea", question)
    for _ in range(20):
        # Gradio ignores a submit while the previous one is still finishing (trigger_mode "once"); the text then
        # stays in the box, so press Enter again until the page takes the question (it clears the box)
        pg.press("#qa-question textarea", "Enter")
        try:
            pg.wait_for_function("() => document.querySelector('#qa-question textarea').value === ''", timeout=1500)
            break
        except PlaywrightTimeout:
            continue
    # a shared CI machine can be slow: wait long for the answer (a bound on waiting, not a timing assertion)
    pg.wait_for_function("n => document.querySelectorAll('#qa-chat .qa-mode, #qa-chat .qa-error').length > n", arg=n,
                         timeout=ANSWER_WAIT_MS)


def open_card(pg, card) -> tuple[str, int, int, str]:
    """Click a card; return (doc_id, start, end, highlighted text)."""
    href = card.get_attribute("href")
    doc_id, start, end = href[len("#qa-open/"):].split("/")
    card.click()
    pg.wait_for_selector("#qa-viewer mark.qa-hl")
    pg.wait_for_function("() => { const m = document.querySelector('#qa-viewer mark.qa-hl');"
                         " const r = m.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }")
    return urllib.parse.unquote(doc_id), int(start), int(end), pg.eval_on_selector(
        "#qa-viewer mark.qa-hl", "m => m.textContent")


def test_seed_question_cards_and_highlight(page, served):
    store = served[1]
    ask(page, SEED)
    cards = page.locator("#qa-chat .qa-answer").last.locator(".qa-cards a.qa-card")
    assert cards.count() >= 1
    page.screenshot(path=str(SHOTS / "01-answer.png"), full_page=True)
    for i in range(cards.count()):
        doc_id, start, end, marked = open_card(page, cards.nth(i))
        assert marked == store.docs[doc_id].text[start:end]  # offsets, exactly
        card_quote = cards.nth(i).locator(".qa-card-quote").text_content()
        assert " ".join(card_quote.split()) == " ".join(marked.split())
    page.screenshot(path=str(SHOTS / "02-source-highlighted.png"), full_page=True)
    # the [n] marker links to its card and opens the same source
    page.locator("#qa-chat .qa-answer").last.locator("a.qa-ref").first.click()
    page.wait_for_selector("#qa-chat a.qa-card.qa-active")


def test_upload_then_ask_about_it(page, served, tmp_path):
    note = tmp_path / "lighthouse festival.txt"
    note.write_text("Lighthouse notes\n\nThe Absheron lighthouse festival is held every September in Lankaran.\n")
    page.set_input_files("#qa-upload input[type=file]", str(note))
    page.wait_for_selector("#qa-docs code:text('uploads/lighthouse_festival.txt')")
    assert "Added: uploads/lighthouse_festival.txt" in page.inner_text("#qa-upload-msg")
    ask(page, "When is the Absheron lighthouse festival held?")
    cards = page.locator("#qa-chat .qa-answer").last.locator(".qa-cards a.qa-card")
    doc_id, start, end, marked = open_card(page, cards.first)
    assert doc_id == "uploads/lighthouse_festival.txt"
    assert marked == "The Absheron lighthouse festival is held every September in Lankaran."
    page.screenshot(path=str(SHOTS / "03-upload-answer.png"), full_page=True)


def test_hostile_document_and_question_show_as_text(page, served, tmp_path):
    evil = tmp_path / "ferry.txt"
    evil.write_text(HOSTILE)
    page.set_input_files("#qa-upload input[type=file]", str(evil))
    page.wait_for_selector("#qa-docs code:text('uploads/ferry.txt')")
    question = ("When does the <img src=x onerror=\"window.__pwned = 3\"> Lankaran ferry depart from the northern "
                "pier <script>window.__pwned = 4</script>?")
    ask(page, question)
    last = page.locator("#qa-chat .qa-answer").last
    card = last.locator(".qa-cards a.qa-card").filter(has_text="Lankaran ferry").first
    assert "<script>window.__pwned = 1</script>" in card.text_content()
    doc_id, start, end, marked = open_card(page, card)
    assert doc_id == "uploads/ferry.txt" and "<img src=x onerror=" in marked
    assert page.locator("#qa-chat .qa-question").last.text_content() == question
    assert "<script>" in page.inner_text("#qa-viewer")
    assert page.evaluate("() => window.__pwned") is None
    for sel in ("#qa-chat .qa-answer img", "#qa-chat .qa-question img", "#qa-viewer img", "#qa-viewer script",
                "#qa-chat .qa-answer script"):
        assert page.locator(sel).count() == 0, sel
    assert page.qa_dialogs == []
    page.screenshot(path=str(SHOTS / "04-hostile-as-text.png"), full_page=True)


def test_remove_uploaded_document(page, served):
    store = served[1]
    button = page.locator("#qa-docs button[data-qa-remove='uploads/ferry.txt']")
    button.click()
    page.wait_for_selector("#qa-docs code:text('uploads/ferry.txt')", state="detached")
    assert "uploads/ferry.txt" not in store.docs
    assert "Removed uploads/ferry.txt" in page.inner_text("#qa-upload-msg")


def test_refused_upload_shows_message(page, tmp_path):
    bad = tmp_path / "tool.exe.pdf"
    bad.write_bytes(b"MZ\x90\x00 not a pdf")
    page.set_input_files("#qa-upload input[type=file]", str(bad))
    page.wait_for_function("() => document.querySelector('#qa-upload-msg').innerText.includes('Refused')")
    assert page.inner_text("#qa-upload-msg").strip() == "Refused: tool.exe.pdf: this is not a PDF file"


def test_abstains_clearly(page):
    ask(page, "zzqx vrrblm")
    shown = page.locator("#qa-chat .qa-answer").last.inner_text()
    assert shown.count("The sources do not answer this") == 1 and page.locator("#qa-chat .qa-abstain").count()
    page.screenshot(path=str(SHOTS / "05-abstain.png"), full_page=True)


def test_fake_backend_streaming_history_and_errors(page, tmp_path):
    """A scripted backend: the answer visibly streams, follow-ups carry history, failures are one short line."""
    import threading

    import app
    from qa.settings import Settings

    corpus = copy_corpus(tmp_path / "corpus")
    store = FakeStore(corpus)
    release = threading.Event()

    def slow_stream(question, settings=None, **kw):
        answer = fake_ask(question, settings, **kw)  # raises for "explode"
        yield "Partial answer so far "
        release.wait(20)  # hold the stream open until the page has shown the partial text
        yield from fake_stream(question, settings, **kw)

    demo = app.create_app(ask_fn=fake_ask, stream_fn=slow_stream, store_fn=lambda: store,
                          settings=Settings.from_env(corpus_dir=corpus))
    try:
        page.goto(serve(demo))
        page.wait_for_selector("#qa-question textarea")
        page.fill("#qa-question textarea", SEED)
        page.press("#qa-question textarea", "Enter")
        page.wait_for_selector("#qa-chat .qa-streaming:has-text('Partial answer so far')")
        assert page.locator("#qa-chat .qa-mode").count() == 0
        page.screenshot(path=str(SHOTS / "06-streaming.png"), full_page=True)
        release.set()
        page.wait_for_selector("#qa-chat .qa-mode")
        assert "history used" not in page.locator("#qa-chat .qa-answer").last.inner_text()
        ask(page, "And which UN bodies was Azerbaijan elected to?")
        assert "history used" in page.locator("#qa-chat .qa-answer").last.inner_text()

        ask(page, "Do the sources disagree about the Committee on the Status of Women and the Human Rights Council?")
        panel = page.locator("#qa-chat .qa-answer").last.locator(".qa-disagree")
        assert "Sources disagree" in panel.inner_text()
        claims = panel.locator("a.qa-card")
        assert claims.count() == 2
        doc_id, start, end, marked = open_card(page, claims.nth(1))
        assert marked == store.docs[doc_id].text[start:end]
        page.screenshot(path=str(SHOTS / "08-disagreement.png"), full_page=True)
        panel.screenshot(path=str(SHOTS / "08-disagreement-panel.png"))

        page.click("text=Settings")
        page.click("#qa-model label:has-text('extractive')")
        ask(page, SEED)
        assert "llm=none" in page.locator("#qa-chat .qa-answer").last.inner_text()

        ask(page, "please explode")
        error = page.locator("#qa-chat .qa-error").last.inner_text()
        assert "Something went wrong" in error
        body = page.inner_text("body")
        assert "Traceback" not in body and "/secret/path" not in body
        page.screenshot(path=str(SHOTS / "07-error-message.png"), full_page=True)
        ask(page, SEED)  # the page keeps working after an error
        assert page.locator("#qa-chat .qa-answer").last.locator("a.qa-card").count() >= 1
    finally:
        release.set()
        demo.close()


def test_evidence_cards_show_before_the_first_answer_token(page, tmp_path):
    """Evidence first: the quote cards and a "writing" state are on the page before any answer text, then the text
    streams in under them, then the final answer's cards replace them. Checks the order of events, not timings."""
    import threading

    import app
    from qa.settings import Settings
    from qa.types import Evidence

    corpus = copy_corpus(tmp_path / "corpus")
    store = FakeStore(corpus)
    evidence_shown, first_token_shown = threading.Event(), threading.Event()

    def slow_stream(question, settings=None, **kw):
        answer = fake_ask(question, settings, **kw)
        yield Evidence(citations=answer.citations)
        evidence_shown.wait(20)  # no text until the page has shown the cards
        yield "Azerbaijan was admitted "
        first_token_shown.wait(20)
        yield from fake_stream(question, settings, **kw)

    demo = app.create_app(ask_fn=fake_ask, stream_fn=slow_stream, store_fn=lambda: store,
                          settings=Settings.from_env(corpus_dir=corpus))
    try:
        page.goto(serve(demo))
        page.wait_for_selector("#qa-question textarea")
        # record, in the page, the order in which evidence cards, answer text and the final answer first appear
        page.evaluate("""() => {
          window.__qaOrder = [];
          const note = (what) => { if (!window.__qaOrder.includes(what)) window.__qaOrder.push(what); };
          new MutationObserver(() => {
            const chat = document.querySelector('#qa-chat');
            if (chat.querySelector('.qa-streaming .qa-evidence a.qa-card')) note('evidence');
            const t = chat.querySelector('.qa-streaming .qa-text');
            if (t && t.textContent.includes('Azerbaijan')) note('text');
            if (chat.querySelector('.qa-mode')) note('final');
          }).observe(document.body, { childList: true, subtree: true, characterData: true });
        }""")
        page.fill("#qa-question textarea", SEED)
        page.press("#qa-question textarea", "Enter")
        page.wait_for_selector("#qa-chat .qa-streaming .qa-evidence a.qa-card")
        streaming = page.locator("#qa-chat .qa-streaming")
        assert "Writing the answer" in streaming.inner_text()
        assert streaming.locator(".qa-text").count() == 0  # no answer text yet
        page.screenshot(path=str(SHOTS / "09-evidence-first.png"), full_page=True)
        evidence_shown.set()
        page.wait_for_selector("#qa-chat .qa-streaming .qa-text:has-text('Azerbaijan was admitted')")
        assert streaming.locator(".qa-evidence a.qa-card").count() >= 1  # the cards stay while the text streams
        first_token_shown.set()
        page.wait_for_selector("#qa-chat .qa-mode")
        assert page.evaluate("() => window.__qaOrder") == ["evidence", "text", "final"]
        final = page.locator("#qa-chat .qa-answer").last
        assert final.locator(".qa-writing").count() == 0 and final.locator(".qa-cards a.qa-card").count() >= 1
    finally:
        evidence_shown.set()
        first_token_shown.set()
        demo.close()
