"""`python -m qa.llama_server ...`: llama-cpp-python's OpenAI-compatible server, started with qa's llama.cpp settings.

The arguments are llama_cpp.server's own (``--model``, ``--host``, ``--port``, ``--n_ctx``...). The one difference
is the model's buffer setup: llama.cpp's AMX weight buffers crash this llama-cpp-python build on the first decode
on CPUs that have AMX (see qa/llm.py), so they are turned off for the whole process, as qa's local model does.
Left out: anything else about serving; this is the upstream server as it is.
"""

from __future__ import annotations

import runpy


def main() -> None:
    from qa.llm import _model_params

    with _model_params(False):
        runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
