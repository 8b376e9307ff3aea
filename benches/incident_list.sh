#!/usr/bin/env bash
# The incident list on a large database, as the server sees it (run by hand;
# needs wrk and the local PostgreSQL). Generates N incidents with
# `debrief demo --incidents N` into a fresh database (no manual VACUUM: what
# the generator leaves is what is measured), then runs wrk on the first page
# and on a page 1,000 deep, for the API and the HTML list, after a reference
# run of the trivial `/healthz` route with the same connections.
#
#   benches/incident_list.sh [incidents=100000] [connections=32] [seconds=15]
#
# BENCH_BIN=path/to/debrief measures another build (say, an older commit's).
set -euo pipefail
cd "$(dirname "$0")/.."
incidents=${1:-100000}
connections=${2:-32}
seconds=${3:-15}
server=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
database=debrief_bench_list
port=${BENCH_PORT:-3902}
base="http://127.0.0.1:$port"
password="bench password, long enough"

command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)"; exit 1; }
bin=${BENCH_BIN:-target/release/debrief}
[ -n "${BENCH_BIN:-}" ] || cargo build --release --quiet
psql "$server/postgres" -qc "drop database if exists $database with (force)" >/dev/null
export DATABASE_URL="$server/$database" DEBRIEF_BIND="127.0.0.1:$port" RUST_LOG=${BENCH_RUST_LOG:-warn}
"$bin" migrate >/dev/null
printf '%s\n' "$password" | "$bin" user create --email bench@example.com --name "Bench Viewer" --role viewer >/dev/null
token=$("$bin" token create --email bench@example.com --name bench 2>/dev/null)
start=$(date +%s.%N)
"$bin" demo --incidents "$incidents" >/dev/null 2>&1
end=$(date +%s.%N)
awk -v n="$incidents" -v s="$start" -v e="$end" 'BEGIN { printf "generated %d incidents in %.1f s\n", n, e - s }'
psql "$server/$database" -Atc "select 'dead incident tuples left: ' || n_dead_tup || ', last analysed: ' || coalesce(greatest(last_analyze, last_autoanalyze)::text, 'never') from pg_stat_user_tables where relname = 'incident'"

log=$(mktemp); echo "server log: $log"
"$bin" serve 2>"$log" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

jar=$(mktemp)
csrf=$(curl -s -c "$jar" -b "$jar" "$base/login" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"$//')
curl -s -o /dev/null -c "$jar" -b "$jar" "$base/login" --data-urlencode "csrf_token=$csrf" \
  --data-urlencode "email=bench@example.com" --data-urlencode "password=$password"
cookies=$(awk '(/^#HttpOnly_/ || !/^#/) && NF >= 7 { printf "%s%s=%s", sep, $6, $7; sep="; " }' "$jar")
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookies" "$base/incidents")
[ "$status" = 200 ] || { echo "the incident list answered $status"; exit 1; }

threads=$(( connections < 2 ? 1 : 2 ))
run() { # name, path, headers...
  local name=$1 path=$2; shift 2
  wrk -t"$threads" -c"$connections" -d3s "$@" "$base$path" >/dev/null
  wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency "$@" "$base$path" \
    | awk -v name="$name" '
        /Requests\/sec/ { rps = $2 }
        /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
        /Non-2xx/ { errors = $NF }
        /Socket errors/ { timeouts = $NF }
        END { printf "%-30s %9s req/s   p50 %9s   p99 %9s   non-2xx %d   timeouts %d\n", name, rps, p50, p99, errors, timeouts }'
}
echo "$incidents incidents, $connections connections, ${seconds}s each:"
run "/healthz (reference)" /healthz
run "API  per_page=50 page=1" "/api/v1/incidents?per_page=50" -H "Authorization: Bearer $token"
run "API  per_page=50 page=1000" "/api/v1/incidents?per_page=50&page=1000" -H "Authorization: Bearer $token"
run "HTML page=1" "/incidents" -H "Cookie: $cookies"
run "HTML page=1000" "/incidents?page=1000" -H "Cookie: $cookies"
