#!/usr/bin/env bash
# Makes a local PostgreSQL ready for the sage-store tests, idempotently.
# Run as root. Each step is skipped when it is already done:
#
#   1. install Debian's `postgresql` when `pg_ctlcluster` is missing
#      (`apt-get update` only when the install needs it);
#   2. start the newest installed cluster (creating `main` if there is none);
#   3. wait until it accepts connections;
#   4. create the role `sage` (password `sage`) and the database
#      `sage_test` owned by it.
#
# Prints, as its last line, the export the tests read:
#   export SAGE_TEST_DATABASE_URL=postgres://sage:sage@127.0.0.1:5432/sage_test
# so `eval "$(scripts/ensure-postgres.sh | tail -n 1)"` sets it. Progress
# goes to stderr.
#
# The credentials are for a throw-away test cluster on the loopback
# interface only; never point this script at a real server.
set -euo pipefail

log() { printf 'ensure-postgres: %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
    log "must run as root (it installs packages and starts the cluster)"
    exit 1
fi

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    log "pg_ctlcluster missing: installing postgresql"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends postgresql >&2; then
        log "install failed with the current package lists: apt-get update, then retry"
        apt-get update >&2
        apt-get install -y --no-install-recommends postgresql >&2
    fi
fi

# The newest installed server version (Debian installs under /usr/lib/postgresql/N).
version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
if [ -z "$version" ]; then
    log "no PostgreSQL server under /usr/lib/postgresql"
    exit 1
fi
cluster=main
if ! pg_lsclusters --no-header | awk '{print $1" "$2}' | grep -qx "$version $cluster"; then
    log "creating cluster $version/$cluster"
    pg_createcluster "$version" "$cluster" >&2
fi
port=$(pg_lsclusters --no-header | awk -v v="$version" -v c="$cluster" '$1==v && $2==c {print $3}')

if pg_lsclusters --no-header | awk -v v="$version" -v c="$cluster" '$1==v && $2==c {print $4}' | grep -q online; then
    log "cluster $version/$cluster already online on port $port"
else
    log "starting cluster $version/$cluster"
    pg_ctlcluster "$version" "$cluster" start >&2
fi

for _ in $(seq 1 60); do
    if pg_isready -q -h 127.0.0.1 -p "$port"; then
        break
    fi
    sleep 0.5
done
if ! pg_isready -q -h 127.0.0.1 -p "$port"; then
    log "cluster did not become ready on 127.0.0.1:$port"
    exit 1
fi

psql_admin() { runuser -u postgres -- psql -p "$port" -v ON_ERROR_STOP=1 -qtAX "$@"; }

if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'sage'")" != "1" ]; then
    log "creating role sage"
    psql_admin -c "CREATE ROLE sage LOGIN PASSWORD 'sage'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'sage_test'")" != "1" ]; then
    log "creating database sage_test"
    psql_admin -c "CREATE DATABASE sage_test OWNER sage"
fi

log "ready"
echo "export SAGE_TEST_DATABASE_URL=postgres://sage:sage@127.0.0.1:${port}/sage_test"
