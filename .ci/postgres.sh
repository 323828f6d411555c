#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the Postgres store tests.
#
#   eval "$(.ci/postgres.sh start)"   # prints export TEST_DATABASE_URL=… and TEST_PG_DIR=…
#   .ci/postgres.sh stop              # stops the cluster in $TEST_PG_DIR and deletes it
#
# Installs Debian's postgresql when no server binaries are found, then runs
# initdb + pg_ctl as the postgres user in a temporary directory, listening on
# 127.0.0.1 at a random free port (trust auth: nothing else can reach it).
# fsync is off: the data is thrown away, and the tests do not test fsync.
# Takes about 2-3 s when postgresql is installed (mostly initdb).
set -euo pipefail

find_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

# Runs a command as the postgres user (initdb refuses to run as root).
as_postgres() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_is_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
  local bindir
  if ! bindir="$(find_bindir)"; then
    echo "installing postgresql…" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    bindir="$(find_bindir)"
  fi
  local dir
  dir="$(mktemp -d /tmp/ticket_desk_pg.XXXXXX)"
  chmod 755 "$dir"
  if [[ "$(id -u)" == 0 ]]; then chown postgres: "$dir"; fi
  as_postgres "$bindir/initdb" -D "$dir/data" -U postgres -A trust \
    -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
  }
  local port tries=0
  while :; do
    port=$((20000 + RANDOM % 40000))
    if port_is_free "$port" && as_postgres "$bindir/pg_ctl" -D "$dir/data" \
      -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >&2; then
      break
    fi
    tries=$((tries + 1))
    if ((tries >= 5)); then
      cat "$dir/server.log" >&2 || true
      echo "cannot start postgres" >&2
      exit 1
    fi
  done
  as_postgres "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres ticket_desk_test
  echo "export TEST_PG_DIR=$dir"
  echo "export TEST_PG_BINDIR=$bindir"
  echo "export TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/ticket_desk_test"
}

stop() {
  local dir="${1:-${TEST_PG_DIR:-}}"
  if [[ -z "$dir" || ! -d "$dir/data" ]]; then
    echo "usage: $0 stop [DIR] (or set TEST_PG_DIR)" >&2
    exit 2
  fi
  local bindir="${TEST_PG_BINDIR:-$(find_bindir)}"
  as_postgres "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *)
    echo "usage: $0 start|stop [DIR]" >&2
    exit 2
    ;;
esac
