#!/usr/bin/env bash
# Deploy smoke test for deploy/ticket-desk.service.
#
# Lays out a production install under a temporary root ($root/usr/local/bin/deno,
# $root/opt/ticket-desk, $root/etc/ticket-desk/ticket-desk.env, $root/var/lib and
# $root/var/cache/ticket-desk) with the commands of README.md "Run it in
# production", checks the unit with `systemd-analyze verify` there, then runs the
# unit's own ExecStart (paths under $root) as an unprivileged user that cannot
# write the install: start, create, dashboard, live event, stop, restart.
# Prints PASS/FAIL lines; exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

UNIT=deploy/ticket-desk.service
ENV_EXAMPLE=deploy/ticket-desk.env.example
# The Deno version README.md installs in production.
DENO_VERSION=$(sed -n 's/^sudo npm install -g .* deno@\([0-9.]*\)$/\1/p' README.md)
ADMIN_PASSWORD=smoke-admin-password

passed=0
pass() {
  echo "PASS $*"
  passed=$((passed + 1))
}
fail() {
  echo "FAIL $*"
  if [ -n "${server_log:-}" ] && [ -s "$server_log" ]; then
    echo "--- server output ---"
    tail -n 40 "$server_log"
  fi
  exit 1
}

root=$(mktemp -d)
chmod 755 "$root"
server_pid=
stream_pid=
cleanup() {
  for pid in $server_pid $stream_pid; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$root"
}
trap cleanup EXIT

# ---- the unit's own settings -------------------------------------------------
unit_text=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$UNIT") # join continued lines
unit_value() { sed -n "s/^$1=//p" <<<"$unit_text"; }
read -ra exec_start <<<"$(unit_value ExecStart)"
deno_path=${exec_start[0]}
workdir=$(unit_value WorkingDirectory)
env_file=$(unit_value EnvironmentFile)
mapfile -t unit_env < <(unit_value Environment)
state_dir="$root/var/lib/$(unit_value StateDirectory)"
cache_dir="$root/var/cache/$(unit_value CacheDirectory)"
[ "${#exec_start[@]}" -gt 2 ] && [ -n "$workdir" ] && [ -n "$env_file" ] &&
  [ "$state_dir" != "$root/var/lib/" ] && [ "$cache_dir" != "$root/var/cache/" ] ||
  fail "cannot read the ExecStart, directories and EnvironmentFile of $UNIT"
[ -n "$DENO_VERSION" ] || fail "README.md has no 'sudo npm install -g … deno@VERSION' line"

# ---- systemd-analyze verify ---------------------------------------------------
if ! command -v systemd-analyze >/dev/null; then
  echo "Installing Debian's systemd for systemd-analyze..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null
fi

# deno from npm, as README.md installs it, at the unit's path under $root.
prefix="$root${deno_path%/bin/deno}"
npm install -g --prefix "$prefix" --allow-scripts=deno --prefer-offline \
  --no-audit --no-fund "deno@$DENO_VERSION" >"$root/npm.log" 2>&1 ||
  fail "npm install deno@$DENO_VERSION: $(tail -n 5 "$root/npm.log")"
deno="$root$deno_path"
# Without its postinstall script npm links bin.cjs, a Node launcher: not one process.
[ "$(head -c 4 "$(readlink -f "$deno")")" = $'\x7fELF' ] ||
  fail "$deno_path is $(readlink -f "$deno"), not the native deno binary"
pass "npm installs deno $("$deno" --version | head -n 1 | cut -d' ' -f2) as a native binary at $deno_path"

# verify checks the syntax, that every directive is known to this systemd and
# that ExecStart's binary exists; with --root it does so for the unit file as
# shipped, against the temporary root (which needs the stock units it orders
# itself after). It only warns about unknown keys and bad values, so any output
# counts as a failure.
mkdir -p "$root/etc/systemd/system" "$root/usr/lib/systemd"
cp "$UNIT" "$root/etc/systemd/system/"
cp -r /lib/systemd/system "$root/usr/lib/systemd/system"
verify=$(systemd-analyze verify --root="$root" ticket-desk.service 2>&1) ||
  fail "systemd-analyze verify: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify warns: $verify"
pass "systemd-analyze verify $UNIT"
# Keeps the sandbox from being loosened unnoticed: fails above 2.0 (the
# threshold counts tenths); 1.3 when written, lower is safer.
exposure=$(systemd-analyze security --root="$root" --offline=yes --threshold=20 \
  ticket-desk.service 2>&1 | tail -n 1) ||
  fail "systemd-analyze security: exposure above 2.0: $exposure"
pass "systemd-analyze security: ${exposure#→ }"

# ---- install as README.md does, under $root ------------------------------------
install_dir="$root$workdir"
mkdir -p "$install_dir"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$install_dir"
chmod -R a+rX,go-w "$install_dir"
mkdir -p "$state_dir" "$cache_dir" "$(dirname "$root$env_file")"
chmod 700 "$state_dir" "$cache_dir"
sed -e "s#^DB_PATH=/#DB_PATH=$root/#" -e 's/^PORT=.*/PORT=0/' \
  -e "s/^ADMIN_PASSWORD=.*/ADMIN_PASSWORD=$ADMIN_PASSWORD/" \
  "$ENV_EXAMPLE" >"$root$env_file"
chmod 600 "$root$env_file"

# The service user may write only the state and cache directories, as under
# ProtectSystem=strict; as root, nobody plays ticket-desk.
run_as=()
if [ "$(id -u)" = 0 ]; then
  chown 65534:65534 "$state_dir" "$cache_dir"
  run_as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
else
  echo "(not root: running as $(id -un), with the install made read-only)"
  chmod -R a-w "$install_dir"
fi

# A bare environment like the one systemd and sudo give, and DENO_DIR as the unit sets it.
base_env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  HOME=/nonexistent LANG=C.UTF-8 "DENO_DIR=$cache_dir")
# The service's: the unit's Environment= (DENO_DIR under $root) and the EnvironmentFile.
service_env=("${base_env[@]}")
for e in "${unit_env[@]}"; do
  case "$e" in DENO_DIR=*) continue ;; esac
  service_env+=("$e")
done
while IFS= read -r line; do
  case "$line" in '' | '#'*) continue ;; esac
  service_env+=("$line")
done <"$root$env_file"
# README.md's install-time commands (`sudo -u ticket-desk env DENO_DIR=… deno …`)
# download from the registry: they keep this machine's proxy and CA settings.
install_env=()
for v in DENO_CERT DENO_TLS_CA_STORE NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR \
  HTTPS_PROXY HTTP_PROXY NO_PROXY https_proxy http_proxy no_proxy; do
  [ -z "${!v:-}" ] || install_env+=("$v=${!v}")
done
as_service_user() {
  (cd "$install_dir" && env -i "${base_env[@]}" "${install_env[@]}" "${run_as[@]}" "$@")
}

as_service_user "$deno" cache --frozen main.ts >"$root/cache.log" 2>&1 ||
  fail "deno cache --frozen main.ts: $(tail -n 5 "$root/cache.log")"
for pkg in playwright-core axe-core; do
  [ ! -e "$cache_dir/npm/registry.npmjs.org/$pkg" ] ||
    fail "deno cache main.ts downloaded the test-only package $pkg"
done
pass "deno cache --frozen main.ts fills DENO_DIR ($(du -sh "$cache_dir" | cut -f1)) without test-only packages"

# ---- start, create, dashboard, live event, stop -----------------------------------
server_log="$root/server.log"
start_server() {
  # Once cached, start must not need the registry: a dead proxy proves it.
  (cd "$install_dir" && exec env -i "${service_env[@]}" \
    HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 \
    "${run_as[@]}" "$deno" "${exec_start[@]:1}") >"$server_log" 2>&1 &
  server_pid=$!
  url=
  for _ in $(seq 1 600); do
    url=$(sed -n 's/.*"msg":"listening".*"url":"\([^"]*\)".*/\1/p' "$server_log" | head -n 1)
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || fail "the server exited before listening"
    sleep 0.1
  done
  [ -n "$url" ] || fail "the server did not listen within 60 s"
  url=${url%/}
}

stop_server() {
  kill -TERM "$server_pid"
  for _ in $(seq 1 100); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$server_pid" 2>/dev/null && fail "the server still runs 10 s after SIGTERM"
  status=0
  wait "$server_pid" || status=$?
  server_pid=
  [ "$status" = 0 ] || fail "the server exited with $status after SIGTERM"
}

# Waits up to 10 s for a fixed string in a file.
wait_for() {
  for _ in $(seq 1 100); do
    grep -qsF -- "$2" "$1" && return 0
    sleep 0.1
  done
  return 1
}

start_server
[ -z "$(ps -o pid= --ppid "$server_pid")" ] ||
  fail "the server has child processes: $(ps -o cmd= --ppid "$server_pid")"
[ "$(readlink -f "/proc/$server_pid/exe")" = "$(readlink -f "$deno")" ] ||
  fail "pid $server_pid is not deno: $(readlink -f "/proc/$server_pid/exe")"
rss=$(awk '/^VmRSS/ {printf "%.0f MiB", $2 / 1024}' "/proc/$server_pid/status")
pass "the unit's ExecStart listens at $url as one process (deno, RSS $rss)"

# README.md's production CLI command: the service user, its database, its cache.
db_path=$(sed -n 's/^DB_PATH=//p' "$root$env_file")
key=$(as_service_user env "DB_PATH=$db_path" "$deno" task apikey create smoke \
  2>"$root/apikey.log" | tail -n 1) ||
  fail "deno task apikey create smoke: $(tail -n 5 "$root/apikey.log")"
[[ "$key" =~ ^[^[:space:]]{16,}$ ]] || fail "deno task apikey create printed no key: $key"
pass "deno task apikey create smoke"
# deno task caches every package of deno.json and deno.lock before the task:
# the browser-test tools are in tests/deno.lock only, so none may appear.
for pkg in playwright-core axe-core; do
  [ ! -e "$cache_dir/npm/registry.npmjs.org/$pkg" ] ||
    fail "deno task downloaded the test-only package $pkg"
done
pass "deno task downloads no test-only package"

create_ticket() {
  curl -sS -o "$root/created.json" -w '%{http_code}' -X POST "$url/create_ticket" \
    -H "Authorization: Bearer $key" -H "Content-Type: application/json" \
    -d "{\"user_id\": \"$1\", \"pdf_link\": \"https://example.com/$1.pdf\"}"
}
code=$(create_ticket smoke_user_1)
[ "$code" = 201 ] || fail "POST /create_ticket answered $code: $(cat "$root/created.json")"
first_id=$(sed -n 's/.*"ticket_id":\([0-9]*\).*/\1/p' "$root/created.json")
[ -n "$first_id" ] || fail "POST /create_ticket gave no ticket_id: $(cat "$root/created.json")"
pass "POST /create_ticket answered 201 with ticket $first_id"

jar="$root/cookies"
login() {
  curl -sS -c "$jar" -o /dev/null -w '%{http_code}' -H "Origin: $url" \
    --data-urlencode username=admin --data-urlencode "password=$ADMIN_PASSWORD" \
    "$url/login"
}
code=$(login)
[ "$code" = 303 ] || fail "POST /login as admin answered $code"
code=$(curl -sS -b "$jar" -o "$root/dashboard.html" -w '%{http_code}' "$url/dashboard")
[ "$code" = 200 ] || fail "GET /dashboard answered $code"
grep -q "id=\"ticket-$first_id\"" "$root/dashboard.html" ||
  fail "GET /dashboard does not show ticket $first_id"
pass "the admin logs in and GET /dashboard shows ticket $first_id"

curl -sS -N -b "$jar" "$url/events" >"$root/events.txt" 2>&1 &
stream_pid=$!
wait_for "$root/events.txt" "event: hello" || fail "GET /events sent no hello"
code=$(create_ticket smoke_user_2)
[ "$code" = 201 ] || fail "the second POST /create_ticket answered $code"
second_id=$(sed -n 's/.*"ticket_id":\([0-9]*\).*/\1/p' "$root/created.json")
wait_for "$root/events.txt" "id=\"ticket-$second_id\"" ||
  fail "GET /events did not send ticket $second_id within 10 s"
pass "GET /events sends ticket $second_id live"

stop_server
pass "SIGTERM stops the server with exit status 0"
for _ in $(seq 1 50); do
  kill -0 "$stream_pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$stream_pid" 2>/dev/null && fail "the live stream stayed open after the server stopped"
stream_pid=

start_server
code=$(login)
[ "$code" = 303 ] || fail "POST /login after the restart answered $code"
code=$(curl -sS -b "$jar" -o "$root/ticket.html" -w '%{http_code}' "$url/tickets/$first_id")
[ "$code" = 200 ] && grep -q smoke_user_1 "$root/ticket.html" ||
  fail "GET /tickets/$first_id after the restart answered $code without the ticket"
stop_server
pass "after a restart ticket $first_id is still there"

echo "deploy smoke: $passed passed, 0 failed"
