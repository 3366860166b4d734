# newstag: `make demo` runs the whole job on the bundled sample data; `make test` runs the tests.
# Both set everything up on a fresh machine with Python 3.11 and make: a .venv, torch, the project.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN := runs/demo
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: demo test install lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[train,dev,serve,onnx,ray,review,browser]"
	touch $(STAMP)

demo: $(STAMP)
	@start=$$(date +%s); \
	$(BIN)/newstag-build data/sample --gold data/sample/labels.jsonl -o $(RUN)/dataset --overwrite && \
	$(BIN)/newstag-train --data $(RUN)/dataset -o $(RUN)/model --config configs/train.yaml --resume never && \
	$(BIN)/newstag-eval $(RUN)/model $(RUN)/dataset && \
	rm -f $(RUN)/tags.jsonl $(RUN)/tags.errors.jsonl && \
	$(BIN)/newstag-tag $(RUN)/dataset/heldout.jsonl --model $(RUN)/model -o $(RUN)/tags.jsonl --print 6 && \
	echo "demo: done in $$(( $$(date +%s) - start ))s. Dataset and its report: $(RUN)/dataset/report.md;" \
	     "model, metrics and plots: $(RUN)/model (report.md, README.md); tags: $(RUN)/tags.jsonl"

# the whole suite, the slow tests too (real weights, two-process training, a local Ray instance); plain pytest
# skips those. The serve, onnx, ray, review and browser extras are installed for their tests (each skips where its
# extra is absent; the browser test also needs chromium and chromium-driver, which .ci/run installs).
test: $(STAMP)
	$(BIN)/python -m pytest -q -o addopts=""

lint: $(STAMP)
	$(BIN)/ruff check inference training tests benchmarks

clean:
	rm -rf runs .pytest_cache
