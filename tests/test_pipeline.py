"""ask() end to end with the real embedder on the real corpus (extractive mode), and the error cases."""

from __future__ import annotations

import json

import pytest

from qa.errors import BadQuestion, CorpusError, QAError
from qa.pipeline import ask, ask_stream, clean_question, evidence_from_hits
from qa.types import Answer, Evidence, Hit


def _valid(answer: Answer, store) -> None:
    """The citation contract and marker mapping, checked on any answer."""
    for c in answer.citations:
        assert store.docs[c.doc_id].text[c.start:c.end] == c.quote
    import re

    used = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert used == {c.n for c in answer.citations}


def test_admission_date_cites_the_ministry_sentence(real_settings, real_store):
    a = ask("When was Azerbaijan admitted to the UN?", real_settings, store=real_store, llm="none")
    _valid(a, real_store)
    assert not a.abstained
    first = a.citations[0]
    assert first.doc_id == "mfa-relations-azerbaijan-un.txt" and "2 March 1992" in first.quote
    assert first.source.startswith("Ministry of Foreign Affairs")
    assert set(a.timings) >= {"retrieve", "total"}
    assert json.loads(json.dumps(a.to_dict()))["citations"][0]["quote"] == first.quote


@pytest.mark.parametrize("question,doc", [
    pytest.param("How much did the UNDP give to local NGOs in 2023?", "ihr-statement-closure-of-un-offices.txt", id="undp"),
    pytest.param("How many political prisoners are detained in Azerbaijan?", "ihr-statement-closure-of-un-offices.txt", id="prisoners"),
    pytest.param("What share of the world's population does the Non-Aligned Movement hold?", "oped-azerbaijan-non-aligned-movement.txt", id="nam"),
    pytest.param("Since when has UNICEF operated in Azerbaijan?", "mfa-humanitarian-social-cooperation.txt", id="unicef"),
])
def test_single_fact_questions_cite_the_right_document(real_settings, real_store, question, doc):
    a = ask(question, real_settings, store=real_store, llm="none")
    _valid(a, real_store)
    assert not a.abstained and doc in {c.doc_id for c in a.citations}


def test_conflicting_question_hears_several_sources(real_settings, real_store):
    a = ask("What role does the Red Cross play in Azerbaijan?", real_settings, store=real_store, llm="none", k=8)
    _valid(a, real_store)
    assert len({c.doc_id for c in a.citations}) >= 2


@pytest.mark.parametrize("question", [
    pytest.param("What is the capital of France?", id="france"),
    pytest.param("Who won the 2022 football World Cup?", id="football"),
    pytest.param("What is the boiling point of ethanol?", id="chemistry"),
])
def test_out_of_corpus_questions_abstain(real_settings, real_store, question):
    a = ask(question, real_settings, store=real_store, llm="none")
    assert a.abstained and not a.citations and "do not answer" in a.text


def test_stream_yields_evidence_then_text_then_the_answer(real_settings, real_store):
    q = "When was Azerbaijan admitted to the UN?"
    parts = list(ask_stream(q, real_settings, store=real_store, llm="none"))
    evidence, texts, answer = parts[0], parts[1:-1], parts[-1]
    assert isinstance(evidence, Evidence) and isinstance(answer, Answer) and all(isinstance(p, str) for p in texts)
    assert "".join(texts).strip() == answer.text
    assert [c.n for c in evidence.citations] == list(range(1, len(evidence.citations) + 1))
    for c in evidence.citations:  # evidence cards keep the citation contract
        assert real_store.docs[c.doc_id].text[c.start:c.end] == c.quote
    cited = {(c.doc_id, c.start, c.end) for c in answer.citations}
    assert cited <= {(c.doc_id, c.start, c.end) for c in evidence.citations}
    # consumers that only handle text and the Answer can leave the event out
    plain = list(ask_stream(q, real_settings, store=real_store, llm="none", evidence=False))
    assert isinstance(plain[-1], Answer) and all(isinstance(p, str) for p in plain[:-1])


def test_ask_reports_evidence_once_even_when_it_abstains(real_settings, real_store):
    seen = []
    a = ask("What is the boiling point of ethanol?", real_settings, store=real_store, llm="none",
            on_evidence=seen.append)
    assert a.abstained and len(seen) == 1 and isinstance(seen[0], Evidence)


def test_evidence_from_hits_numbers_cards_and_drops_hits_off_their_offsets(real_store):
    doc = real_store.docs["mfa-relations-azerbaijan-un.txt"]
    good = Hit(doc_id=doc.doc_id, start=0, end=20, text=doc.text[0:20], chunk_id=0, score=0.9)
    moved = good.model_copy(update={"start": 1, "end": 21})  # text no longer at its offsets
    unknown = good.model_copy(update={"doc_id": "gone.txt"})
    ev = evidence_from_hits([good, moved, unknown, good.model_copy(update={"score": 0.5})], real_store.docs)
    assert [(c.n, c.start, c.score) for c in ev.citations] == [(1, 0, 0.9), (2, 0, 0.5)]
    assert ev.citations[0].title == doc.title and ev.citations[0].source == doc.source


def test_forged_citation_is_dropped(real_settings, real_store):
    from qa.types import Citation
    from qa.verify import enforce

    good = Citation(n=1, doc_id="mfa-relations-azerbaijan-un.txt", title="t", quote="", start=0, end=10)
    good = good.model_copy(update={"quote": real_store.docs[good.doc_id].text[0:10]})
    forged = good.model_copy(update={"n": 2, "quote": "Azerbaijan left the UN in 1995."})
    text, cits, dropped = enforce("A [1]. B [2].", [good, forged], real_store.docs)
    assert dropped == 1 and [c.n for c in cits] == [1] and text == "A [1]. B."


@pytest.mark.parametrize("question,match", [
    pytest.param("", "empty", id="empty"),
    pytest.param("   \n\t ", "empty", id="whitespace"),
    pytest.param("\x00\x01\x02\x03", "empty", id="control-only"),
    pytest.param("x" * 100_000, "limit", id="100kB"),
    pytest.param("%%%% ### $$$ @@@ !!!", "does not look like text", id="symbols"),
    pytest.param(None, "must be text", id="none"),
    pytest.param(b"bytes?", "must be text", id="bytes"),
])
def test_bad_questions_raise_clear_errors(real_settings, real_store, question, match):
    with pytest.raises(BadQuestion, match=match):
        ask(question, real_settings, store=real_store, llm="none")


def test_control_and_bidi_characters_are_cleaned():
    assert clean_question("When\u200b was\u202e Azerbaijan\x07 admitted?") == "When was Azerbaijan admitted?"


def test_missing_corpus_and_unreadable_corpus(tmp_path, real_settings):
    with pytest.raises(CorpusError, match="does not exist"):
        ask("anything at all?", real_settings.with_(corpus_dir=tmp_path / "none", index_dir=tmp_path / "i"))
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "a.txt").write_bytes(b"")
    with pytest.raises(QAError, match="no readable document"):
        ask("anything at all?", real_settings.with_(corpus_dir=tmp_path / "c", index_dir=tmp_path / "i2"))


def test_unknown_llm_is_a_clear_error(real_settings, real_store):
    with pytest.raises(QAError):
        ask("When was Azerbaijan admitted to the UN?", real_settings, store=real_store, llm="gpt-banana")


def test_follow_up_uses_the_conversation(real_settings, real_store):
    q = "Since when has it been operating in the country?"
    alone = ask(q, real_settings, store=real_store, llm="none")
    history = [("What does the World Health Organisation do in Azerbaijan?", "It fights infectious diseases.")]
    follow = ask(q, real_settings, store=real_store, llm="none", history=history)
    _valid(follow, real_store)
    assert "World Health Organisation" in follow.citations[0].quote, follow.text
    assert "World Health Organisation" not in alone.citations[0].quote  # the history made the difference
    assert "rewrite" in follow.timings


def test_timings_are_seconds_and_counts_go_to_usage():
    from qa.types import Answer

    a = Answer(question="q", text="t", timings={"retrieve": 0.1}, usage={"llm_prompt_tokens": 300.0})
    assert a.to_dict()["usage"] == {"llm_prompt_tokens": 300.0}
    from qa.pipeline import _COUNT

    assert _COUNT.search("llm_prompt_tokens") and _COUNT.search("disagree_judge_calls")
    assert not _COUNT.search("llm_first_token") and not _COUNT.search("total")


def test_sources_taking_sides_are_noted_without_a_model(real_settings, real_store):
    a = ask("Does Azerbaijan follow international law and norms?", real_settings, store=real_store, llm="none")
    _valid(a, real_store)
    assert a.disagreements, a.text
    d = a.disagreements[0]
    assert d.kind == "opinion" and len({c.citation.doc_id for c in d.claims}) >= 2
    for c in d.claims:
        assert real_store.docs[c.citation.doc_id].text[c.citation.start:c.citation.end] == c.citation.quote
    assert not ask("When was Azerbaijan admitted to the UN?", real_settings, store=real_store,
                   llm="none").disagreements


def test_model_abstention_over_disagreeing_sources_says_who_says_what(real_settings, real_store):
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from qa.prompts import SENTINEL

    model = FakeListChatModel(responses=[SENTINEL] * 4)
    # fallback_relevance 1.0: the model's abstention stands unless the sources are found to disagree
    settings = real_settings.with_(fallback_relevance=1.0, disagreement_judge_calls=0)
    a = ask("Does Azerbaijan follow international law and norms?", settings, store=real_store, llm=model)
    _valid(a, real_store)
    assert not a.abstained and a.text.startswith("The sources disagree:"), a.text
    assert a.disagreements and len({c.doc_id for c in a.citations}) >= 2
    for c in a.citations:
        assert (c.source or c.title) in a.text
    assert any("disagree" in n for n in a.notes)
    out = ask("What is the boiling point of ethanol?", settings, store=real_store, llm=model)
    assert out.abstained and not out.disagreements


def _broken_model():
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    class Broken(FakeListChatModel):
        def _stream(self, *args, **kwargs):
            raise TimeoutError("the model timed out")

    return Broken(responses=["unused"])


UNVERIFIABLE = "Azerbaijan joined the United Nations in 1850, after the first moon landing [1]."


@pytest.mark.parametrize("reply, fallback_relevance, abstained, mode, note", [
    pytest.param("SENTINEL", 1.0, True, "FakeListChatModel", None, id="declined-weak-evidence-abstains"),
    pytest.param("SENTINEL", 0.0, False, "extractive", "The model found no answer", id="declined-strong-quotes"),
    pytest.param(UNVERIFIABLE, 1.0, True, "FakeListChatModel", None, id="unverified-weak-abstains"),
    pytest.param(UNVERIFIABLE, 0.0, False, "extractive", "No sentence the model wrote could be verified",
                 id="unverified-strong-quotes"),
    pytest.param(None, 1.0, False, "extractive", "The language model failed", id="model-error-quotes"),
])
def test_model_outcomes(real_settings, real_store, reply, fallback_relevance, abstained, mode, note):
    """What ask() shows for each thing a model can do wrong, on weak and on strong evidence (fallback_relevance)."""
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from qa.prompts import ABSTAIN_TEXT, SENTINEL

    model = _broken_model() if reply is None else FakeListChatModel(
        responses=[SENTINEL if reply == "SENTINEL" else reply] * 4)
    settings = real_settings.with_(fallback_relevance=fallback_relevance, disagreement_judge_calls=0)
    a = ask("When was Azerbaijan admitted to the United Nations?", settings, store=real_store, llm=model)
    _valid(a, real_store)
    assert (a.abstained, a.mode) == (abstained, mode), a
    if abstained:
        assert a.text == ABSTAIN_TEXT and not a.citations
    else:
        assert a.citations and a.text != ABSTAIN_TEXT  # quoted evidence in place of the model's text
    if note is not None:
        assert any(n.startswith(note) for n in a.notes), a.notes
    # generate's own "showing the extractive answer" / "the sources do not answer" notes are superseded
    assert "Showing the extractive answer instead." not in a.notes and ABSTAIN_TEXT not in a.notes, a.notes


def test_unverified_answer_to_joined_names_quotes_the_evidence(real_settings, real_store):
    """A question about two names it joins ("UNHCR and UNICEF") is answered in parts like one in two clauses: when
    nothing the model wrote verifies, the short extractive answer is shown even on evidence below the fallback bar."""
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    model = FakeListChatModel(responses=[UNVERIFIABLE] * 4)
    settings = real_settings.with_(fallback_relevance=1.0, disagreement_judge_calls=0)
    a = ask("How long had UNHCR and UNICEF been working in Azerbaijan before their offices were shut?", settings,
            store=real_store, llm=model)
    _valid(a, real_store)
    assert not a.abstained and a.mode == "extractive", a
    assert any("since 1992" in c.quote for c in a.citations), a.text


def _value_asked_of(question: str, sentence: str) -> list[str]:
    """qa.pipeline._no_value_asked for a question over one document holding ``sentence`` as the answer's one
    citation."""
    from qa.pipeline import _no_value_asked
    from qa.types import Document, Span
    from qa.verify import citation_at

    text = "Report. " + sentence + "\n"
    doc = Document(doc_id="m.txt", path="", title="Report", source="Agency", text=text, sha256="0" * 64,
                   content=(Span(start=0, end=len(text)),))
    start = text.index(sentence)
    return _no_value_asked(question, [citation_at(doc, start, start + len(sentence), n=1)], {"m.txt": doc})


TWO_PARTS = "how long will it take to clear the minefields and what will it cost"
JOINED = "How long had UNHCR and UNICEF been working in Freedonia before their offices were shut?"
INITIALS = "How many vaccine-access resolutions did the Non-Aligned Movement push through in 2021?"
COMPARED = "How much more aid does Freedonia give than the agencies give in the country?"


@pytest.mark.parametrize("question, sentence, answered", [
    # "How long ... and what will it cost": the first part's words and its number are enough to go on
    pytest.param(TWO_PARTS, "Crews will need to remove minefields for nearly 12 years, and about 9 billion dollars.",
                 True, id="one-part-stated"),
    pytest.param(TWO_PARTS, "Crews are removing minefields in the south.", False, id="no-value-at-all"),
    # "How long had UNHCR and UNICEF been working ...": a sentence about one of them states part of the answer
    pytest.param(JOINED, "The UNHCR, which has been operating in Freedonia since 1992, supported the government.",
                 True, id="one-of-the-joined-names"),
    pytest.param(JOINED, "The office has been operating in Freedonia since 1992.", False, id="neither-name"),
    # "How many ... did the Non-Aligned Movement push through": "NAM" is the movement, defined or not
    pytest.param(INITIALS, "NAM initiated two resolutions on vaccine access in 2021.", True,
                 id="the-name-by-its-initials"),
    pytest.param(INITIALS, "They initiated two resolutions on vaccine access in 2021.", False, id="no-name-at-all"),
    # "how much more ... than ...": a ratio or a share compares the two, where an amount was asked
    pytest.param(COMPARED, "Freedonia's own aid is 5-10 times greater than the aid the agencies give there.", True,
                 id="a-ratio-answers-how-much-more"),
    pytest.param(COMPARED, "Freedonia gives aid to its neighbours and the agencies give aid there.", False,
                 id="no-ratio-no-amount"),
    pytest.param("How much aid do the agencies give Freedonia?", "The agencies' aid to Freedonia is 5 times greater.",
                 False, id="a-ratio-is-no-amount-when-no-comparison-is-asked"),
    pytest.param("How much aid does Freedonia give compared with the agencies' support?",
                 "Freedonia's own aid is 5-10 times greater than the aid the agencies give there.", True,
                 id="a-ratio-answers-how-much-compared-with"),
])
def test_a_value_question_is_answered_by_a_cited_sentence_stating_it(question, sentence, answered):
    off = _value_asked_of(question, sentence)
    assert (off == []) is answered


@pytest.mark.parametrize("reply, appended", [
    pytest.param("The International Red Cross is among the organisations whose offices will be closed in Azerbaijan "
                 "[1].", True, id="one-item-of-a-list-gets-the-listing-sentence"),
    pytest.param("The offices of the UNDP, the UNHCR, UNICEF, the ICMPD and the International Red Cross will be closed "
                 "in Azerbaijan [1].", False, id="every-item-given-adds-nothing"),
])
def test_a_list_answer_that_leaves_out_most_items_quotes_the_list(real_settings, real_store, reply, appended):
    """A small model names one organisation of several: the sentence listing the others is quoted after it."""
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    model = FakeListChatModel(responses=[reply] * 4)
    settings = real_settings.with_(disagreement_judge_calls=0)
    a = ask("Which international organisations will have their offices in Azerbaijan closed?", settings,
            store=real_store, llm=model)
    _valid(a, real_store)
    assert not a.abstained, a
    listed = [c for c in a.citations if "UNICEF" in c.quote and "UNHCR" in c.quote]
    assert bool(listed) is appended or (not appended and "UNICEF" in a.text), a.text


def test_a_question_naming_the_publisher_by_its_initials_is_answered(real_settings, real_store):
    """"the MFA" is the ministry that publishes the page: its own page answers, the focus check does not abstain."""
    a = ask("What does the MFA say about the ICRC and missing persons?", real_settings, store=real_store, llm="none")
    _valid(a, real_store)
    assert not a.abstained, a.notes
    assert any(c.doc_id.startswith("mfa-") and "missing" in c.quote for c in a.citations), a.text


def test_a_yes_no_question_on_a_fact_gets_no_opinion_conflict_of_unrelated_stances(real_settings, real_store):
    """The NGO condemning the closures and the interview denying distrust do not answer whether the ICRC confirmed
    the closure: neither says "confirm" (qa.disagree.speaks_to)."""
    a = ask("Did the ICRC confirm the closure?", real_settings, store=real_store, llm="none")
    _valid(a, real_store)
    assert not [d for d in a.disagreements if d.kind == "opinion"], [d.summary for d in a.disagreements]


@pytest.mark.parametrize("question, who_says", [
    pytest.param("Who says the closure is politically motivated?", True, id="says"),
    pytest.param("Who noted that cooperation will be project-based?", True, id="a-reporting-verb"),
    pytest.param("Which experts believe the UN should leave?", True, id="which-experts-believe"),
    pytest.param("Who criticised the UNDP?", True, id="a-verb-of-judging"),
    pytest.param("Who wrote that the closure is political?", True, id="wrote-that"),
    pytest.param("Who wrote the op-ed?", False, id="wrote-asks-the-author"),
    pytest.param("Who closed the offices?", False, id="an-act-is-no-saying"),
    pytest.param("Who is Farid Shafiyev?", False, id="who-is"),
])
def test_a_question_asking_who_says_something(question, who_says):
    from qa.pipeline import _who_says

    assert _who_says(question) is who_says


@pytest.mark.parametrize("second, retry, answered_by_model", [
    pytest.param("Azerbaijan was admitted to the UN on 2 March 1992 [1].", True, True,
                 id="the-best-passage-alone-gets-an-answer"),
    pytest.param("SENTINEL", True, False, id="declined-twice-quotes-the-evidence"),
    pytest.param("Azerbaijan became a member of the United Nations [1].", True, False,
                 id="a-second-answer-without-the-date-asked-quotes-the-evidence"),
    pytest.param("Azerbaijan was admitted to the UN on 2 March 1992 [1].", False, False, id="no-retry-when-off"),
])
def test_a_model_that_declines_strong_evidence_is_asked_once_more(real_settings, real_store, second, retry,
                                                                    answered_by_model):
    """The first reply declines; with retry_declined the model is asked again with the best passage alone, and its
    verified answer stands. Every quote stays valid either way."""
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from qa.prompts import SENTINEL

    model = FakeListChatModel(responses=[SENTINEL, SENTINEL if second == "SENTINEL" else second] + [SENTINEL] * 4)
    settings = real_settings.with_(fallback_relevance=0.0, disagreement_judge_calls=0, retry_declined=retry)
    a = ask("When was Azerbaijan admitted to the United Nations?", settings, store=real_store, llm=model)
    _valid(a, real_store)
    assert not a.abstained
    assert (a.mode == "FakeListChatModel") is answered_by_model, a
    if answered_by_model:
        assert "2 March 1992" in a.text
        assert "generate_retry" in a.timings


@pytest.mark.parametrize("question, stated, joined", [
    # retrieval ranks the resolutions' dates first; the sentence that counts them joins the quotes
    pytest.param(INITIALS, "NAM initiated two resolutions", True, id="a-count-no-quote-states-joins"),
    # the first quote states the date asked: nothing joins it
    pytest.param("When was Azerbaijan admitted to the UN?", "2 March 1992", False, id="a-stated-date-stands"),
])
def test_an_extractive_answer_quotes_a_sentence_stating_the_kind_asked(real_settings, real_store, question, stated,
                                                                       joined):
    a = ask(question, real_settings, store=real_store, llm="none")
    _valid(a, real_store)
    at = [i for i, c in enumerate(a.citations) if stated in c.quote]
    assert at, a.text
    # a joined sentence comes after the quotes retrieval chose, not in their place
    assert (at[0] == len(a.citations) - 1 and at[0] > 0) is joined
