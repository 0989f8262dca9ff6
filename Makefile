# Two commands do all the set-up: `make run` and `make test`.
# Both create .venv and install the project into it when needed.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The CPU wheel of torch lies here on the build machines; pip also looks on PyPI.
WHEELS := $(wildcard /opt/wheels)
PIP_INSTALL := $(PY) -m pip install --quiet $(if $(WHEELS),--find-links $(WHEELS))
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test ui install clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip
	$(PIP_INSTALL) -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## The main job: the workshop's two hands-on experiments, recorded in mlflow.db.
run: $(STAMP)
	$(PY) -m src.train experiment=workshop_regression
	$(PY) -m src.train experiment=workshop_circles

## The test suite (what CI runs).
test: $(STAMP)
	$(PY) -m pytest -q

## The MLflow UI for the default store, on $(HOST):$(PORT).
ui: $(STAMP)
	$(VENV)/bin/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlflow.db --host $(HOST) --port $(PORT)

clean:
	rm -rf outputs multirun .pytest_cache
