# Two commands do all the set-up: `make run` and `make test`.
# Both create .venv and install the project into it when needed.

# bash: the sweep targets read the sweep's own exit status through PIPESTATUS.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The CPU wheel of torch lies here on the build machines; pip also looks on PyPI.
WHEELS := $(wildcard /opt/wheels)
PIP_INSTALL := $(PY) -m pip install --quiet $(if $(WHEELS),--find-links $(WHEELS))
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run compare report study test lint format docs bench ui serve server install clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip
	$(PIP_INSTALL) -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## The main job: the verdict protocol, compact (experiments/main.yaml: cross-validated
## folds, each side's best picked on a selection split, ROC AUC / RMSE verdicts that
## say deep, classical, equivalent or inconclusive) into mlflow.db, then the report of
## that very sweep (reports/main/report.md), whose verdict table it prints. Exits
## non-zero when jobs failed, after the report of what finished.
run: $(STAMP)
	@echo "== the main job (experiments/main.yaml), 2 jobs at a time, one line per run"
	@$(call sweep_then_report,main,experiment=main)
	@echo "runs: make ui (MLflow UI on http://$(HOST):$(PORT)); report: reports/main/report.md"

## The same protocol on your own table (experiments/compare.yaml), then its report:
##   make compare DATA=path/to/table.csv TARGET=column [SEP=';'] [DECIMAL=','] [ARGS='model=...']
## Training sizes are 1/4, 1/2 and all of the table's training pool; ARGS: more overrides.
DATA ?=
TARGET ?=
ARGS ?=
SEP ?=
DECIMAL ?=
compare: $(STAMP)
	@$(PY) -m src.reports.compare_check "$(DATA)" "$(TARGET)" "$(SEP)" "$(DECIMAL)"
	@$(call sweep_then_report,compare,experiment=compare dataset=table "dataset.path='$$(realpath -m -- "$(DATA)")'" \
		"dataset.target='$(TARGET)'" $(if $(SEP),"dataset.sep='$(SEP)'") $(if $(DECIMAL),"dataset.decimal='$(DECIMAL)'") $(ARGS))

# $(call sweep_then_report,STUDY,OVERRIDES): the sweep, its lines without the summary table,
# then the report of that sweep (its parent run id, written by the sweep callback to the file
# named by MLVSDL_SWEEP_ID_FILE, not "the latest sweep", which another user's could be).
# The exit status is the sweep's (bash's PIPESTATUS, not the grep's), else the report's.
define sweep_then_report
sweep_id_file=$$(mktemp); \
MLVSDL_SWEEP_ID_FILE=$$sweep_id_file $(PY) -m src.train -m $(2) hydra/hydra_logging=disabled hydra/job_logging=disabled \
	| grep --line-buffered -v -e '^|' -e '^# Sweep summary' -e '^$$'; status=$${PIPESTATUS[0]}; \
sweep_id=$$(cat $$sweep_id_file); rm -f $$sweep_id_file; \
if [ -n "$$sweep_id" ]; then \
	echo "== the report"; \
	$(PY) -m src.report --study $(1) --sweep "$$sweep_id" --out reports/$(1) --quiet \
		&& cat reports/$(1)/verdicts.txt || { [ $$status -ne 0 ] || status=1; }; \
fi; \
[ $$status -eq 0 ] || echo "the sweep exited with status $$status: see the failed runs in the report" >&2; \
exit $$status
endef

## The report of a study's runs: make report STUDY=<name> [REPORT_ARGS='--tag dataset=digits'].
STUDY ?= main
REPORT_ARGS ?=
report: $(STAMP)
	$(PY) -m src.report --study $(STUDY) $(REPORT_ARGS)

## One study (experiments/<name>.yaml; README "Studies"), then its report:
##   make study STUDY=data_dependency [ARGS='seed=0 dataset.train_size=16,256,1.0']
## A study of several sweeps runs them one after the other. Jobs that fail or
## diverge do not stop it: the report lists them.
HPARAMS_DATASET ?= digits
SWEEPS_data_dependency := experiment=data_dependency experiment=data_dependency_digits experiment=data_dependency_happiness
SWEEPS_workshop := experiment=workshop_circles_vs_svm experiment=workshop_regression_vs_linear
SWEEPS_hparams := $(addprefix hparams_search=,mlp mlp_plus logistic_regression svm random_forest gradient_boosting xgboost lightgbm catboost knn)
STUDY_ARGS_workshop := study=workshop
STUDY_ARGS_hparams := dataset=$(HPARAMS_DATASET)
study: $(STAMP)
	@for sweep in $(or $(SWEEPS_$(STUDY)),experiment=$(STUDY)); do \
		echo "== study $(STUDY): python -m src.train -m $$sweep $(STUDY_ARGS_$(STUDY)) $(ARGS)"; \
		$(PY) -m src.train -m $$sweep $(STUDY_ARGS_$(STUDY)) $(ARGS) || echo "(some jobs failed: see the report)"; \
	done
	$(PY) -m src.report --study $(STUDY)

## The test suite (what CI runs), in TEST_WORKERS processes (pytest-xdist; a test file's tests
## stay together, so its module fixtures are built once): most tests wait on a subprocess.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

## Lint and format checks (ruff, configured in pyproject.toml); CI runs them.
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests hydra_plugins
	$(VENV)/bin/ruff format --check src tests hydra_plugins

## Apply ruff's fixes and formatting.
format: $(STAMP)
	$(VENV)/bin/ruff check --fix src tests hydra_plugins
	$(VENV)/bin/ruff format src tests hydra_plugins

## The documentation site (mkdocs.yml) into site/, warnings as errors (CI builds it). Its home
## page is README.md, its links made relative to docs/.
docs: $(STAMP)
	sed -e 's#](docs/#](#g' README.md > docs/index.md
	$(VENV)/bin/mkdocs build --strict

## The speed benchmark (README "Performance"): a table on stdout, JSON in bench_results/.
bench: $(STAMP)
	$(PY) -m src.bench

## The MLflow UI for the default store, on $(HOST):$(PORT). It first prints the URL
## that opens the runs table directly (with a saved view of the metrics columns).
ui: $(STAMP)
	@$(PY) -m src.tracking.ui --tracking-uri sqlite:///$(CURDIR)/mlflow.db --host $(HOST) --port $(PORT)
	$(VENV)/bin/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlflow.db --host $(HOST) --port $(PORT)

## Serve a logged model over HTTP on $(HOST):$(SERVE_PORT), in this environment:
##   make serve MODEL=models:/<model id>   (the run's line prints it; or models:/<name>/<version>)
## The venv's bin goes first on PATH: mlflow starts uvicorn by name.
SERVE_PORT ?= 5002
TRACKING_URI ?= sqlite:///$(CURDIR)/mlflow.db
serve: $(STAMP)
	@test -n "$(MODEL)" || { echo "error: say which model: make serve MODEL=models:/<model id> (printed on the run's line)" >&2; exit 2; }
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" MLFLOW_TRACKING_URI='$(TRACKING_URI)' PYTHONPATH='$(CURDIR)' \
		$(VENV)/bin/mlflow models serve -m '$(MODEL)' --env-manager local --host $(HOST) --port $(SERVE_PORT)

## A shared MLflow tracking server on $(SERVER_HOST):$(SERVER_PORT): PostgreSQL backend
## store, artifacts proxied to $(SERVER_ARTIFACTS). Runs use it with tracking=server.
## SERVER_STORE empty: a PostgreSQL cluster of its own in $(SERVER_PGDATA), on
## 127.0.0.1:$(SERVER_PG_PORT), started and stopped with the server (needs Debian's
## postgresql package); else any SQLAlchemy URI, e.g. postgresql://user@db-host/mlflow.
SERVER_HOST ?= 127.0.0.1
SERVER_PORT ?= 5001
SERVER_STORE ?=
SERVER_PGDATA ?= $(CURDIR)/.mlflow-server/pgdata
SERVER_PG_PORT ?= 5433
SERVER_ARTIFACTS ?= $(CURDIR)/mlartifacts
SERVER_WORKERS ?= 2
server: $(STAMP)
	$(PY) -m src.tracking.server serve --host $(SERVER_HOST) --port $(SERVER_PORT) \
		--store '$(SERVER_STORE)' --artifacts '$(SERVER_ARTIFACTS)' --workers $(SERVER_WORKERS) \
		--pgdata '$(SERVER_PGDATA)' --pg-port $(SERVER_PG_PORT)

clean:
	rm -rf outputs multirun .pytest_cache
