#!/usr/bin/env bash
# Search and export on a large database, as the server sees them, beside
# the same SQL run alone by pgbench (run by hand; needs wrk, pgbench, psql,
# curl and python3, and the local PostgreSQL with its server log readable).
# Uses the database benches/demo_generate.sh leaves (`debrief_bench_demo`,
# 100,000 incidents; made here when missing), then:
#
#   1. 20 realistic queries, round robin, through /api/v1/search and the
#      HTML results page (/incidents?q=...), under wrk with C connections,
#      beside /healthz;
#   2. the SQL those API requests send, statement for statement as the
#      server log recorded them for one run of each, replayed by pgbench
#      with the same connections;
#   3. the export of the largest incident, ten times; a zip of 1,000
#      incidents and one of all of them, each with the server's peak RSS
#      growth while it streams.
#
# Target: search p99 under 50 ms through HTTP and within 1.5x the SQL
# alone; a zip's RSS growth under 64 MiB.
#
#   benches/search.sh [connections=32] [seconds=15]
#
# BENCH_BIN=path/to/debrief measures another build; BENCH_PG_LOG names the
# server log when `pg_lsclusters` cannot find it; BENCH_KEEP=1 keeps the
# recorded SQL (request<N>.sql, one file per query) to look at.
set -euo pipefail
cd "$(dirname "$0")/.."
connections=${1:-32}
seconds=${2:-15}
server=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
database=debrief_bench_demo
port=${BENCH_PORT:-3906}
base="http://127.0.0.1:$port"
password="bench password, long enough"

for tool in wrk pgbench psql curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is needed"; exit 1; }
done
bin=${BENCH_BIN:-target/release/debrief}
[ -n "${BENCH_BIN:-}" ] || cargo build --release --quiet
if ! psql "$server/$database" -Atc "select 1 from incident limit 1" >/dev/null 2>&1; then
  benches/demo_generate.sh 100000
fi
pg_log=${BENCH_PG_LOG:-$(pg_lsclusters 2>/dev/null | awk '$3 == 5432 { print $7 }')}
[ -r "$pg_log" ] || { echo "cannot read the PostgreSQL server log ($pg_log); set BENCH_PG_LOG"; exit 1; }

export DATABASE_URL="$server/$database" DEBRIEF_BIND="127.0.0.1:$port" RUST_LOG=${BENCH_RUST_LOG:-warn}
export DEBRIEF_DB_MAX_CONNECTIONS=${BENCH_DB_CONNECTIONS:-16}
"$bin" migrate >/dev/null
psql "$server/$database" -qc "vacuum (analyze) incident_search" >/dev/null
psql "$server/$database" -Atc "select count(*) || ' incidents, search index ' || pg_size_pretty(pg_total_relation_size('incident_search')) from incident"
if ! psql "$server/$database" -Atc "select 1 from app_user where email = 'bench-search@example.com'" | grep -q 1; then
  printf '%s\n' "$password" | "$bin" user create --email bench-search@example.com --name "Bench Searcher" --role viewer >/dev/null
fi
token=$("$bin" token create --email bench-search@example.com --name "bench $(date +%s)" 2>/dev/null | tail -n 1)

# Twenty queries a team would type: single words common and rare, phrases,
# exclusions, or, typos and words no incident holds, and filters.
queries=(
  "q=timeout" "q=goroutine+leak" "q=%22connection+pool%22" "q=deadlock+-redis" "q=panic+or+fatal"
  "q=checkout" "q=persistConn" "q=memory+leak+heap" "q=tls+handshake" "q=dns"
  "q=retry+storm" "q=context+deadline+exceeded" "q=mutex+contention" "q=gorutine" "q=oom"
  "q=timeout&severity=SEV1" "q=leak&service=checkout" "q=rollback&status=published"
  "q=deploy&from=2026-01-01&to=2026-06-30" "q=http+client&sort=newest"
)

work=$(mktemp -d)
server_pid=""
start_server() {
  "$bin" serve 2>>"$work/server.log" &
  server_pid=$!
  for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && return; sleep 0.1; done
  echo "the server did not start: $work/server.log"; exit 1
}
stop_server() { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; }
cleanup() {
  stop_server
  psql "$server/postgres" -qc "alter database $database reset log_min_duration_statement" >/dev/null 2>&1 || true
  if [ -n "${BENCH_KEEP:-}" ]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# 1. The SQL of each API request, as the server log records it. Every
# statement of a new connection is logged while the setting holds; one
# warm-up run first, then one recorded run.
psql "$server/postgres" -qc "alter database $database set log_min_duration_statement = 0" >/dev/null
start_server
for q in "${queries[@]}"; do
  curl -s -o /dev/null -H "Authorization: Bearer $token" "$base/api/v1/search?$q"
done
offsets=()
for q in "${queries[@]}"; do
  offsets+=("$(stat -c %s "$pg_log")")
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$base/api/v1/search?$q")
  [ "$status" = 200 ] || { echo "/api/v1/search?$q answered $status"; exit 1; }
  sleep 0.2 # the log is written by another process
done
offsets+=("$(stat -c %s "$pg_log")")
stop_server
psql "$server/postgres" -qc "alter database $database reset log_min_duration_statement" >/dev/null
python3 - "$pg_log" "$work" "${offsets[@]}" <<'PY'
import re, sys
log, work, *offsets = sys.argv[1:]
offsets = [int(o) for o in offsets]
data = open(log, 'rb').read()
entry = re.compile(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d')
for n in range(len(offsets) - 1):
    chunk = data[offsets[n]:offsets[n + 1]].decode('utf-8', 'replace')
    records, current = [], None
    for line in chunk.split('\n'):
        if entry.match(line):
            current = [line]
            records.append(current)
        elif current is not None:
            current.append(line.lstrip('\t'))
    statements = []
    for i, record in enumerate(records):
        text = '\n'.join(record)
        m = re.search(r'duration: [0-9.]+ ms\s+(execute [^:]*|statement): (.*)', text, re.S)
        if not m:
            continue
        sql = m.group(2).strip()
        params = {}
        detail = '\n'.join(records[i + 1]) if i + 1 < len(records) else ''
        if re.search(r'DETAIL:  [Pp]arameters: ', detail):
            detail = re.split(r'[Pp]arameters: ', detail, maxsplit=1)[1]
            for name, value in re.findall(r"\$(\d+) = ((?:'(?:[^']|'')*')|NULL)", detail):
                params[int(name)] = value
        for name in sorted(params, reverse=True):
            sql = sql.replace(f'${name}', params[name])
        statements.append(sql.rstrip(';') + ';')
    with open(f'{work}/request{n + 1}.sql', 'w') as out:
        out.write('\n'.join(statements) + '\n')
PY
for n in $(seq 1 ${#queries[@]}); do
  [ -s "$work/request$n.sql" ] || { echo "no SQL recorded for ${queries[$((n - 1))]}"; exit 1; }
done
echo "SQL of one search (statements): $(cat "$work"/request*.sql | grep -c ';$') for ${#queries[@]} requests"

# 2. Load through HTTP.
start_server
jar="$work/jar"
csrf=$(curl -s -c "$jar" -b "$jar" "$base/login" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"$//')
curl -s -o /dev/null -c "$jar" -b "$jar" "$base/login" --data-urlencode "csrf_token=$csrf" \
  --data-urlencode "email=bench-search@example.com" --data-urlencode "password=$password"
cookies=$(awk '(/^#HttpOnly_/ || !/^#/) && NF >= 7 { printf "%s%s=%s", sep, $6, $7; sep="; " }' "$jar")

lua() { # prefix -> a wrk script, round robin over the queries
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

# 3. The same SQL alone.
files=()
for n in $(seq 1 ${#queries[@]}); do files+=(-f "$work/request$n.sql@1"); done
(cd "$work" && pgbench -n -c "$connections" -j "$threads" -T 3 "${files[@]}" "$server/$database" >/dev/null 2>&1) || true
(cd "$work" && pgbench -n -c "$connections" -j "$threads" -T "$seconds" -l --log-prefix=pg "${files[@]}" "$server/$database" >"$work/pgbench.out" 2>&1) \
  || { cat "$work/pgbench.out"; exit 1; }
cat "$work"/pg.* | awk '{ print $3 }' | sort -n | awk -v name="the same SQL alone (pgbench)" -v secs="$seconds" '
  { v[NR] = $1 } END { printf "%-34s %10.2f tx/s    p50 %7.2fms   p99 %7.2fms\n", name, NR / secs, v[int(NR * 0.5)] / 1000, v[int(NR * 0.99)] / 1000 }'

# 4. Exports.
echo
largest=$(psql "$server/$database" -Atc "select i.id from incident i join incident_search_text s on s.incident_id = i.id order by length(s.body) desc limit 1")
times=()
for _ in $(seq 1 10); do
  times+=("$(curl -s -o "$work/report.md" -w '%{time_total}' -H "Authorization: Bearer $token" "$base/api/v1/incidents/$largest/export.md")")
done
printf '%s\n' "${times[@]}" | sort -n | awk -v size="$(stat -c %s "$work/report.md")" '
  { v[NR] = $1 } END { printf "export of the largest incident (%d bytes): median %.1f ms, max %.1f ms\n", size, v[int((NR + 1) / 2)] * 1000, v[NR] * 1000 }'

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$server_pid/status"; }
peak() { awk '/^VmHWM/ { print $2 }' "/proc/$server_pid/status"; }
zip() { # name, query
  local name=$1 query=$2 before
  before=$(rss)
  echo 5 >"/proc/$server_pid/clear_refs" # the peak starts again from here
  curl -s -o "$work/all.zip" -w '%{time_total} %{size_download}\n' -H "Authorization: Bearer $token" \
    "$base/api/v1/export.zip?$query" >"$work/zip.out"
  local files
  files=$(python3 -c "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(len(z.namelist()))" "$work/all.zip")
  awk -v name="$name" -v files="$files" -v before="$before" -v peak="$(peak)" '
    { printf "%-28s %7d files  %6.1f MB  in %6.2f s  (%6.0f files/s)   RSS %5.1f MiB, peak growth %5.1f MiB\n",
        name, files, $2 / 1e6, $1, files / $1, before / 1024, (peak - before) / 1024 }' "$work/zip.out"
}
since=$(psql "$server/$database" -Atc "select (started_at at time zone 'UTC')::date from incident order by started_at desc offset 999 limit 1")
zip "zip of 1,000 (from $since)" "from=$since"
zip "zip of a search (q=timeout)" "q=timeout"
zip "zip of everything" ""
