#!/usr/bin/env bash
# Parallel sign-in attempts with unknown emails, each from its own address
# behind a trusted proxy, as the server sees them (run by hand; needs python3
# and the local PostgreSQL). Prints how long the burst took, the server's RSS
# growth while it lasted and the answers, after a reference burst of the
# same clients fetching only the form (no password to check).
#
#   benches/sign_in.sh [parallel=500]
#
# BENCH_BIN=path/to/debrief measures another build (say, an older commit's).
set -euo pipefail
cd "$(dirname "$0")/.."
parallel=${1:-500}
server=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
database=debrief_bench_sign_in
port=${BENCH_PORT:-3903}
base="http://127.0.0.1:$port"

bin=${BENCH_BIN:-target/release/debrief}
[ -n "${BENCH_BIN:-}" ] || cargo build --release --quiet
psql "$server/postgres" -qc "drop database if exists $database with (force)" >/dev/null
export DATABASE_URL="$server/$database" DEBRIEF_BIND="127.0.0.1:$port" RUST_LOG=${BENCH_RUST_LOG:-error}
export DEBRIEF_TRUSTED_PROXIES=127.0.0.1 DEBRIEF_DB_MAX_CONNECTIONS=${DEBRIEF_DB_MAX_CONNECTIONS:-20}
"$bin" migrate >/dev/null
printf '%s\n' "a password nobody guesses" | "$bin" user create --email someone@example.com --name Someone --role viewer >/dev/null
ulimit -n 4096 2>/dev/null || true

log=$(mktemp); echo "server log: $log"
"$bin" serve 2>"$log" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

python3 benches/sign_in_burst.py "$base" "$server_pid" "$parallel" --forms-only
python3 benches/sign_in_burst.py "$base" "$server_pid" "$parallel"
python3 benches/sign_in_burst.py "$base" "$server_pid" "$parallel"
echo "session rows left: $(psql "$server/$database" -Atc 'select count(*) from tower_sessions.session')"
