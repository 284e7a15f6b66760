"""The OpenAI-compatible API (/v1/models, /v1/chat/completions) through real clients against the real page server.

The official ``openai`` client (plain and streaming) and langchain's ``ChatOpenAI`` talk to ``app.launch`` on a free
loopback port, answering with the real pipeline, embedder and corpus in extractive mode; every quote that comes
back must be the document's text at its offsets. The page API's bad inputs are repeated here and must come back as
OpenAI errors with the page's one-line message, never a traceback. The pure request/reply mapping is table-tested.
"""

from __future__ import annotations

import json

import httpx
import pytest

from qa import openai_api as oa
from qa.sample_questions import QUESTIONS, SEED
from qa.types import Answer, Citation, Claim, Disagreement
from tests.test_app_api import serve

EXTRACTIVE = "qa-extractive"


def _openai(url: str, key: str = "unused"):
    from openai import OpenAI

    return OpenAI(base_url=url + "v1", api_key=key, max_retries=0, timeout=60)


def check_reply(content: str, qa: dict, docs) -> Answer:
    """The qa field parses as Answer parts, quotes are the documents' text, content shows markers and Sources."""
    assert set(qa) == {"citations", "disagreements", "abstained", "mode", "notes"}
    answer = Answer.model_validate({"question": "?", "text": content.split("\n\nSources")[0], **qa})
    assert answer.abstained or answer.citations
    for c in answer.citations:
        assert docs[c.doc_id].text[c.start:c.end] == c.quote
        assert f"[{c.n}]" in answer.text and f"\n[{c.n}] " in content
    for d in answer.disagreements:
        for claim in d.claims:
            c = claim.citation
            assert docs[c.doc_id].text[c.start:c.end] == c.quote
    if answer.citations:
        assert "\n\nSources:\n" in content
    return answer


# -- pure mapping -----------------------------------------------------------------------------------------------
MODELS = ["qa-local", "qa-extractive"]


@pytest.mark.parametrize("body, status, words", [
    pytest.param([], 400, "JSON object", id="not-an-object"),
    pytest.param({"messages": [{"role": "user", "content": "hi"}]}, 400, "'model' is required", id="no-model"),
    pytest.param({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}, 404, "unknown model",
                 id="unknown-model"),
    pytest.param({"model": "qa-hosted", "messages": [{"role": "user", "content": "hi"}]}, 404, "unknown model",
                 id="hosted-not-configured"),
    pytest.param({"model": EXTRACTIVE, "messages": []}, 400, "non-empty list", id="no-messages"),
    pytest.param({"model": EXTRACTIVE, "messages": "hi"}, 400, "non-empty list", id="messages-not-a-list"),
    pytest.param({"model": EXTRACTIVE, "messages": ["hi"]}, 400, "'role'", id="message-not-an-object"),
    pytest.param({"model": EXTRACTIVE, "messages": [{"role": "user", "content": "q"},
                                                    {"role": "assistant", "content": "a"}]}, 400,
                 "last message must be the user's", id="last-is-assistant"),
    pytest.param({"model": EXTRACTIVE, "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]}, 400, "only text",
                 id="image-part"),
    pytest.param({"model": EXTRACTIVE, "messages": [{"role": "user", "content": "q"}] * (oa.MAX_MESSAGES + 1)}, 400,
                 "start a new conversation", id="too-long-history"),
])
def test_parse_request_refusals(body, status, words):
    with pytest.raises(oa.ApiError) as info:
        oa.parse_request(body, MODELS)
    assert info.value.status == status and words in info.value.message
    assert set(info.value.body()["error"]) == {"message", "type", "param", "code"}


def test_parse_request_history_and_parts():
    reply = "It was admitted in 1992 [1].\n\nSources:\n[1] Relations, MFA (mfa.txt): \"...\""
    req = oa.parse_request({"model": EXTRACTIVE, "stream": True, "stream_options": {"include_usage": True},
                            "messages": [{"role": "system", "content": "be brief"},
                                         {"role": "user", "content": SEED},
                                         {"role": "assistant", "content": reply},
                                         {"role": "user", "content": [{"type": "text", "text": "And the UN?"}]}]},
                           MODELS)
    assert req.page_model == "extractive" and req.stream and req.include_usage
    assert req.question == "And the UN?"
    assert req.history == ({"role": "user", "content": SEED},
                           {"role": "assistant", "content": "It was admitted in 1992 [1]."})


def _cit(n: int, doc: str, quote: str) -> Citation:
    return Citation(n=n, doc_id=doc, title=f"Title {doc}", source="Publisher", date="2024-05-01", quote=quote,
                    start=0, end=len(quote))


@pytest.mark.parametrize("answer", [
    pytest.param(Answer(question="q", text="A [1]. B [2].", citations=(_cit(1, "a.txt", "A."), _cit(2, "b.txt", "B."))),
                 id="two-citations"),
    pytest.param(Answer(question="q", text="The sources do not answer this question.", abstained=True),
                 id="abstained"),
    pytest.param(Answer(question="q", text="A says yes [1]; B says no [2].",
                        citations=(_cit(1, "a.txt", "Yes."), _cit(2, "b.txt", "No.")),
                        disagreements=(Disagreement(summary="A and B disagree", kind="opinion",
                                                    claims=(Claim(citation=_cit(1, "a.txt", "Yes.")),
                                                            Claim(citation=_cit(2, "b.txt", "No.")))),)),
                 id="disagreement"),
])
def test_reply_content_round_trips(answer):
    content = oa.reply_content(answer)
    assert content.startswith(answer.text)
    assert oa.strip_sources(content) == answer.text  # a follow-up sends the bare answer back as history
    assert ("Sources:" in content) == bool(answer.citations)
    assert ("Sources disagree:" in content) == bool(answer.disagreements)
    assert "".join(oa.content_pieces(content)) == content
    chunks = list(oa.stream_chunks(answer, EXTRACTIVE, "id", 0, include_usage=True))
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]) == content
    assert chunks[-2]["qa"] == oa.qa_field(answer) and chunks[-1]["choices"] == [] and "usage" in chunks[-1]


@pytest.mark.parametrize("header, keys, ok", [
    pytest.param(None, None, True, id="no-password"),
    pytest.param("Bearer pw", ("pw",), True, id="right-key"),
    pytest.param("bearer pw", ("pw",), True, id="scheme-any-case"),
    pytest.param("Bearer nope", ("pw",), False, id="wrong-key"),
    pytest.param(None, ("pw",), False, id="missing"),
    pytest.param("Basic cWE6cHc=", ("pw",), False, id="basic-auth"),
])
def test_key_ok(header, keys, ok):
    assert oa.key_ok(header, keys) is ok


@pytest.mark.parametrize("auth, keys", [
    pytest.param(None, None, id="none"),
    pytest.param(("qa", "pw"), ("pw",), id="pair"),
    pytest.param([("qa", "a"), ("bob", "b")], ("a", "b"), id="pairs"),
])
def test_api_keys(auth, keys):
    assert oa.api_keys(auth) == keys


def test_models_hosted_only_when_configured():
    assert oa.model_names(oa.hosted_configured("auto", {})) == ["qa-local", "qa-extractive"]
    assert "qa-hosted" in oa.model_names(oa.hosted_configured("openai:gpt-4o-mini", {}))
    assert "qa-hosted" in oa.model_names(oa.hosted_configured("auto", {"QA_OPENAI_BASE_URL": "http://x/v1"}))


# -- the real server --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_api(real_settings, real_store):
    import app

    demo = app.create_app(settings=real_settings, store_fn=lambda: real_store)  # default: qa.pipeline
    url = serve(demo)
    yield url, real_store
    demo.close()


@pytest.fixture
def no_hosted(monkeypatch):
    monkeypatch.delenv("QA_HOSTED_LLM", raising=False)
    monkeypatch.delenv("QA_OPENAI_BASE_URL", raising=False)


def test_models_endpoint(real_api, no_hosted, monkeypatch):
    client = _openai(real_api[0])
    assert [m.id for m in client.models.list()] == ["qa-local", "qa-extractive"]
    monkeypatch.setenv("QA_HOSTED_LLM", "openai:some-model")
    assert [m.id for m in client.models.list()] == ["qa-local", "qa-extractive", "qa-hosted"]


def test_openai_client_answers_with_checked_quotes(real_api):
    url, store = real_api
    client = _openai(url)
    answers = []
    for q in QUESTIONS:
        r = client.chat.completions.create(model=EXTRACTIVE, messages=[{"role": "user", "content": q}])
        assert r.object == "chat.completion" and r.model == EXTRACTIVE and r.choices[0].finish_reason == "stop"
        answers.append(check_reply(r.choices[0].message.content, r.qa, store.docs))
    assert sum(not a.abstained for a in answers) >= 8
    assert any("2 March 1992" in c.quote for c in answers[0].citations)


def test_openai_client_streams_the_same_reply(real_api):
    url, store = real_api
    client = _openai(url)
    messages = [{"role": "user", "content": "Why did Azerbaijan close the offices of UN agencies and the ICRC?"}]
    plain = client.chat.completions.create(model=EXTRACTIVE, messages=messages)
    stream = client.chat.completions.create(model=EXTRACTIVE, messages=messages, stream=True,
                                            stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(chunks) > 3 and text == plain.choices[0].message.content
    final = [c for c in chunks if c.choices and c.choices[0].finish_reason == "stop"]
    assert len(final) == 1 and final[0].qa == plain.qa
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    check_reply(text, final[0].qa, store.docs)


def test_follow_up_uses_the_conversation(real_api):
    url, store = real_api
    client = _openai(url)
    first = client.chat.completions.create(model=EXTRACTIVE, messages=[{"role": "user", "content": SEED}])
    follow = client.chat.completions.create(model=EXTRACTIVE, messages=[
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": SEED},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "When was the United Nations established?"}])
    answer = check_reply(follow.choices[0].message.content, follow.qa, store.docs)
    assert not answer.abstained


def test_langchain_chat_openai(real_api):
    from langchain_openai import ChatOpenAI

    url, store = real_api
    llm = ChatOpenAI(model=EXTRACTIVE, base_url=url + "v1", api_key="unused", max_retries=0, timeout=60)
    reply = llm.invoke(SEED)
    assert "[1]" in reply.content and "\n\nSources:\n[1] " in reply.content and "2 March 1992" in reply.content
    streamed = "".join(chunk.content for chunk in llm.stream(SEED))
    assert streamed == reply.content


BAD = [
    pytest.param("", "the question is empty", id="empty"),
    pytest.param(" \t\n ", "the question is empty", id="whitespace"),
    pytest.param("q" * 100_000, "the limit is 2,000", id="100kB"),
    pytest.param(bytes(range(256)).decode("latin-1") * 4, "does not look like text", id="binary-garbage"),
    pytest.param(None, "must be text", id="null-content"),
    pytest.param(42, "must be text", id="number-content"),
]
GOOD = [
    pytest.param("\x1b[31mWhen was Azerbaijan admitted to the UN?\x1b[0m", id="control-chars"),
    pytest.param("\u202bWhen was Azerbaijan admitted to the UN?\u202c", id="rtl-marks"),
    pytest.param("Когда Азербайджан вступил в ООН?", id="russian"),
    pytest.param("<img src=x onerror=alert(1)> What is UNICEF?", id="html"),
]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("question, message", BAD)
def test_bad_questions_are_openai_errors(real_api, question, message, stream):
    import openai

    with pytest.raises(openai.BadRequestError) as info:
        r = _openai(real_api[0]).chat.completions.create(model=EXTRACTIVE, stream=stream,
                                                         messages=[{"role": "user", "content": question}])
        list(r) if stream else None
    err = info.value.body
    assert info.value.status_code == 400 and message in err["message"] and err["type"] == "invalid_request_error"
    assert "\n" not in err["message"] and "Traceback" not in str(info.value) and len(err["message"]) < 300


@pytest.mark.parametrize("question", GOOD)
def test_odd_but_fine_questions_are_answered(real_api, question):
    url, store = real_api
    r = _openai(url).chat.completions.create(model=EXTRACTIVE, messages=[{"role": "user", "content": question}])
    check_reply(r.choices[0].message.content, r.qa, store.docs)


@pytest.mark.parametrize("make, status, words", [
    pytest.param(lambda c: c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": SEED}]),
                 404, "unknown model", id="unknown-model"),
    pytest.param(lambda c: c.chat.completions.create(model=EXTRACTIVE, messages=[
        {"role": "user", "content": SEED}] * 201), 400, "start a new conversation", id="too-long-history"),
    pytest.param(lambda c: c.chat.completions.create(model=EXTRACTIVE, messages=[
        {"role": "user", "content": SEED}, {"role": "assistant", "content": "x" * 1_100_000},
        {"role": "user", "content": SEED}]), 413, "the limit is", id="huge-body"),
])
def test_request_errors_through_the_client(real_api, make, status, words):
    import openai

    with pytest.raises(openai.APIStatusError) as info:
        make(_openai(real_api[0]))
    assert info.value.status_code == status and words in info.value.body["message"]
    assert "Traceback" not in str(info.value)


def test_not_json_is_an_openai_error(real_api):
    r = httpx.post(real_api[0] + "v1/chat/completions", content=b"{not json", timeout=30,
                   headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["message"] == "the request body is not valid JSON"


# -- fakes: internal errors, the password -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def fake_api(tmp_path_factory):
    import app
    from qa.settings import Settings
    from tests.app_fakes import FakeStore, copy_corpus, fake_ask

    corpus = copy_corpus(tmp_path_factory.mktemp("openai") / "corpus")
    store = FakeStore(corpus)
    demo = app.create_app(ask_fn=fake_ask, store_fn=lambda: store, settings=Settings.from_env(corpus_dir=corpus))
    url = serve(demo, auth=("qa", "s3cret-pw"))
    yield url, store
    demo.close()


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_internal_error_is_generic(fake_api, stream):
    import openai

    with pytest.raises(openai.InternalServerError) as info:
        r = _openai(fake_api[0], "s3cret-pw").chat.completions.create(
            model=EXTRACTIVE, stream=stream, messages=[{"role": "user", "content": "please explode now"}])
        list(r) if stream else None
    assert "Something went wrong" in info.value.body["message"]
    assert "/secret/path" not in str(info.value) and "Traceback" not in str(info.value)


def test_password_is_the_bearer_key(fake_api):
    import openai

    url, store = fake_api
    for key in ("unused", "qa"):
        with pytest.raises(openai.AuthenticationError):
            _openai(url, key).chat.completions.create(model=EXTRACTIVE, messages=[{"role": "user", "content": SEED}])
        with pytest.raises(openai.AuthenticationError):
            _openai(url, key).models.list()
    r = _openai(url, "s3cret-pw").chat.completions.create(model=EXTRACTIVE,
                                                           messages=[{"role": "user", "content": SEED}])
    check_reply(r.choices[0].message.content, r.qa, store.docs)
    assert json.loads(httpx.get(url + "v1/models", timeout=30).text)["error"]["code"] == "invalid_api_key"
