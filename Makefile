# The two commands of the README: `make run` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
FLASK := $(BIN)/flask --app app

PIP_TOOLS := pip-tools==7.6.2

.PHONY: run test lint install lock system-deps node-tools

# Installs (again) only when pyproject.toml or the lock file changed. The versions
# come from requirements.lock (every package, test tools included), so a new
# release upstream cannot change what CI runs until `make lock` is run and committed.
$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Re-resolve requirements.lock after a change to pyproject.toml's dependencies;
# existing pins are kept where they still fit (add --upgrade to LOCK_ARGS to move them).
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(PIP_TOOLS)
	$(BIN)/pip-compile --quiet --extra test --strip-extras --no-emit-index-url \
		--no-emit-find-links $(LOCK_ARGS) -o requirements.lock pyproject.toml

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

# Test tools from npm, pinned by package-lock.json: the Nu HTML checker (vnu-jar),
# run on the machine's Java by tests/conformance. --ignore-scripts: vnu-jar's
# postinstall would download a Java runtime; Debian's (system-deps) is used instead.
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

node-tools: node_modules/.installed

# Debian packages the tests need (Chromium, nginx, Java, npm); skipped when present.
system-deps:
	@bash scripts/system-deps.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Lint, then the whole suite on SQLite and, when TEST_DATABASE_URL is set (.ci/run
# sets it to a throwaway database), on PostgreSQL at the same time (scripts/test-passes.sh).
test: install $(MLFLOW_VENV)/.installed system-deps node-tools lint
	PYTEST=$(BIN)/pytest bash scripts/test-passes.sh

# Production: the one standalone scheduler process (see README, "Scheduler").
.PHONY: scheduler
scheduler: install
	$(BIN)/python -m scheduler
