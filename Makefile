# lrcourse: the two commands are `make book` and `make test` (see README.md).
# Each creates .venv with the pinned dependencies and the package, then does its job.
# The first Python >= 3.11 on PATH (numpy 2.3+ and matplotlib 3.11 need it).
ifndef PYTHON
PYTHON := $(firstword $(foreach p,python3 python3.13 python3.12 python3.11,\
  $(shell command -v $(p) >/dev/null 2>&1 && $(p) -c 'import sys; print(int(sys.version_info >= (3, 11)))' 2>/dev/null | grep -q 1 && echo $(p))))
endif
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# PyPI's Linux wheel of torch is the CUDA build (GBs); the course needs the CPU one.
# (Only torch itself comes from there: its dependencies are pinned in constraints.txt.)
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
# The models are small: one thread per process is faster than two fighting over two
# cores (the tests run two notebooks at once). Override on the command line if you like.
OMP_NUM_THREADS ?= 1
OPENBLAS_NUM_THREADS ?= 1
MKL_NUM_THREADS ?= 1
export OMP_NUM_THREADS OPENBLAS_NUM_THREADS MKL_NUM_THREADS

.PHONY: setup book test lab sync bench robustness pdf clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@if [ -z "$(PYTHON)" ]; then echo "lrcourse needs Python >= 3.11 (found: $$(python3 --version 2>&1))." \
	  "Install one, or run make PYTHON=/path/to/python3.11 ..."; exit 1; fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	if [ "$$(uname -s)" = Linux ]; then \
	  $(BIN)/python -m pip install --quiet --no-deps "torch==$$(sed -n 's/.*"torch==\([^"]*\)".*/\1/p' pyproject.toml)" \
	    --extra-index-url $(TORCH_INDEX) --retries 1 --timeout 15; fi
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

## The static site in _build/html (chapters executed in parallel; cached when nothing changed).
book: setup
	$(BIN)/python scripts/build_book.py

## Everything: unit tests, pairing, notebooks (nbval), clean book build with -W, browser tests.
test: setup
	$(BIN)/python scripts/ensure_chromium.py
	rm -rf _build
	$(BIN)/python -m pytest -n 2 --dist loadfile --cov=lrcourse --cov-report=term

## The whole course as one PDF, _build/pdf/lrcourse.pdf (printed by the system Chromium; after
## make book, nothing is executed again). The site links it (copied to _build/html/).
pdf: setup
	$(BIN)/python scripts/ensure_chromium.py
	$(BIN)/python scripts/build_pdf.py

## Open the notebooks in JupyterLab.
lab: setup
	$(BIN)/jupyter lab notebooks/

## Regenerate notebooks/*.ipynb after editing book/*.md (the chapters with code: a kernelspec).
sync: setup
	$(BIN)/jupytext --sync $$(grep -l '^kernelspec:' book/*.md)

## Latency of every explorer, live in a kernel (median and 95th percentile); then, if the
## site is built (make book), each page's first-visit weight and slow-4G load time.
bench: setup
	$(BIN)/python scripts/bench_widgets.py
	if [ -f _build/html/index.html ]; then $(BIN)/python scripts/bench_pages.py; \
	  else echo "(no built site: make book, then make bench, to see page weights)"; fi

## Every chapter under seeds 0-4 and with two threads: a table of chapter × run (pass, or the failed claim).
robustness: setup
	$(BIN)/python scripts/robustness.py $(if $(CHAPTERS),$(CHAPTERS))

clean:
	rm -rf _build .pytest_cache .coverage
