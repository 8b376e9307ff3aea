#!/usr/bin/env bash
# Measures the incident page with 200 timeline events under 50 concurrent
# clients, as the server sees it (run by hand; needs wrk and the local
# PostgreSQL). Prints wrk's latency distribution.
#
#   benches/incident_page.sh [events=200] [connections=50] [seconds=20]
#
# BENCH_EDIT_EVERY=0.5 adds a timeline event every half second during the
# run, as a scribe would during a review meeting: each edit retires the
# kept page, so the next view renders it again.
#
# BENCH_BIN=path/to/debrief measures another build (say, an older commit's).
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-200}
connections=${2:-50}
seconds=${3:-20}
server=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
database=debrief_bench_page
port=${BENCH_PORT:-3901}
base="http://127.0.0.1:$port"
password="bench password, long enough"

command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)"; exit 1; }
bin=${BENCH_BIN:-target/release/debrief}
[ -n "${BENCH_BIN:-}" ] || cargo build --release --quiet
psql "$server/postgres" -qc "drop database if exists $database with (force)" >/dev/null
export DATABASE_URL="$server/$database${BENCH_DATABASE_PARAMS:-}" DEBRIEF_BIND="127.0.0.1:$port" RUST_LOG=${BENCH_RUST_LOG:-warn}
"$bin" migrate >/dev/null
printf '%s\n' "$password" | "$bin" user create --email bench@example.com --name "Bench Editor" --role editor >/dev/null
token=$("$bin" token create --email bench@example.com --name bench 2>/dev/null)

"$bin" serve &
server_pid=$!
trap 'kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

api() { curl -sf -H "Authorization: Bearer $token" -H 'content-type: application/json' "$@"; }
incident=$(api -X POST "$base/api/v1/incidents" \
  -d '{"title":"Checkout 5xx: goroutine leak in the payment client","severity":"SEV2","started_at":"2026-11-20T14:00:00Z","summary":"Checkout answered **5xx** for 47 minutes."}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
for i in $(seq 1 "$events"); do
  minute=$((i % 60)); hour=$((14 + i / 60))
  api -X POST "$base/api/v1/incidents/$incident/timeline" \
    -d "{\"occurred_at\":\"2026-11-20T$(printf %02d $hour):$(printf %02d $minute):00Z\",\"kind\":\"observation\",\"body\":\"Goroutines at **$((300 + i * 50))**, p99 at $((i * 10)) ms; see \`net/http.(*persistConn).readLoop\`.\"}" >/dev/null
done

# A signed-in browser's session cookie.
jar=$(mktemp)
csrf=$(curl -s -c "$jar" -b "$jar" "$base/login" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"$//')
curl -s -o /dev/null -c "$jar" -b "$jar" "$base/login" --data-urlencode "csrf_token=$csrf" \
  --data-urlencode "email=bench@example.com" --data-urlencode "password=$password"
cookie=$(awk '$6 == "debrief_session" { print $7 }' "$jar")
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: debrief_session=$cookie" "$base/incidents/INC-1")
[ "$status" = 200 ] || { echo "the incident page answered $status"; exit 1; }

path=${BENCH_PATH:-/incidents/INC-1}
echo "$path, incident with $events timeline events, $connections connections, ${seconds}s:"
[ -n "${BENCH_BEFORE_LOAD:-}" ] && eval "$BENCH_BEFORE_LOAD"
threads=$(( connections < 2 ? 1 : 2 ))
# Warm up first: the pool's connections open and the page is rendered once.
wrk -t"$threads" -c"$connections" -d3s -H "Cookie: debrief_session=$cookie" "$base$path" >/dev/null
if [ -n "${BENCH_EDIT_EVERY:-}" ]; then
  (
    while sleep "$BENCH_EDIT_EVERY"; do
      api -X POST "$base/api/v1/incidents/$incident/timeline" \
        -d '{"occurred_at":"2026-11-20T17:30:00Z","kind":"communication","body":"Status page updated."}' >/dev/null
    done
  ) &
  editor_pid=$!
  trap 'kill $editor_pid $server_pid 2>/dev/null; wait $server_pid 2>/dev/null || true' EXIT
fi
wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency -H "Cookie: debrief_session=$cookie" "$base$path"
