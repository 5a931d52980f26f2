# Two commands set up everything on a fresh machine with Python 3.11:
#   make demo   create .venv from the pins and run the demo DAG (all studies, CPU)
#   make test   the test suite, in the same .venv
#   make test-slurm   the workflow through the SLURM profile on a throw-away cluster (root)
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 2

.PHONY: demo test test-fast test-slurm test-sweep test-determinism lint docs report robustness paper-dry-run paper-smoke music21 images clean-demo lock venv bench bench-gpu bench-svd mutation

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; set PYTHON=/path/to/python3.11" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==25.3"
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

demo: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)
	@echo
	@echo "Figures and tables:"
	@find results/demo -maxdepth 2 \( -name '*.png' -o -name 'claims.csv' \) | sort | sed 's/^/  /'
	@echo "HTML report with every figure: make report"

# Three pytest processes side by side (docs/testing.md#time). One builds the session's demo
# run (tests/workflow/conftest.py) and runs the tests that read it (marker demo_run, set in
# tests/conftest.py): the long pole, a DAG that alone keeps 2 cores only about 1.4 busy. The
# second runs every other workflow test (user-data chains, small from-scratch runs, killed
# jobs): short chains, mostly one job at a time. The third runs the unit tests on every core
# (pytest-xdist) at lower priority (nice 10): they take what the other two leave and finish on
# both cores. The second's and third's output follows the first's. Each has its own
# --basetemp. The byte-for-byte determinism runs are `make test-determinism`.
WORKFLOW_TESTS := $(BIN)/python -m pytest --durations=15 -p no:cacheprovider
WORKFLOW_TMP := $${TMPDIR:-/tmp}/xairepro-workflow-tests
WORKFLOW_MARKS := not slurm and not sweep and not determinism
test: $(STAMP)
	@mkdir -p $(WORKFLOW_TMP)
	nice -n 10 $(BIN)/python -m pytest -m "not slurm and not workflow" -n $(CORES) --durations=15 \
	    > $(WORKFLOW_TMP)/unit.log 2>&1 & unit=$$!; \
	$(WORKFLOW_TESTS) -m "workflow and not demo_run and $(WORKFLOW_MARKS)" --basetemp=$(WORKFLOW_TMP)/other \
	    > $(WORKFLOW_TMP)/other.log 2>&1 & other=$$!; \
	$(WORKFLOW_TESTS) -m "workflow and demo_run and $(WORKFLOW_MARKS)" --basetemp=$(WORKFLOW_TMP)/demo; \
	demo=$$?; wait $$other; rest=$$?; wait $$unit; units=$$?; \
	echo "== workflow tests without the demo run (exit $$rest) =="; cat $(WORKFLOW_TMP)/other.log; \
	echo "== unit tests (exit $$units) =="; cat $(WORKFLOW_TMP)/unit.log; \
	exit $$((demo != 0 || rest != 0 || units != 0))

# Every demo claim again at seed offset 1 beside the default (tests/workflow/
# test_claims_workflow.py): the session's demo DAG and a second one (one took 29.5 min on the
# slowest machine measured), so not in `make test` (CI's budget); run it before changing a claim.
test-sweep: $(STAMP)
	$(BIN)/python -m pytest -m sweep --durations=15

# Four small chains (marker `determinism`: MNIST ROAR, the PIQ chain, ECG feature
# consistency, the interactive chain) each run twice from scratch, their tables compared byte
# for byte: about 14 CPU-minutes (estimated from their times beside the demo DAG), so not in
# `make test` (CI's budget on the slowest 2-core machines, docs/testing.md#time). In `make
# test`, the pianist chain from scratch still has to reproduce the demo run's tables, and
# `make test-slurm` compares a cluster run with a local one. Run it before changing seeding,
# data order or a training loop.
test-determinism: $(STAMP)
	$(BIN)/python -m pytest -m determinism --durations=15

# A single-node SLURM cluster with a fake GPU (apt, root), the demo chain through
# `--profile slurm` against it, then teardown: see tests/slurm/run.sh.
test-slurm: $(STAMP)
	tests/slurm/run.sh

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not workflow and not slurm" -n $(CORES)

# snakefmt's formatting of the Snakefile and rules/, and Snakemake's own lints (both must be
# clean: tests/test_workflow_style.py runs the same two checks in `make test`).
lint: $(STAMP)
	$(BIN)/snakefmt --check Snakefile rules/
	$(BIN)/snakemake --lint

# The deviations table of each study page, regenerated from docs/deviations/<study>.csv (the
# one source; tests/common/test_deviations.py fails while a page is out of date).
docs: $(STAMP)
	$(BIN)/python scripts/docs/deviations.py --write

report: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/snakemake --report report.html
	@echo "report: $(CURDIR)/report.html"

# The pianist study on real music: four composers of the music21 corpus as "performers"
# (rule pianist_music21, no network; ~8.5 min on 2 cores) -> results/demo/pianist_music21/
# (docs/your-data/pianist.md).
music21: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) pianist_music21

# Every study's demo claims at seed offsets 0..3 (robustness_offsets) -> results/robustness/
# (pass rates and one verdict grid per study; docs/claims.md). About 7 minutes per offset.
robustness: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) robustness

paper-dry-run: $(STAMP)
	$(BIN)/snakemake -n --config scale=paper

# The complete paper-scale DAG of every study on tiny inputs in the originals' formats,
# fetched from file:// mirrors, under coverage, in $(SMOKE)/ (docs/paper-smoke.md). Its one
# override is config/smoke/ (caps on batches, epochs, items); claims come out "not comparable".
# The coverage report compares with the demo run of `make test` when that ran first.
# Its jobs are tiny: two may share the GPU (or, with `threads: 1` in config/smoke/, the cores).
# It runs on one core more than CORES: its first pass kept the 2 cores 1.56 busy on average
# (job time over wall time, 2026-12-01: jobs mostly importing, two-thread trainings using 1.5
# cores, one job ready at a time between stages); the third slot fills those gaps, and
# `--resources gpu=2` still keeps the heavy jobs (every training and attribution rule asks
# for a GPU at paper scale) two at a time. config/smoke/ gives those jobs one thread each, so
# that none waits for every slot to be free.
SMOKE_CORES ?= $(shell echo $$(($(CORES) + 1)))
# A second pass then builds published-targets.txt from the originals' published weights
# (checkpoints in their layouts, written by the set-up; docs/published-weights.md).
# SMOKE_PUBLISHED=0 skips it (CI: 7 min on the slowest machine measured; the unit tests still
# load every published layout, and each study's published DAG is dry-run checked to plan no
# training).
SMOKE_PUBLISHED ?= 1
SMOKE := results/paper-smoke
# XAIREPRO_COVERAGE=0 (CI sets it: coverage adds about a quarter to each job's imports) runs both
# passes, and the demo run of `make test`, without coverage and writes no coverage report.
XAIREPRO_COVERAGE ?= 1
SMOKE_SNAKEMAKE := $(if $(filter 0,$(XAIREPRO_COVERAGE)),$(BIN)/python -m snakemake,COVERAGE_FILE=$(CURDIR)/$(SMOKE)/coverage-data/.coverage $(BIN)/python -m coverage run --rcfile=pyproject.toml -m snakemake)
paper-smoke: $(STAMP)
	rm -rf $(SMOKE)
	mkdir -p $(SMOKE)/coverage-data
	$(BIN)/python scripts/smoke/setup.py $(SMOKE)
	$(SMOKE_SNAKEMAKE) -s $(CURDIR)/Snakefile --directory $(SMOKE) --cores $(SMOKE_CORES) \
	    --resources gpu=2 --config scale=paper --configfile $(CURDIR)/$(SMOKE)/smoke.yaml
	$(BIN)/python scripts/smoke/check.py $(SMOKE)
	test "$(SMOKE_PUBLISHED)" = 0 || test ! -s $(SMOKE)/published-targets.txt || $(SMOKE_SNAKEMAKE) -s $(CURDIR)/Snakefile \
	    --directory $(SMOKE) --cores $(SMOKE_CORES) --resources gpu=2 --config scale=paper \
	    --configfile $(CURDIR)/$(SMOKE)/smoke.yaml $(CURDIR)/$(SMOKE)/smoke-published.yaml \
	    -- $$(cat $(SMOKE)/published-targets.txt)
	$(if $(filter 0,$(XAIREPRO_COVERAGE)),@echo "paper-smoke: coverage not measured (XAIREPRO_COVERAGE=0)",$(BIN)/python scripts/smoke/coverage_report.py $(SMOKE)/coverage-data $(SMOKE)/coverage \
	    --demo test-artefacts/coverage/demo)

# Workflow and kernel timings on this machine -> results/bench/bench.csv + bench.md (~20 min
# on 2 cores: every study's demo chain, the whole demo DAG, dry runs, kernels).
bench: $(STAMP)
	$(BIN)/python scripts/bench/run.py --cores $(CORES)

# The kernels and one paper-shaped epoch per model on CUDA -> results/bench/bench_gpu.*
bench-gpu: $(STAMP)
	$(BIN)/python scripts/bench/gpu.py

# Loss gradients of SVD test excerpts: batched vs batch size 1 (needs the demo's SVD model).
bench-svd: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) lossgrad_svd
	$(BIN)/python scripts/bench/svd_gradients.py --scale demo

# Apptainer images for `--sdm apptainer`: containers/<study>.sif for every study of
# config/studies.yaml, each from containers/study.def with the pins of envs/<study>.yaml
# (needs apptainer >= 1.2 and internet; run on a build or login node).
images: $(STAMP)
	@command -v apptainer >/dev/null || { echo "error: apptainer not found" >&2; exit 1; }
	studies=$$($(BIN)/python -c 'from xairepro.common.registry import study_names; print(*study_names())') && \
	for study in $$studies; do \
	    apptainer build --force --build-arg study=$$study containers/$$study.sif containers/study.def || exit 1; \
	done

# Mutation testing of the scientific core with mutmut (pinned in requirements.in; scope and
# test selection in pyproject.toml [tool.mutmut]) -> results/mutation/score.csv + survivors.md,
# exit 1 under 90 % in a module; about 70 min on 2 cores (docs/testing.md#mutation-testing).
mutation: $(STAMP)
	$(BIN)/python scripts/mutation/run.py --cores $(CORES)

clean-demo:
	rm -rf results/demo data/demo logs/demo benchmarks/demo

# Re-resolve requirements.txt from requirements.in in a throw-away venv.
lock:
	rm -rf /tmp/xairepro-lock && $(PYTHON) -m venv /tmp/xairepro-lock
	/tmp/xairepro-lock/bin/pip install --quiet -r requirements.in
	{ sed -n '1,3p' requirements.txt; /tmp/xairepro-lock/bin/pip freeze --all --exclude-editable | grep -v "^pip==" | sort -f; } > requirements.txt.new
	mv requirements.txt.new requirements.txt
