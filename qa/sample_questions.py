"""Ten questions over corpus/ that the page's API tests and the load benches ask (one list, so they stay alike).

Each is answered by the five documents in corpus/ (the first, ``SEED``, by "2 March 1992"); ``UNANSWERABLE`` is one
they do not answer, for a bench that should also see abstentions. Left out: gold answers and quotes (eval/seed.jsonl
holds those, for measuring quality rather than load).
"""

SEED = "When was Azerbaijan admitted to the UN membership?"
QUESTIONS = (
    SEED,
    "Why did Azerbaijan close the offices of UN agencies and the ICRC?",
    "What are the purposes of the United Nations?",
    "Which UN bodies was Azerbaijan elected to?",
    "What does the Non-Aligned Movement chairmanship mean for Azerbaijan?",
    "What did the Institute for Human Rights say about the closure of UN offices?",
    "When was the United Nations established?",
    "How does Azerbaijan cooperate with UNICEF?",
    "What are the main bodies of the United Nations?",
    "Why is Baku adjusting priorities in cooperation with the UN?",
)
UNANSWERABLE = "What is the population of Mars?"
