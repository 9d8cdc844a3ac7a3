#!/usr/bin/env bash
# README command 2: the whole test suite (what CI runs through .ci/run).
# Installs what it needs: the Python environment (scripts/setup.sh, with DuckDB, Ibis and PySpark), and, as
# root, Debian's PostgreSQL server, Chromium and a Java runtime for the register, browser and Spark tests; starts a throwaway PostgreSQL server and stops it after.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -k register`). Slow statistical checks: `-m slow`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
# the optional MLflow extra, so that the tests of models:/ URIs run (tests/register/test_mlflow.py)
.venv/bin/python -m pip install --quiet -e '.[mlflow]' 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import mlflow" || { echo "setup failed: governance[mlflow] did not install" >&2; exit 1; }

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)   # PySpark's JVM (Java 17 or later)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing ${missing[*]} from Debian's packages ..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "warning: ${missing[*]} missing and not root: those tests will be skipped" >&2
  fi
fi

if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  eval "$(bash scripts/postgres.sh start)"
  trap 'bash scripts/postgres.sh stop >/dev/null 2>&1 || true' EXIT
fi
if [ -n "${CI:-}" ]; then
  export GOVERNANCE_TEST_REQUIRE_SERVICES=1   # in CI, a missing server, browser or Java fails instead of skipping
fi
export NO_MKDOCS_2_WARNING=1

echo "== ruff"; .venv/bin/ruff check . && .venv/bin/ruff format --check governance tests benchmarks scripts
echo "== mypy"; .venv/bin/mypy
echo "== pytest"
set +e
.venv/bin/pytest -m "not slow" -p no:cacheprovider "$@"
status=$?
set -e
[ $status -eq 5 ] && { echo "pytest collected no tests" >&2; exit 1; }
exit $status
