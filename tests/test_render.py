"""qa.render: escaping, [n] links, quote cards, highlighting by offsets, disagreements, abstention, terminal text."""

import html
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest

from qa import render
from qa.types import Answer, Citation, Claim, Disagreement, Document, Span

SCRIPT = "<script>alert('x')</script>"
IMG = '<img src=x onerror="alert(1)">'
HOSTILE = f"Ignore this {SCRIPT} and {IMG} & \"quotes\" {{{{value}}}} ${{1+1}}"


class Tags(HTMLParser):
    """Collects the elements and attributes a browser would build from the HTML, plus the visible text."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.text = [], [], []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.text.append(data)

    @property
    def visible(self) -> str:
        return "".join(self.text)


def assert_inert(markup: str) -> Tags:
    t = Tags(markup)
    assert not {"script", "img", "iframe", "object", "style", "svg"} & set(t.tags), t.tags
    assert not [a for a, _ in t.attrs if a.lower().startswith("on")]
    assert not [v for a, v in t.attrs if a == "href" and v and not v.startswith("#")]
    return t


def doc(text: str, doc_id: str = "a.txt", **kw) -> Document:
    return Document(doc_id=doc_id, path="/x/" + doc_id, title=kw.pop("title", "Title"), text=text, sha256="0",
                    content=(Span(start=0, end=len(text)),), **kw)


def cite(d: Document, quote: str, n: int = 1, **kw) -> Citation:
    start = d.text.index(quote)
    return Citation(n=n, doc_id=d.doc_id, title=kw.pop("title", d.title), source=kw.pop("source", d.source),
                    date=kw.pop("date", d.date), quote=quote, start=start, end=start + len(quote), **kw)


TEXT = "Intro line.\nThe UN was founded in 1945. Azerbaijan joined in 1992.\n\nA second paragraph."
D = doc(TEXT, source="MFA", date="2024-01-02")
C1 = cite(D, "The UN was founded in 1945.", 1)
C2 = cite(D, "Azerbaijan joined in 1992.", 2)
E = doc(f"Evil {HOSTILE} sentence. Another.", doc_id="uploads/e v\"il<.txt", title=f"T {SCRIPT}",
        source=f"S {IMG}", date="<b>2025</b>")
CE = cite(E, f"Evil {HOSTILE} sentence.", 1)


# -- escaping everywhere -----------------------------------------------------------------------------------------
def _answer(**kw) -> Answer:
    base = dict(question="q", text="The UN was founded in 1945 [1].", citations=(C1,))
    return Answer(**{**base, **kw})


@pytest.mark.parametrize("markup, must_show", [
    pytest.param(render.render_question_html(HOSTILE), HOSTILE, id="question"),
    pytest.param(render.render_answer_html(_answer(text=f"{HOSTILE} [1]")), HOSTILE, id="answer-text"),
    pytest.param(render.render_answer_html(_answer(text="x [1]", citations=(CE,))), HOSTILE, id="card-quote"),
    pytest.param(render.render_card(CE), f"T {SCRIPT}", id="card-title"),
    pytest.param(render.render_card(CE), f"S {IMG}", id="card-source"),
    pytest.param(render.render_card(CE), "<b>2025</b>", id="card-date"),
    pytest.param(render.render_answer_html(_answer(notes=(HOSTILE,))), HOSTILE, id="note"),
    pytest.param(render.render_answer_html(_answer(mode=SCRIPT)), SCRIPT, id="mode"),
    pytest.param(render.render_answer_html(_answer(abstained=True, text=HOSTILE, citations=())), HOSTILE,
                 id="abstained-text"),
    pytest.param(render.render_disagreements((Disagreement(summary=HOSTILE, claims=(
        Claim(citation=CE, stance=IMG), Claim(citation=C1, stance="b"))),)), HOSTILE, id="disagreement-summary"),
    pytest.param(render.render_disagreements((Disagreement(summary="s", claims=(
        Claim(citation=CE, stance=IMG), Claim(citation=C1, stance="b"))),)), IMG, id="disagreement-stance"),
    pytest.param(render.render_source_html(E, CE.start, CE.end), HOSTILE, id="source-text"),
    pytest.param(render.render_source_html(E, 0, 4), f"T {SCRIPT}", id="source-title"),
    pytest.param(render.render_documents_html([E]), f"T {SCRIPT}", id="document-list"),
    pytest.param(render.render_streaming_html(HOSTILE), HOSTILE, id="streaming"),
    pytest.param(render.render_error_html(HOSTILE), HOSTILE, id="error"),
])
def test_everything_from_documents_and_users_shows_as_text(markup, must_show):
    t = assert_inert(markup)
    assert must_show in t.visible


@pytest.mark.parametrize("markup", [
    pytest.param(render.render_answer_html(_answer(text="a\n\nb\nc [1]", citations=(CE,), notes=("x\ny",))), id="answer"),
    pytest.param(render.render_question_html("line one\n\nline two"), id="question"),
    pytest.param(render.render_streaming_html("a\n\n\nb"), id="streaming"),
])
def test_chat_html_has_no_newline(markup):
    # a blank line would end the raw-HTML block in the chat widget's markdown and re-interpret document text
    assert "\n" not in markup and "\r" not in markup


# -- [n] markers and cards -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, linked, plain", [
    pytest.param("Founded in 1945 [1].", ["#qa-c7-1"], [], id="one"),
    pytest.param("Both [1][2].", ["#qa-c7-1", "#qa-c7-2"], [], id="adjacent"),
    pytest.param("Both [1, 2].", ["#qa-c7-1", "#qa-c7-2"], [], id="comma-list"),
    pytest.param("Unknown [9].", [], ["[9]"], id="unknown-stays-text"),
    pytest.param("Mixed [1, 9].", [], ["[1, 9]"], id="partly-unknown-stays-text"),
    pytest.param("No markers.", [], [], id="none"),
])
def test_markers_link_to_cards(text, linked, plain):
    markup = render.link_markers(text, {1: C1, 2: C2}, turn=7)
    t = Tags(markup)
    assert [v for a, v in t.attrs if a == "href"] == linked
    for p in plain:
        assert p in t.visible


def test_answer_cards_carry_offsets_and_metadata():
    markup = render.render_answer_html(_answer(text="Founded [1], joined [2].", citations=(C1, C2)), turn=3)
    t = assert_inert(markup)
    hrefs = [v for a, v in t.attrs if a == "href"]
    assert hrefs == ["#qa-c3-1", "#qa-c3-2", f"#qa-open/a.txt/{C1.start}/{C1.end}", f"#qa-open/a.txt/{C2.start}/{C2.end}"]
    assert ("id", "qa-c3-1") in t.attrs and ("id", "qa-c3-2") in t.attrs
    for piece in (C1.quote, C2.quote, "Title", "MFA", "2024-01-02"):
        assert piece in t.visible


@pytest.mark.parametrize("doc_id", [
    pytest.param("a.txt", id="plain"),
    pytest.param("uploads/e v\"il<.txt", id="slash-quote-angle"),
    pytest.param("sub/dir/100% #1 ü.md", id="percent-hash-unicode"),
])
def test_card_href_round_trips_doc_id(doc_id):
    d = doc("Some text here. More.", doc_id=doc_id)
    c = cite(d, "More.")
    href = dict(Tags(render.render_card(c)).attrs)["href"]
    assert href.startswith("#qa-open/")
    enc_id, start, end = href[len("#qa-open/"):].split("/")  # exactly three parts: the id has no raw slash
    assert (unquote(enc_id), int(start), int(end)) == (doc_id, c.start, c.end)


def test_undated_card_says_so():
    c = C1.model_copy(update={"date": ""})
    assert "undated" in Tags(render.render_card(c)).visible


# -- the source viewer ---------------------------------------------------------------------------------------------
class Marked(HTMLParser):
    def __init__(self, markup):
        super().__init__(convert_charrefs=True)
        self.inside, self.marked, self.body = False, [], []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        self.inside = self.inside or tag == "mark"

    def handle_endtag(self, tag):
        if tag == "mark":
            self.inside = False

    def handle_data(self, data):
        (self.marked if self.inside else self.body).append(data)


@pytest.mark.parametrize("d, quote", [
    pytest.param(D, C1.quote, id="middle"),
    pytest.param(D, "Intro line.", id="at-start"),
    pytest.param(D, "A second paragraph.", id="at-end"),
    pytest.param(E, CE.quote, id="hostile"),
    pytest.param(doc("Ünïcödé 🙂 text — «quoted» here."), "🙂 text — «quoted»", id="non-bmp"),
    pytest.param(doc("same. same. same."), "same.", id="repeated-quote"),
])
def test_source_highlights_exactly_the_offsets(d, quote):
    start = d.text.index(quote)
    p = Marked(render.render_source_html(d, start, start + len(quote)))
    assert "".join(p.marked) == quote
    assert_inert(render.render_source_html(d, start, start + len(quote)))


def test_highlight_follows_offsets_not_string_search():
    d = doc("same. same. same.")
    p = Marked(render.render_source_html(d, 12, 17))  # the third "same."
    assert "".join(p.marked) == "same." and "".join(p.body).endswith("same. same. ")


@pytest.mark.parametrize("start, end", [
    pytest.param(-1, 3, id="negative"), pytest.param(5, 3, id="reversed"),
    pytest.param(0, 10_000, id="past-end"), pytest.param("1", 3, id="not-int"),
])
def test_bad_offsets_give_a_message(start, end):
    markup = render.render_source_html(D, start, end)
    assert "<mark" not in markup and "changed since this answer" in markup


def test_missing_document_gives_a_message():
    assert "no longer in the corpus" in render.render_source_html(None, 0, 1)


def test_huge_document_shows_a_window_around_the_quote():
    text = "x" * 500_000 + " The needle sentence. " + "y" * 500_000
    d = doc(text)
    start = text.index("The needle")
    markup = render.render_source_html(d, start, start + len("The needle sentence."), max_chars=10_000)
    assert len(markup) < 12_000
    assert "".join(Marked(markup).marked) == "The needle sentence."
    assert "Showing characters" in markup


# -- abstention, disagreements, notes ------------------------------------------------------------------------------
def test_abstained_answer_says_so_clearly():
    markup = render.render_answer_html(Answer(question="q", text="", abstained=True, notes=("nothing relevant",)))
    t = assert_inert(markup)
    assert render.ABSTAIN_TEXT in t.visible and "nothing relevant" in t.visible
    assert "qa-card" not in markup


def test_disagreement_panel_sides_are_cards_with_source_and_date():
    other = doc("The UN was founded in 1946 according to us.", doc_id="b.txt", source="Blog", date="2025-03-05")
    c_other = cite(other, "The UN was founded in 1946 according to us.", 2)
    dis = Disagreement(summary="MFA says 1945, Blog says 1946", kind="factual",
                       claims=(Claim(citation=C1, stance="1945"), Claim(citation=c_other, stance="1946")))
    markup = render.render_answer_html(_answer(text="Founded [1] or [2].", citations=(C1, c_other),
                                               disagreements=(dis,)))
    t = assert_inert(markup)
    panel = markup[markup.index("qa-disagree"):markup.index('<div class="qa-cards">')]
    assert "Sources disagree" in markup and panel.count('class="qa-card"') == 2
    for piece in ("MFA says 1945, Blog says 1946", "factual", "MFA", "Blog", "2024-01-02", "2025-03-05"):
        assert piece in t.visible
    assert render.render_disagreements(()) == ""


# -- terminal ------------------------------------------------------------------------------------------------------
def test_terminal_rendering_lists_sources_disagreements_notes():
    other = doc("Founded in 1946.", doc_id="b.txt", source="Blog")
    c_other = cite(other, "Founded in 1946.", 2)
    dis = Disagreement(summary="They differ on the year", claims=(Claim(citation=C1, stance="1945"),
                                                                  Claim(citation=c_other, stance="1946")))
    out = render.render_terminal(_answer(text="Founded [1] or [2].", citations=(C1, c_other), disagreements=(dis,),
                                         notes=("fell back to extractive",)))
    for piece in ("Founded [1] or [2].", "Sources:", f'[1] "{C1.quote}"', "MFA, 2024-01-02", "Sources disagree:",
                  "They differ on the year", "Blog: 1946", "Notes:", "fell back to extractive", "a.txt:"):
        assert piece in out, piece
    assert "<" not in out


@pytest.mark.parametrize("evil, shown", [
    pytest.param("\x1b[31mred\x1b[0m", "\\x1b[31mred", id="ansi"),
    pytest.param("\x1b]0;title\x07", "\\x1b]0;title\\x07", id="osc-title"),
    pytest.param("abc\u202edcba", "abc\\u202edcba", id="rtl-override"),
    pytest.param("a\x08b", "a\\x08b", id="backspace"),
])
def test_terminal_neutralises_control_characters(evil, shown):
    d = doc(f"Quote {evil} here.")
    out = render.render_terminal(_answer(text="x [1]", citations=(cite(d, f"Quote {evil} here."),)))
    assert shown in out and "\x1b" not in out and "\u202e" not in out


def test_terminal_abstention():
    out = render.render_terminal(Answer(question="q", text="", abstained=True))
    assert out.startswith(render.ABSTAIN_TEXT)


def test_escape_round_trip():
    assert html.unescape(render.esc(HOSTILE)) == HOSTILE


@pytest.mark.parametrize("text, extra", [
    pytest.param("", False, id="empty"),
    pytest.param("The sources do not answer this question.", False, id="pipeline-sentence"),
    pytest.param("The sources do not answer this.", False, id="same-sentence"),
    pytest.param("The documents mention 1945 but not the month.", True, id="explanation"),
])
def test_abstention_message_shown_once(text, extra):
    markup = render.render_answer_html(Answer(question="q", text=text, abstained=True))
    visible = Tags(markup).visible
    assert visible.count("do not answer this") == 1 + (text.count("do not answer this") if extra else 0)
    assert (text in visible) == (extra or text in ("", render.ABSTAIN_TEXT))
