#!/usr/bin/env bash
# Make sure a PostgreSQL server is reachable for the store tests, create the
# database vnfm_test on it (idempotent) and print its SQLAlchemy URL on stdout
# (everything else goes to stderr):
#
#   export VNFM_TEST_POSTGRES_URL="$(scripts/postgres.sh)"
#
# A server already answering on $PGHOST:$PGPORT (default 127.0.0.1:5432) is
# used as it is: never stopped, never reconfigured. Otherwise the Debian
# package is installed if needed and its cluster started; only then, on that
# cluster we started, loopback connections are allowed without a password.
# The tests create (and drop) their own vnfm_test_<random> database through it.
set -euo pipefail

host=${PGHOST:-127.0.0.1}
port=${PGPORT:-5432}
user=${PGUSER:-postgres}
db=vnfm_test

log() { echo "postgres: $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    log "need root for: $*"
    return 1
  fi
}

answers() {
  if command -v pg_isready >/dev/null; then
    pg_isready -q -h "$host" -p "$port" -t 2
  else
    timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
  fi
}

start_local_server() {
  if ! command -v pg_lsclusters >/dev/null || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
    log "no PostgreSQL server here; installing the postgresql package"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  fi
  local ver
  ver=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n1)
  if ! pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main"' | grep -q .; then
    as_root pg_createcluster "$ver" main >&2
  fi
  local cluster_port status
  cluster_port=$(pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" {print $3}')
  status=$(pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" {print $4}')
  if [ "$cluster_port" != "$port" ]; then
    log "cluster $ver/main listens on $cluster_port, not $port; using it"
    port=$cluster_port
  fi
  if [ "$status" = online ]; then
    answers && return 0 # someone else's running server: used as it is
    log "cluster $ver/main is running but does not answer on $host:$port; not touching it"
    return 1
  fi
  # Our own server from here on: the tests connect over loopback without a password.
  local hba=/etc/postgresql/$ver/main/pg_hba.conf
  if ! as_root grep -q '^# vnfm tests' "$hba"; then
    log "allowing trust authentication on loopback in $hba"
    as_root sed -i '1i # vnfm tests: trust on loopback (added by scripts/postgres.sh)\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  log "starting cluster $ver/main"
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2
  for _ in $(seq 1 30); do
    answers && return 0
    sleep 1
  done
  log "cluster $ver/main did not come up on $host:$port"
  return 1
}

if ! answers; then
  log "nothing answers on $host:$port"
  start_local_server
fi
if ! command -v psql >/dev/null; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >&2
fi

psql_() { psql -X -q -v ON_ERROR_STOP=1 -h "$host" -p "$port" -U "$user" -d postgres "$@"; }
if [ "$(psql_ -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
  log "creating database $db"
  # Two runs at once: the loser's CREATE fails with "already exists", which is fine.
  psql_ -c "CREATE DATABASE $db" >&2 ||
    [ "$(psql_ -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" = 1 ]
fi
echo "postgresql+psycopg://$user@$host:$port/$db"
