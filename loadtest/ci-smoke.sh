#!/usr/bin/env bash
# The CI load-test smoke run: the `baseline` scenario, shortened to 20 s,
# against an in-process node on SQLite and then on PostgreSQL. Exits non-zero
# on a threshold breach (baseline.yaml's thresholds are wide on purpose) and
# leaves the JSON and HTML reports in OUT_DIR/{sqlite,postgres}/.
#
# Usage: loadtest/ci-smoke.sh OUT_DIR [POSTGRES_URL]
#   POSTGRES_URL defaults to $SAGE_TEST_DATABASE_URL; without one the
#   PostgreSQL run is skipped (and says so).
# Environment: SAGE_BENCH_SMOKE_DURATION (default 20s), CARGO_TARGET_DIR.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
out=${1:?usage: loadtest/ci-smoke.sh OUT_DIR [POSTGRES_URL]}
postgres=${2:-${SAGE_TEST_DATABASE_URL:-}}
duration=${SAGE_BENCH_SMOKE_DURATION:-20s}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/sage-target}

cargo build --quiet --locked -p sage-bench
bench="$CARGO_TARGET_DIR/debug/sage-bench"

echo "==> baseline for $duration on SQLite (in-process node)"
"$bench" run loadtest/scenarios/baseline.yaml --spawn-node --duration "$duration" --quiet \
    --out "$out/sqlite"

if [ -n "$postgres" ]; then
    echo "==> baseline for $duration on PostgreSQL (in-process node)"
    "$bench" run loadtest/scenarios/baseline.yaml --spawn-node --duration "$duration" --quiet \
        --database-url "$postgres" --out "$out/postgres"
else
    echo "==> no PostgreSQL URL: the PostgreSQL smoke run is skipped"
fi
