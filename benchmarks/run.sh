#!/usr/bin/env bash
# Every benchmark, one after the other; each prints ratios measured in the same run. Not part of CI.
#   bash benchmarks/run.sh            (about 45-60 minutes on 2 cores, most of it the 50M-row files and the site)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh
echo "== fairness numeric core";   .venv/bin/python benchmarks/fairness/run.py
echo "== explanations";            .venv/bin/python benchmarks/explain/run.py
echo "== site build";              .venv/bin/python benchmarks/site/run.py
echo "== audit end to end";        .venv/bin/python benchmarks/end_to_end/run.py "$@"
pg=(); [ -n "${GOVERNANCE_TEST_POSTGRES_URL:-}" ] && pg=(--pg-rows 10000000)
echo "== engines: DuckDB, PostgreSQL, Spark"
.venv/bin/python benchmarks/engine/run.py --rows 50000000 --csv-rows 50000000 "${pg[@]}" --spark-rows 10000000 --clean
echo "== command latency";         .venv/bin/python benchmarks/latency/run.py
echo "== register";                .venv/bin/python benchmarks/register/run.py
