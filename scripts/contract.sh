#!/usr/bin/env bash
# Contract fuzzing, on a fresh database: the app's own OpenAPI document is
# checked against the OpenAPI 3.1 specification (openapi-spec-validator),
# then schemathesis reads it and sends generated requests, valid and
# invalid, to every call of /api/v1 with an admin's token (both tools from
# PyPI, in a venv under target/). Passes with a valid document, no server
# error and no response outside its schema.
#
#   scripts/contract.sh [examples per operation=25]
#
# CONTRACT_BIN=path/to/debrief tests another build; CONTRACT_PORT picks the
# port; CONTRACT_KEEP=1 keeps the database.
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-25}
server=${CONTRACT_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
database="debrief_contract_$$"
port=${CONTRACT_PORT:-3911}
base="http://127.0.0.1:$port"
venv=target/contract-venv
report=target/contract-report

[ -x "$venv/bin/schemathesis" ] && [ -x "$venv/bin/openapi-spec-validator" ] \
  || { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet schemathesis openapi-spec-validator; }
bin=${CONTRACT_BIN:-target/debug/debrief}
[ -n "${CONTRACT_BIN:-}" ] || cargo build --quiet

data_dir=$(mktemp -d)
export DATABASE_URL="$server/$database" DEBRIEF_BIND="127.0.0.1:$port" DEBRIEF_DATA_DIR="$data_dir" RUST_LOG=${CONTRACT_RUST_LOG:-warn}
cleanup() {
  [ -n "${app:-}" ] && kill "$app" 2>/dev/null && wait "$app" 2>/dev/null
  [ -n "${CONTRACT_KEEP:-}" ] || psql "$server/postgres" -qc "drop database if exists $database with (force)" >/dev/null 2>&1 || true
  rm -rf "$data_dir" .schemathesis  # its cache, left in the working directory
}
trap cleanup EXIT

"$bin" migrate >/dev/null
printf '%s\n' "contract password, long enough" \
  | "$bin" user create --email contract@example.com --name "Contract Fuzzer" --role admin >/dev/null
token=$("$bin" token create --email contract@example.com --name contract 2>/dev/null | tail -n 1)
"$bin" serve >"$report.server.log" 2>&1 &
app=$!
for _ in $(seq 100); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
# Something to find: one incident, so reads by reference reach real rows.
curl -fsS -X POST "$base/api/v1/incidents" -H "Authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"title":"Checkout 5xx","severity":"SEV2","started_at":"2026-11-20T14:00:00Z"}' >/dev/null

rm -rf "$report" && mkdir -p "$report"
# First, the document itself against the OpenAPI 3.1 specification.
curl -fsS "$base/api/v1/openapi.json" >"$report/openapi.json"
"$venv/bin/openapi-spec-validator" --schema 3.1.0 "$report/openapi.json"
status=0
"$venv/bin/schemathesis" run "$base/api/v1/openapi.json" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "$examples" --phases examples,coverage,fuzzing --seed 1 \
  --generation-database none --no-color \
  --report junit --report-junit-path "$report/junit.xml" \
  --report ndjson --report-ndjson-path "$report/events.ndjson" \
  | tee "$report/output.txt" || status=$?

# The figures: the cases sent and what the server answered them.
python3 - "$report/events.ndjson" "$report.server.log" <<'PY'
import json, sys
cases = server_errors = 0
for line in open(sys.argv[1]):
    event = json.loads(line)
    for key in ("ScenarioFinished",):
        finished = event.get(key)
        if finished:
            for case in (finished.get("recorder") or {}).get("interactions", {}).values():
                cases += 1
                response = case.get("response") or {}
                if (response.get("status_code") or 0) >= 500:
                    server_errors += 1
print(f"cases sent: {cases}; 5xx answers: {server_errors}")
PY
echo "server log errors: $(grep -c 'ERROR' "$report.server.log" || true)"
exit $status
