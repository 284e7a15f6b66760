"""The evidence-first stream on the page, as pure HTML: qa.page.streaming_html (no server, no browser).

The order of events on a real page is checked in tests/test_app_browser.py; this checks what each state shows.
"""

from __future__ import annotations

import pytest

from qa.page import streaming_html
from qa.types import Citation, Evidence

CARD = Citation(n=1, doc_id="a b.txt", title="Title <b>", source="Publisher & Co", date="2024-01-02",
                quote="Line one\nline <script>two</script>", start=3, end=40, score=0.7)


def test_before_evidence_it_is_the_plain_streaming_message():
    assert "qa-streaming" in streaming_html("") and "…" in streaming_html("")
    assert "qa-evidence" not in streaming_html("Partial")


@pytest.mark.parametrize("text", [pytest.param("", id="no-text-yet"), pytest.param("Azerbaijan [1] <i>", id="text")])
def test_evidence_cards_with_a_writing_state(text):
    html = streaming_html(text, Evidence(citations=(CARD, CARD.model_copy(update={"n": 2}))))
    assert "Writing the answer… from 2 passages found" in html and 'role="status"' in html
    assert html.count('class="qa-card"') == 2 and 'href="#qa-open/a%20b.txt/3/40"' in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "Title &lt;b&gt;" in html
    assert "\n" not in html  # the chat widget runs markdown first: a newline could end the HTML block
    assert "[1]</span>" not in html  # evidence cards carry no [n]: the model numbers only what it is shown
    assert ('<p class="qa-text">' in html) == bool(text)
    assert ("&lt;i&gt;" in html) == bool(text)  # the answer text is escaped too


def test_no_evidence_found_still_says_it_is_writing():
    html = streaming_html("", Evidence())
    assert "Writing the answer…" in html and "qa-card" not in html.replace("qa-cards", "")
