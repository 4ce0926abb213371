#!/usr/bin/env bash
# The whole SAGE test suite: formatting, lints, unit/integration/property
# tests (the storage tests on SQLite and on a real PostgreSQL that this script
# installs and starts; the Ethereum registry against a local anvil chain from
# npm), the node end to end (in-process and as real processes, SQLite and
# PostgreSQL), its HTTP API from outside (schemathesis, Swagger UI in headless
# chromium), the golden-vector runner, and the fuzz targets (built, then run
# for a short bounded time each). `.ci/run` calls exactly this script.
# Run it as root on a fresh machine: it installs what it needs.
#
# Environment:
#   CARGO_TARGET_DIR   build directory (default: ~/.cache/sage-target, outside
#                      the clone so later runs on the same machine reuse it)
#   SAGE_FUZZ_SECONDS  seconds per fuzz target (default 20; 0 skips the runs
#                      but still builds the targets)
#   SAGE_CI_OUT        where the run's artefacts go (default ./ci-out): the
#                      load-test smoke run's JSON and HTML reports
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/sage-target}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# One full build per run: incremental artefacts only cost disk (tens of GB
# across the workspace's test binaries) and do not speed up a CI build.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
fuzz_seconds=${SAGE_FUZZ_SECONDS:-20}
# Artefacts a run keeps (load-test reports): SAGE_CI_OUT, else ./ci-out.
out_dir=${SAGE_CI_OUT:-$here/ci-out}
mkdir -p "$out_dir"

step() { printf '\n==> %s\n' "$*"; }
started=$(date +%s)

step "PostgreSQL for the storage tests (Debian's postgresql, started on loopback)"
# The last line of the script is the export of SAGE_TEST_DATABASE_URL.
eval "$(scripts/ensure-postgres.sh | tail -n 1)"
echo "SAGE_TEST_DATABASE_URL=${SAGE_TEST_DATABASE_URL}"

step "Ethereum tools for the registry (npm: solc-js, anvil, forge), and the contract's forge tests"
eval "$(scripts/ensure-chain-tools.sh | tail -n 1)"
(cd contracts && npx --no-install forge test --use ./solc-shim --offline)

step "vendored vectors are intact"
(cd vectors/sage-spec && sha256sum --check --quiet SHA256SUMS)

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "sage-core stays sans-IO (no async runtime, HTTP, socket or database crate among its dependencies)"
# A global RNG cannot be kept out of the tree (crypto-bigint and ring link
# getrandom); sage-core/clippy.toml bans calling it instead, and the clippy
# step above enforces that.
if cargo tree -p sage-core -e normal --prefix none --locked | grep -E '^(tokio|mio|socket2|hyper|reqwest|sqlx|axum) ' ; then
    echo "sage-core must not depend on I/O crates" >&2
    exit 1
fi

step "rustdoc of the protocol crates (warnings are errors: broken links, missing docs)"
# Limited to the crates with light dependencies: rustdoc cannot reuse clippy's
# metadata, and documenting the database and chain crates would check their
# whole dependency trees a second time.
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked --quiet -p sage-core -p sage-vectors

step "cargo test (unit, integration, property, doc tests; benches run once as tests)"
cargo test --workspace --all-targets --locked
cargo test --workspace --doc --locked

step "golden vectors through the CLI"
cargo run --quiet --locked -p sage-cli -- vectors run vectors/sage-spec

step "node API from outside: schemathesis on /openapi.json, Swagger UI in headless chromium (Debian), SIGTERM"
# The last two lines are the exports of SAGE_SCHEMATHESIS and SAGE_CHROMIUM.
eval "$(scripts/ensure-api-tools.sh | tail -n 2)"
cargo build --quiet --locked -p sage-cli
SAGE_BIN="$CARGO_TARGET_DIR/debug/sage" scripts/api-check.sh

step "load-test smoke: the baseline scenario, 20 s, real protocol, on SQLite and PostgreSQL"
# Fails on a threshold breach; the JSON and HTML reports stay in the run's
# output directory.
loadtest/ci-smoke.sh "$out_dir/loadtest" "$SAGE_TEST_DATABASE_URL"
echo "load-test reports: $out_dir/loadtest"

step "fuzz targets (cargo-fuzz)"
scripts/fuzz.sh "$fuzz_seconds"

printf '\nall checks passed in %ss\n' "$(( $(date +%s) - started ))"
