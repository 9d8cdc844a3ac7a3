#!/usr/bin/env bash
# A throwaway PostgreSQL server for the register tests, in a temporary folder, on a free localhost port.
#
#   eval "$(bash scripts/postgres.sh start)"   # prints export GOVERNANCE_TEST_POSTGRES_URL=... (and _DIR)
#   bash scripts/postgres.sh stop              # stops the server and deletes its folder
#
# Needs Debian's server package (`apt-get install -y postgresql`); the cluster it creates has nothing to do
# with the system's own cluster. Run as root, the server runs as the `postgres` OS user (it refuses root).
set -euo pipefail

STATE_FILE=${GOVERNANCE_PG_STATE_FILE:-${TMPDIR:-/tmp}/governance-postgres.state}

die() { echo "postgres.sh: $*" >&2; exit 1; }

find_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] || dir=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")
  [ -x "$dir/initdb" ] || die "initdb not found; install the server first: apt-get install -y postgresql"
  echo "$dir"
}

as_server_user() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "the postgres OS user is missing; install the server package: apt-get install -y postgresql"
    # from /, which the postgres user can always enter (it may not be allowed into the current folder)
    if command -v runuser >/dev/null 2>&1; then (cd / && runuser -u postgres -- "$@"); else (cd / && su postgres -s /bin/sh -c "$(printf '%q ' "$@")"); fi
  else
    "$@"
  fi
}

free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
  else
    echo $(( 20000 + RANDOM % 30000 ))
  fi
}

start() {
  local bin dir port
  bin=$(find_bin)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/governance-pg.XXXXXX")
  chmod 700 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  as_server_user "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed (log above)"; }
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=100" \
        start >/dev/null 2>&1; then
      break
    fi
    port=""
  done
  [ -n "$port" ] || { cat "$dir/server.log" >&2; die "the server did not start (log above)"; }
  as_server_user "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres governance_test \
    || die "createdb failed; see $dir/server.log"
  printf '%s\n%s\n%s\n' "$dir" "$port" "$bin" >"$STATE_FILE"
  echo "export GOVERNANCE_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$port/governance_test"
  echo "export GOVERNANCE_TEST_POSTGRES_DIR=$dir"
}

stop() {
  local dir=${GOVERNANCE_TEST_POSTGRES_DIR:-} bin
  if [ -z "$dir" ] && [ -f "$STATE_FILE" ]; then dir=$(sed -n 1p "$STATE_FILE"); fi
  [ -n "$dir" ] || { echo "postgres.sh: no server to stop" >&2; return 0; }
  case "$dir" in */governance-pg.*) ;; *) die "refusing to delete $dir: not a folder made by this script";; esac
  bin=$(find_bin)
  if [ -d "$dir/data" ]; then
    as_server_user "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  if [ -f "$STATE_FILE" ] && [ "$(sed -n 1p "$STATE_FILE")" = "$dir" ]; then rm -f "$STATE_FILE"; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: bash scripts/postgres.sh start|stop" >&2; exit 2 ;;
esac
