#!/usr/bin/env bash
# Search on a large database, as the server sees it, beside the same SQL run
# alone by pgbench (run by hand; needs wrk, pgbench, psql and the local
# PostgreSQL). Uses the database benches/demo_generate.sh leaves
# (`debrief_bench_demo`, 100,000 incidents; made here when missing), then:
#
#   1. 20 realistic queries, round robin, through /api/v1/search and the
#      HTML results page (/incidents?q=...), under wrk with C connections;
#   2. the SQL those requests run (the page of hits and its snippets), alone,
#      under pgbench with the same connections, picking among the 20;
#   3. the export of the largest incident, ten times.
#
# Target: search p99 under 50 ms through HTTP and within 1.5x the SQL alone.
#
#   benches/search.sh [connections=32] [seconds=15]
#
# BENCH_BIN=path/to/debrief measures another build.
set -euo pipefail
cd "$(dirname "$0")/.."
connections=${1:-32}
seconds=${2:-15}
server=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
database=debrief_bench_demo
port=${BENCH_PORT:-3906}
base="http://127.0.0.1:$port"
password="bench password, long enough"

for tool in wrk pgbench psql curl; do
  command -v "$tool" >/dev/null || { echo "$tool is needed"; exit 1; }
done
bin=${BENCH_BIN:-target/release/debrief}
[ -n "${BENCH_BIN:-}" ] || cargo build --release --quiet
if ! psql "$server/$database" -Atc "select 1 from incident limit 1" >/dev/null 2>&1; then
  benches/demo_generate.sh 100000
fi
export DATABASE_URL="$server/$database" DEBRIEF_BIND="127.0.0.1:$port" RUST_LOG=${BENCH_RUST_LOG:-warn}
export DEBRIEF_DB_MAX_CONNECTIONS=${BENCH_DB_CONNECTIONS:-16}
"$bin" migrate >/dev/null
psql "$server/$database" -qc "vacuum (analyze) incident_search" >/dev/null
psql "$server/$database" -Atc "select count(*) || ' incidents, search index ' || pg_size_pretty(pg_total_relation_size('incident_search')) from incident"
if ! psql "$server/$database" -Atc "select 1 from app_user where email = 'bench-search@example.com'" | grep -q 1; then
  printf '%s\n' "$password" | "$bin" user create --email bench-search@example.com --name "Bench Searcher" --role viewer >/dev/null
fi
token=$("$bin" token create --email bench-search@example.com --name "bench $(date +%s)" 2>/dev/null)

# Twenty queries a team would type: single words common and rare, phrases,
# exclusions, or, a typo, and filters.
queries=(
  "q=timeout" "q=goroutine+leak" "q=%22connection+pool%22" "q=deadlock+-redis" "q=panic+or+fatal"
  "q=checkout" "q=persistConn" "q=memory+leak+heap" "q=tls+handshake" "q=dns"
  "q=retry+storm" "q=context+deadline+exceeded" "q=mutex+contention" "q=gorutine" "q=oom"
  "q=timeout&severity=SEV1" "q=leak&service=checkout" "q=rollback&status=published"
  "q=deploy&from=2026-01-01&to=2026-06-30" "q=http+client&sort=newest"
)

log=$(mktemp); echo "server log: $log"
"$bin" serve 2>"$log" &
server_pid=$!
work=$(mktemp -d)
trap 'kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

jar="$work/jar"
csrf=$(curl -s -c "$jar" -b "$jar" "$base/login" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"$//')
curl -s -o /dev/null -c "$jar" -b "$jar" "$base/login" --data-urlencode "csrf_token=$csrf" \
  --data-urlencode "email=bench-search@example.com" --data-urlencode "password=$password"
cookies=$(awk '(/^#HttpOnly_/ || !/^#/) && NF >= 7 { printf "%s%s=%s", sep, $6, $7; sep="; " }' "$jar")
for q in "${queries[@]}"; do
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$base/api/v1/search?$q")
  [ "$status" = 200 ] || { echo "/api/v1/search?$q answered $status"; exit 1; }
done

# wrk, round robin over the queries under one prefix.
lua() { # prefix -> a wrk script
  local prefix=$1 file="$work/rr-$RANDOM.lua"
  {
    echo "local paths = {"
    for q in "${queries[@]}"; do echo "  \"$prefix$q\","; done
    echo "}"
    echo "local i = 0"
    echo "request = function() i = i % #paths + 1; return wrk.format(nil, paths[i]) end"
  } >"$file"
  echo "$file"
}
threads=$(( connections < 2 ? 1 : 2 ))
run() { # name, prefix, headers...
  local name=$1 prefix=$2; shift 2
  local script; script=$(lua "$prefix")
  wrk -t"$threads" -c"$connections" -d3s -s "$script" "$@" "$base" >/dev/null
  wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency -s "$script" "$@" "$base" \
    | awk -v name="$name" '
        /Requests\/sec/ { rps = $2 }
        /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
        /Non-2xx/ { errors = $NF }
        END { printf "%-34s %10s req/s   p50 %9s   p99 %9s   non-2xx %s\n", name, rps, p50, p99, errors ? errors : 0 }'
}

echo
echo "$connections connections, ${seconds} s each, the 20 queries round robin"
run "GET /healthz (reference)" "/healthz?" 
run "GET /api/v1/search" "/api/v1/search?" -H "Authorization: Bearer $token"
run "GET /incidents?q= (HTML)" "/incidents?" -H "Cookie: $cookies"

# The same SQL alone: each query's page of hits and its snippets, as the
# app sends them (websearch_to_tsquery, rank, count, then ts_headline).
columns="id, number, title, severity, status, services, tags, started_at, detected_at, mitigated_at, resolved_at, version, created_by, created_at, updated_at"
files=()
for q in "${queries[@]}"; do
  text=$(printf '%s' "$q" | sed -E 's/^q=//; s/&.*//; s/\+/ /g; s/%22/"/g' | sed "s/'/''/g")
  file="$work/q$((${#files[@]} + 1)).sql"
  cat >"$file" <<SQL
with hits as (
  select $columns, ts_rank(s.document, query) as score, count(*) over () as total
    from incident i join incident_search s on s.incident_id = i.id, websearch_to_tsquery('english', '$text') query
   where s.document @@ query order by score desc, i.started_at desc, i.number desc limit 20)
select s.incident_id, ts_headline('english', s.body, websearch_to_tsquery('english', '$text'),
         'MaxFragments=2, MaxWords=24, MinWords=8')
  from incident_search s where s.incident_id in (select id from hits);
SQL
  files+=(-f "$file@1")
done
(cd "$work" && pgbench -n -c "$connections" -j "$threads" -T "$seconds" -l --log-prefix=pg "${files[@]}" "$server/$database" >"$work/pgbench.out" 2>&1) || { cat "$work/pgbench.out"; exit 1; }
cat "$work"/pg* 2>/dev/null | awk '{ print $3 }' | sort -n | awk -v name="the same SQL alone (pgbench)" '
  { v[NR] = $1 } END { printf "%-34s %10.0f tx/s    p50 %7.2fms   p99 %7.2fms\n", name, NR / '"$seconds"', v[int(NR * 0.5)] / 1000, v[int(NR * 0.99)] / 1000 }'

echo
largest=$(psql "$server/$database" -Atc "select i.id from incident i join incident_search s on s.incident_id = i.id order by length(s.body) desc limit 1")
times=()
for _ in $(seq 1 10); do
  times+=("$(curl -s -o "$work/report.md" -w '%{time_total}' -H "Authorization: Bearer $token" "$base/api/v1/incidents/$largest/export.md")")
done
printf '%s\n' "${times[@]}" | sort -n | awk -v size="$(stat -c %s "$work/report.md")" '
  { v[NR] = $1 } END { printf "export of the largest incident (%d bytes): median %.1f ms, max %.1f ms\n", size, v[int((NR + 1) / 2)] * 1000, v[NR] * 1000 }'
