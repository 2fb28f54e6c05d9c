# The README contract: `make demo` and `make test` each bootstrap .venv from this repo's own files.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-benchmark
CORPUS ?= ../shared/conformance/localstack-sfn-pure.jsonl

.PHONY: venv test demo bench conformance clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[test,benchmark]'
	touch $@

venv: $(STAMP)

# pytest exits 5 when it collects nothing; that is not a failure of the suite.
test: $(STAMP)
	$(PY) -m pytest -q; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

# The main job: validate the bundled workflows, then compile the trade ETL to an Airflow DAG and
# run it with dag.test() on SQLite against the local Tencent Cloud emulator serving dags/functions.
demo: $(STAMP)
	$(VENV)/bin/asw validate dags/workflows
	$(VENV)/bin/asw run dags/workflows/trade_etl.json --engine airflow --functions dags/functions \
		--input '{"market": "SSE", "window_hours": 12}'

bench: $(BENCH_STAMP)
	for script in benchmarks/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

conformance: $(STAMP)
	$(VENV)/bin/asw conformance $(CORPUS)

clean:
	rm -rf $(VENV) .pytest_cache
