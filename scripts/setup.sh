#!/usr/bin/env bash
# Create .venv and install the toolkit with its development tools. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -m pip install --quiet -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import governance, fairlearn, shap, sqlalchemy, mkdocs, ibis, duckdb, pyspark" \
  || { echo "setup failed: the packages above did not install" >&2; exit 1; }
