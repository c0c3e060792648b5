# The two commands of the README: `make run` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
FLASK := $(BIN)/flask --app app

.PHONY: run test lint install system-deps

# Installs (again) only when pyproject.toml changed.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# The real MLflow (server and client) for the MLflow tests, in its own virtual environment
# so its pinned Flask/SQLAlchemy ranges never constrain the app's. Installs (again) only
# when tests/mlflow-requirements.txt changed; the tests find .venv-mlflow/bin/mlflow.
MLFLOW_VENV ?= .venv-mlflow
$(MLFLOW_VENV)/.installed: tests/mlflow-requirements.txt
	test -x $(MLFLOW_VENV)/bin/python || $(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/pip install --quiet --upgrade pip
	$(MLFLOW_VENV)/bin/pip install --quiet -r tests/mlflow-requirements.txt
	touch $@

# Try MLflow by hand: `make dev-mlflow`, then .venv-mlflow/bin/mlflow server (see README).
.PHONY: dev-mlflow
dev-mlflow: $(MLFLOW_VENV)/.installed
	@echo "MLflow is in $(MLFLOW_VENV): $(MLFLOW_VENV)/bin/mlflow server --host 127.0.0.1 --port 5001"

# Embedded default: SQLite in instance/, scheduler in-process, demo content.
run: install
	$(FLASK) db upgrade
	$(FLASK) demo
	$(FLASK) run --host 127.0.0.1 --port 5000

# Debian packages the tests need (Chromium, nginx); skipped when present.
system-deps:
	@bash scripts/system-deps.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Lint, then the whole suite on SQLite, then again on PostgreSQL when
# TEST_DATABASE_URL is set (.ci/run sets it to a throwaway database).
test: install $(MLFLOW_VENV)/.installed system-deps lint
	env -u TEST_DATABASE_URL $(BIN)/pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL =="; \
		$(BIN)/pytest; \
	fi

# Production: the one standalone scheduler process (see README, "Scheduler").
.PHONY: scheduler
scheduler: install
	$(BIN)/python -m scheduler
