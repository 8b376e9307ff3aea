#!/usr/bin/env bash
# The insights on a large database, as the server sees them (run by hand;
# needs wrk, psql and curl, and the local PostgreSQL). Uses the database
# benches/demo_generate.sh leaves (`debrief_bench_demo`, 100,000 incidents;
# made here when missing), then:
#
#   1. the figures computed afresh (the plain queries, no kept figures),
#      for the default range and a few filters;
#   2. the page and the API under wrk with C connections, beside the
#      trivial `/healthz`: the default range, then eight filter sets round
#      robin (kept figures, the common case: nothing changed);
#   3. the page again while a write lands every second (each write makes
#      the next request compute the figures again).
#
# Target: the page's p99 under 200 ms at 8 connections.
#
#   benches/insights.sh [connections=8] [seconds=15]
#
# BENCH_BIN=path/to/debrief measures another build.
set -euo pipefail
cd "$(dirname "$0")/.."
connections=${1:-8}
seconds=${2:-15}
server=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
database=debrief_bench_demo
port=${BENCH_PORT:-3907}
base="http://127.0.0.1:$port"
password="bench password, long enough"

for tool in wrk psql curl; do
  command -v "$tool" >/dev/null || { echo "$tool is needed"; exit 1; }
done
bin=${BENCH_BIN:-target/release/debrief}
[ -n "${BENCH_BIN:-}" ] || cargo build --release --quiet
if ! psql "$server/$database" -Atc "select 1 from incident limit 1" >/dev/null 2>&1; then
  benches/demo_generate.sh 100000
fi

export DATABASE_URL="$server/$database" DEBRIEF_BIND="127.0.0.1:$port" RUST_LOG=${BENCH_RUST_LOG:-warn}
"$bin" migrate >/dev/null
psql "$server/$database" -qc "vacuum (analyze) action_item" >/dev/null
psql "$server/$database" -Atc "select count(*) || ' incidents, ' || (select count(*) from action_item) || ' action items, '
  || (select count(*) from cause) || ' causes' from incident"
if ! psql "$server/$database" -Atc "select 1 from app_user where email = 'bench-insights@example.com'" | grep -q 1; then
  printf '%s\n' "$password" | "$bin" user create --email bench-insights@example.com --name "Bench Reader" --role viewer >/dev/null
fi
token=$("$bin" token create --email bench-insights@example.com --name "bench $(date +%s)" 2>/dev/null | tail -n 1)

work=$(mktemp -d)
"$bin" serve 2>"$work/server.log" &
server_pid=$!
writer_pid=""
cleanup() {
  [ -z "$writer_pid" ] || kill "$writer_pid" 2>/dev/null || true
  kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

jar="$work/jar"
csrf=$(curl -s -c "$jar" -b "$jar" "$base/login" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"$//')
curl -s -o /dev/null -c "$jar" -b "$jar" "$base/login" --data-urlencode "csrf_token=$csrf" \
  --data-urlencode "email=bench-insights@example.com" --data-urlencode "password=$password"
cookies=$(awk '(/^#HttpOnly_/ || !/^#/) && NF >= 7 { printf "%s%s=%s", sep, $6, $7; sep="; " }' "$jar")
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookies" "$base/insights")
[ "$status" = 200 ] || { echo "/insights answered $status"; exit 1; }

# Filter sets a team would look at; dates relative to today, as the data is.
year_ago=$(date -u -d '-1 year' +%Y-%m-%d)
quarter_ago=$(date -u -d '-3 months' +%Y-%m-%d)
two_years_ago=$(date -u -d '-2 years' +%Y-%m-01)
filters=(
  "" "severity=SEV1" "service=checkout" "cause=goroutine+leak" "service=payments&severity=SEV2"
  "from=$quarter_ago" "from=$two_years_ago" "from=$year_ago&cause=missing+timeout"
)

# 1. Computed afresh: figures nobody asked for yet (each request ends its
# range on another day, so nothing kept serves it), which a request waits for.
echo
echo "figures computed afresh (the plain queries), 5 requests each, ms:"
for f in "${filters[@]}"; do
  times=()
  for days in 1 2 3 4 5; do
    to=$(date -u -d "-$days days" +%Y-%m-%d)
    times+=("$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" "$base/api/v1/insights?$f&to=$to")")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v name="${f:-(the last 12 months)}" '
    { v[NR] = $1 * 1000 } END { printf "  %-44s median %6.1f   max %6.1f\n", name, v[3], v[5] }'
done

threads=$(( connections < 2 ? 1 : 2 ))
lua() { # prefix -> a wrk script, round robin over the filter sets
  local prefix=$1 file="$work/rr-$RANDOM.lua"
  {
    echo "local paths = {"
    for f in "${filters[@]}"; do echo "  \"$prefix$f\","; done
    echo "}"
    echo "local i = 0"
    echo "request = function() i = i % #paths + 1; return wrk.format(nil, paths[i]) end"
  } >"$file"
  echo "$file"
}
run() { # name, path, wrk options...
  local name=$1 path=$2; shift 2
  wrk -t"$threads" -c"$connections" -d3s "$@" "$base$path" >/dev/null
  wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency "$@" "$base$path" \
    | awk -v name="$name" '
        /Requests\/sec/ { rps = $2 }
        /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
        /Non-2xx/ { errors = $NF }
        END { printf "  %-36s %9s req/s   p50 %9s   p99 %9s   non-2xx %d\n", name, rps, p50, p99, errors }'
}

# 2. Under load, nothing changing.
echo
echo "$connections connections, ${seconds} s each:"
run "GET /healthz (reference)" /healthz
run "GET /insights (HTML)" /insights -H "Cookie: $cookies"
run "GET /api/v1/insights" /api/v1/insights -H "Authorization: Bearer $token"
run "GET /insights, 8 filter sets" / -s "$(lua "/insights?")" -H "Cookie: $cookies"
run "GET /api/v1/insights, 8 filter sets" / -s "$(lua "/api/v1/insights?")" -H "Authorization: Bearer $token"

# 3. Under load, a write every second: any write moves the change counter.
bump() { psql "$server/$database" -qAtc "select nextval('insights_change')" >/dev/null; }
echo
echo "$connections connections, ${seconds} s each, a write every second:"
( while true; do bump; sleep 1; done ) &
writer_pid=$!
run "GET /insights (HTML)" /insights -H "Cookie: $cookies"
run "GET /insights, 8 filter sets" / -s "$(lua "/insights?")" -H "Cookie: $cookies"
