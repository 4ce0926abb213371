#!/usr/bin/env bash
# Builds every cargo-fuzz target under fuzz/ and runs each for N seconds
# (argument 1, default 20; 0 = build only). A crash fails the script and
# leaves the reproducer in fuzz/artifacts/<target>/.
#
# cargo-fuzz needs a nightly toolchain (for -Zsanitizer); the machine image
# ships one beside stable. It is installed from crates.io when missing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
seconds=${1:-20}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/sage-target}
# Fuzz builds use their own RUSTFLAGS, so keep them apart from the main build.
fuzz_target_dir="$CARGO_TARGET_DIR/fuzz"

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "cargo-fuzz needs a nightly Rust toolchain, and none is installed (rustup toolchain list)" >&2
    exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz from crates.io"
    cargo install cargo-fuzz --locked --version 0.13.2
fi

targets=$(cargo +nightly fuzz list --fuzz-dir fuzz)
for t in $targets; do
    echo "--- fuzz target $t"
    cargo +nightly fuzz build --fuzz-dir fuzz --target-dir "$fuzz_target_dir" -O "$t"
    if [ "$seconds" -gt 0 ]; then
        mkdir -p "fuzz/corpus/$t"
        seeds="fuzz/seeds/$t"
        corpus_args=("fuzz/corpus/$t")
        [ -d "$seeds" ] && corpus_args+=("$seeds")
        log="$fuzz_target_dir/$t.log"
        mkdir -p "$fuzz_target_dir"
        if ! cargo +nightly fuzz run --fuzz-dir fuzz --target-dir "$fuzz_target_dir" -O "$t" "${corpus_args[@]}" -- \
            -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 >"$log" 2>&1; then
            tail -n 60 "$log" >&2
            echo "fuzz target $t failed; reproducer in fuzz/artifacts/$t/" >&2
            exit 1
        fi
        grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" || true
    fi
done
