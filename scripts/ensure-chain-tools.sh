#!/usr/bin/env bash
# Makes the Ethereum registry's tools ready, idempotently: `npm ci` in
# contracts/ from the committed package-lock.json, which brings
#
#   solc-js 0.8.37        (npm `solc`, compiler bundled as soljson: offline)
#   anvil 1.7.1, forge 1.7.1 (npm `@foundry-rs/*`; the binaries ship inside
#                          the platform packages, no download at install time)
#
# npm runs with --ignore-scripts: the foundry packages' postinstall is only a
# fallback downloader for platforms whose binary package is missing, and this
# script checks the binaries itself. npm is skipped when node_modules already
# matches the lock file (a stamp holds the lock file's SHA-256).
#
# Progress goes to stderr; the last line on stdout is the export the Rust
# tests read:
#   export SAGE_ANVIL=/…/contracts/node_modules/@foundry-rs/anvil-<os>-<arch>/bin/anvil
# so `eval "$(scripts/ensure-chain-tools.sh | tail -n 1)"` sets it (the tests
# also find anvil there without it).
set -euo pipefail

log() { printf 'ensure-chain-tools: %s\n' "$*" >&2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
contracts="$here/contracts"

for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        log "$tool not found: install Node.js 18 or newer with npm (Debian: apt-get install nodejs npm)"
        exit 1
    fi
done

case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) log "unsupported OS $(uname -s)"; exit 1 ;;
esac
case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) log "unsupported CPU $(uname -m)"; exit 1 ;;
esac

modules="$contracts/node_modules"
anvil="$modules/@foundry-rs/anvil-$os-$arch/bin/anvil"
forge="$modules/@foundry-rs/forge-$os-$arch/bin/forge"
stamp="$modules/.sage-lock-sha256"
lock_sum=$(node -e 'process.stdout.write(require("crypto").createHash("sha256").update(require("fs").readFileSync(process.argv[1])).digest("hex"))' "$contracts/package-lock.json")

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sum" ] && [ -x "$anvil" ] && [ -x "$forge" ] \
    && [ -f "$modules/solc/soljson.js" ]; then
    log "contracts/node_modules matches package-lock.json"
else
    log "npm ci in contracts/"
    (cd "$contracts" && npm ci --ignore-scripts --no-audit --no-fund >&2)
    printf '%s' "$lock_sum" >"$stamp"
fi

for binary in "$anvil" "$forge"; do
    if [ ! -x "$binary" ]; then
        log "missing $binary: is @foundry-rs/$(basename "$binary")-$os-$arch published for this platform?"
        exit 1
    fi
done
log "solc-js $(cd "$contracts" && node -e 'process.stdout.write(require("solc").version())')"
log "anvil: $anvil ($("$anvil" --version | head -n 1))"
log "forge: $forge ($("$forge" --version | head -n 1))"
echo "export SAGE_ANVIL=$anvil"
