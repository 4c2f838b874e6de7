# lrcourse: the two commands are `make book` and `make test` (see README.md).
# Each creates .venv with the pinned dependencies and the package, then does its job.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# PyPI's Linux wheel of torch is the CUDA build (GBs); the course needs the CPU one.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
# The models are small: one thread per process is faster than two fighting over two
# cores (the tests run two notebooks at once). Override on the command line if you like.
OMP_NUM_THREADS ?= 1
OPENBLAS_NUM_THREADS ?= 1
MKL_NUM_THREADS ?= 1
export OMP_NUM_THREADS OPENBLAS_NUM_THREADS MKL_NUM_THREADS

.PHONY: setup book test lab sync bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	if [ "$$(uname -s)" = Linux ]; then \
	  $(BIN)/python -m pip install --quiet "torch==$$(sed -n 's/.*"torch==\([^"]*\)".*/\1/p' pyproject.toml)" \
	    --extra-index-url $(TORCH_INDEX); fi
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

## The static site in _build/html (chapters executed; cached when nothing changed).
book: setup
	$(BIN)/jupyter-book build . -W --keep-going

## Everything: unit tests, pairing, notebooks (nbval), clean book build with -W, browser tests.
test: setup
	$(BIN)/python scripts/ensure_chromium.py
	rm -rf _build
	$(BIN)/python -m pytest -n 2 --dist loadfile --cov=lrcourse --cov-report=term

## Open the notebooks in JupyterLab.
lab: setup
	$(BIN)/jupyter lab notebooks/

## Regenerate notebooks/*.ipynb after editing book/*.md.
sync: setup
	$(BIN)/jupytext --sync book/*.md

## Latency of every explorer, live in a kernel (median and 95th percentile).
bench: setup
	$(BIN)/python scripts/bench_widgets.py

clean:
	rm -rf _build .pytest_cache .coverage
