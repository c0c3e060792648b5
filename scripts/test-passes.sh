#!/usr/bin/env bash
# The suite's two passes, side by side: SQLite always, PostgreSQL when TEST_DATABASE_URL
# is set. Most of a pass is spent waiting on processes (servers, Chromium, MLflow) and
# databases, so the two overlap well even on two cores. Each pass has its own temporary
# directory and cache; its output lines are prefixed with [sqlite] or [postgres] and the
# script fails if either pass fails.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST="${PYTEST:-.venv/bin/pytest}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

PYTEST_ARGS=("$@")  # e.g. a test path, for trying the script on a part of the suite

run_pass() {  # name, then env arguments for the pass
  local name="$1"; shift
  local envs=("$@")
  env "${envs[@]}" "$PYTEST" "${PYTEST_ARGS[@]}" --basetemp="$tmp/$name" -o cache_dir="$tmp/$name-cache" \
    > >(sed -u "s/^/[$name] /") 2>&1
}

run_pass sqlite -u TEST_DATABASE_URL &
sqlite_pid=$!
postgres_rc=0
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  run_pass postgres TEST_DATABASE_URL="$TEST_DATABASE_URL" &
  postgres_pid=$!
  wait "$postgres_pid" || postgres_rc=$?
fi
wait "$sqlite_pid"; sqlite_rc=$?
echo "SQLite pass: exit $sqlite_rc; PostgreSQL pass: exit $postgres_rc$([ -z "${TEST_DATABASE_URL:-}" ] && echo ' (not run: TEST_DATABASE_URL unset)')"
[ "$sqlite_rc" -eq 0 ] && [ "$postgres_rc" -eq 0 ]
