#!/usr/bin/env bash
# What hostile text costs the server (run by hand; needs the local
# PostgreSQL, curl and python3): the history page comparing two revisions of
# a section with 49,000 lines, two such readers at once while /healthz is
# asked every 50 ms, and Markdown nested 50,000 deep, sent to be saved and
# (written straight into the database, as an older version could have left
# it) shown on the incident page. Reference: /healthz on the idle server.
#
#   benches/hostile_text.sh
#
# BENCH_BIN=path/to/debrief measures another build (say, an older commit's).
set -euo pipefail
cd "$(dirname "$0")/.."
server=${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
database=debrief_bench_hostile
port=${BENCH_PORT:-3905}
base="http://127.0.0.1:$port"
password="bench password, long enough"

bin=${BENCH_BIN:-target/release/debrief}
[ -n "${BENCH_BIN:-}" ] || cargo build --release --quiet
psql "$server/postgres" -qc "drop database if exists $database with (force)" >/dev/null
export DATABASE_URL="$server/$database" DEBRIEF_BIND="127.0.0.1:$port" RUST_LOG=${BENCH_RUST_LOG:-error}
export DEBRIEF_REQUEST_TIMEOUT_SECS=${DEBRIEF_REQUEST_TIMEOUT_SECS:-120}
"$bin" migrate >/dev/null
printf '%s\n' "$password" | "$bin" user create --email bench@example.com --name "Bench Editor" --role editor >/dev/null
token=$("$bin" token create --email bench@example.com --name bench 2>/dev/null)
log=$(mktemp); echo "server log: $log"
"$bin" serve 2>"$log" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

jar=$(mktemp)
csrf=$(curl -s -c "$jar" -b "$jar" "$base/login" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"$//')
curl -s -o /dev/null -c "$jar" -b "$jar" "$base/login" --data-urlencode "csrf_token=$csrf" \
  --data-urlencode "email=bench@example.com" --data-urlencode "password=$password"

export BASE=$base TOKEN=$token JAR=$jar
python3 - <<'PY'
import http.cookiejar, json, os, statistics, threading, time, urllib.error, urllib.request
base, token = os.environ["BASE"], os.environ["TOKEN"]
jar = http.cookiejar.MozillaCookieJar(os.environ["JAR"]); jar.load(ignore_discard=True, ignore_expires=True)
browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

def api(method, path, body):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as err:
        return err.code, None

def timed_get(path):
    started = time.monotonic()
    try:
        with browser.open(base + path, timeout=300) as response:
            response.read(); status = response.status
    except urllib.error.HTTPError as err:
        status = err.code
    return status, time.monotonic() - started

def probe_healthz(stop, latencies):
    while not stop.is_set():
        started = time.monotonic()
        urllib.request.urlopen(base + "/healthz", timeout=300).read()
        latencies.append(time.monotonic() - started)
        time.sleep(0.05)

def under_load(work):
    stop, latencies = threading.Event(), []
    prober = threading.Thread(target=probe_healthz, args=(stop, latencies)); prober.start()
    result = work()
    stop.set(); prober.join()
    return result, max(latencies), statistics.median(latencies)

idle = []
for _ in range(20):
    started = time.monotonic(); urllib.request.urlopen(base + "/healthz").read(); idle.append(time.monotonic() - started)
print(f"/healthz on the idle server (reference): median {statistics.median(idle) * 1000:.2f} ms, slowest {max(idle) * 1000:.2f} ms")

status, incident = api("POST", "/api/v1/incidents", {"title": "Hostile text", "severity": "SEV3", "started_at": "2026-11-20T14:00:00Z"})
# Every line changed: the worst case for finding the smallest diff.
first, second = "a\n" * 49_000, "b\n" * 49_000
api("PATCH", f"/api/v1/incidents/{incident['id']}", {"version": 1, "summary": first})
api("PATCH", f"/api/v1/incidents/{incident['id']}", {"version": 2, "summary": second})
(status, secs), worst, median = under_load(lambda: timed_get("/incidents/INC-1/history"))
print(f"history, two 49,000-line revisions: {status} in {secs:.2f} s; /healthz meanwhile: median {median * 1000:.1f} ms, slowest {worst * 1000:.1f} ms")
def two_readers():
    results = []
    readers = [threading.Thread(target=lambda: results.append(timed_get("/incidents/INC-1/history"))) for _ in range(2)]
    for reader in readers: reader.start()
    for reader in readers: reader.join()
    return results
results, worst, median = under_load(two_readers)
print(f"history, two readers at once: {', '.join(f'{s} in {t:.2f} s' for s, t in results)}; /healthz meanwhile: median {median * 1000:.1f} ms, slowest {worst * 1000:.1f} ms")

# Just under the line cap: compared line by line, within the time budget.
api("PATCH", f"/api/v1/incidents/{incident['id']}", {"version": 3, "summary": "a\n" * 19_000})
api("PATCH", f"/api/v1/incidents/{incident['id']}", {"version": 4, "summary": "b\n" * 19_000})
(status, secs), worst, median = under_load(lambda: timed_get("/incidents/INC-1/history"))
print(f"history, two 19,000-line revisions (under the cap): {status} in {secs:.2f} s; /healthz meanwhile: median {median * 1000:.1f} ms, slowest {worst * 1000:.1f} ms")

nested = ">" * 50_000 + " x"
started = time.monotonic()
status, _ = api("PATCH", f"/api/v1/incidents/{incident['id']}", {"version": 5, "summary": nested})
print(f"saving a summary nested 50,000 deep: {status} in {(time.monotonic() - started) * 1000:.0f} ms")
open(os.environ["JAR"] + ".sql", "w").write(f"update incident set summary = repeat('>', 50000) || ' x' where id = '{incident['id']}'")
PY
psql "$server/$database" -qf "$jar.sql"
python3 - <<'PY'
import http.cookiejar, os, statistics, threading, time, urllib.request
base = os.environ["BASE"]
jar = http.cookiejar.MozillaCookieJar(os.environ["JAR"]); jar.load(ignore_discard=True, ignore_expires=True)
browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
for view in ("first", "second"):
    started = time.monotonic()
    with browser.open(base + "/incidents/INC-1", timeout=300) as response:
        response.read(); status = response.status
    print(f"incident page with a summary nested 50,000 deep already stored, {view} view: {status} in {(time.monotonic() - started) * 1000:.0f} ms")
PY
