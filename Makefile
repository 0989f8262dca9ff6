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

.PHONY: run test ui server install clean

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
