#!/usr/bin/env bash
# Makes the node's API checks ready (scripts/api-check.sh), idempotently:
#
#   1. schemathesis (PyPI) in a virtualenv under
#      ${SAGE_TOOLS_DIR:-~/.cache/sage-tools}/venv, with every dependency at
#      the version pinned in scripts/api-tools-requirements.txt (hypothesis
#      especially: a newer one would make the fixed-seed run fuzz
#      differently); skipped when a stamp in the venv holds that file's
#      SHA-256;
#   2. Debian's `chromium` when no `chromium` is on PATH (`apt-get update`
#      only when the install needs it; this step needs root);
#   3. puppeteer-core (npm) in scripts/browser/ from its committed
#      package-lock.json, to drive that chromium. PUPPETEER_SKIP_DOWNLOAD=1
#      and --ignore-scripts: puppeteer never fetches a browser of its own, the
#      Debian package is the browser under test. npm is skipped when
#      node_modules already matches the lock file (a stamp holds the lock
#      file's SHA-256).
#
# Progress goes to stderr; the last two lines on stdout are the exports that
# scripts/api-check.sh reads:
#   export SAGE_SCHEMATHESIS=/…/venv/bin/schemathesis
#   export SAGE_CHROMIUM=/usr/bin/chromium
# so `eval "$(scripts/ensure-api-tools.sh | tail -n 2)"` sets both.
set -euo pipefail

log() { printf 'ensure-api-tools: %s\n' "$*" >&2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
browser="$here/scripts/browser"
tools_dir=${SAGE_TOOLS_DIR:-$HOME/.cache/sage-tools}
venv="$tools_dir/venv"
schemathesis="$venv/bin/schemathesis"

apt_install() {
    if [ "$(id -u)" -ne 0 ]; then
        log "must run as root to install $* (or install it yourself)"
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "$@" >&2; then
        log "install failed with the current package lists: apt-get update, then retry"
        apt-get update >&2
        apt-get install -y --no-install-recommends "$@" >&2
    fi
}

# 1. schemathesis
requirements="$here/scripts/api-tools-requirements.txt"
venv_stamp="$venv/.sage-requirements-sha256"
requirements_sum=$(sha256sum "$requirements" | awk '{print $1}')
if [ -x "$schemathesis" ] && [ -f "$venv_stamp" ] && [ "$(cat "$venv_stamp")" = "$requirements_sum" ]; then
    log "$venv matches scripts/api-tools-requirements.txt"
else
    if ! command -v python3 >/dev/null 2>&1; then
        log "python3 missing: installing Debian's python3"
        apt_install python3 python3-venv
    fi
    mkdir -p "$tools_dir"
    if ! python3 -m venv --clear "$venv" >&2; then
        # Debian's python3 ships venv (ensurepip) separately.
        log "python3 -m venv failed: installing python3-venv, then retrying with /usr/bin/python3"
        apt_install python3-venv
        /usr/bin/python3 -m venv --clear "$venv" >&2
    fi
    log "pip install -r scripts/api-tools-requirements.txt into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        --no-deps -r "$requirements" >&2
    "$venv/bin/python" -m pip check --disable-pip-version-check >&2
    printf '%s' "$requirements_sum" >"$venv_stamp"
fi

# 2. chromium
if ! command -v chromium >/dev/null 2>&1; then
    log "chromium missing: installing Debian's chromium"
    apt_install chromium
fi
chromium=$(command -v chromium)

# 3. puppeteer-core
for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        log "$tool not found: install Node.js 18 or newer with npm (Debian: apt-get install nodejs npm)"
        exit 1
    fi
done
modules="$browser/node_modules"
stamp="$modules/.sage-lock-sha256"
lock_sum=$(sha256sum "$browser/package-lock.json" | awk '{print $1}')
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sum" ] && [ -f "$modules/puppeteer-core/package.json" ]; then
    log "scripts/browser/node_modules matches package-lock.json"
else
    log "npm ci in scripts/browser/"
    (cd "$browser" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund >&2)
    printf '%s' "$lock_sum" >"$stamp"
fi

log "schemathesis: $schemathesis ($("$schemathesis" --version))"
log "chromium: $chromium ($("$chromium" --version 2>/dev/null | head -n 1))"
log "puppeteer-core $(node -p 'require(process.argv[1]).version' "$modules/puppeteer-core/package.json")"
echo "export SAGE_SCHEMATHESIS=$schemathesis"
echo "export SAGE_CHROMIUM=$chromium"
