#!/usr/bin/env bash
# REST benchmark: initial sync of N Accounts from the emulator (a separate
# process) into DuckDB (30 fields of Account), then an incremental run after
# 10,000 changes. BULK_THRESHOLD=1 extracts through Bulk API 2.0 instead of
# REST. MEMORY_LIMIT (e.g. 128MB; sfsync's default is 256MB), THREADS and
# BATCH_ROWS tune the run.
# WAREHOUSE=postgres syncs into a new PostgreSQL database instead: PG_DSN
# names the server's maintenance database (default: the local server); the
# benchmark creates sfsync_bench_<pid> there and drops it at the end (the
# server's memory is not in the peak RSS).
# Prints one markdown table row per run. Usage: bench/rest.sh [N] [CHANGES]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
CHANGES=${2:-10000}
PORT=${PORT:-18080}
WAREHOUSE=${WAREHOUSE:-duckdb}
work=$(mktemp -d)
dsn=
cleanup() {
  kill "$emu_pid" 2>/dev/null || true
  [ -z "$dsn" ] || psql -q "$PG_DSN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$WAREHOUSE" = postgres ]; then
  PG_DSN=${PG_DSN:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
  DB=sfsync_bench_$$
  psql -q "$PG_DSN" -c "CREATE DATABASE $DB" >/dev/null
  dsn=$(sed -E "s#/[^/?]*(\?|$)#/$DB\1#" <<<"$PG_DSN")
  warehouse="  type: postgres
  dsn: \${SFSYNC_BENCH_DSN}"
else
  warehouse="  path: $work/bench.duckdb${MEMORY_LIMIT:+
  memory_limit: $MEMORY_LIMIT}${THREADS:+
  threads: $THREADS}"
fi

go build -o "$work/sfsync" ./cmd/sfsync
"$work/sfsync" emulate --addr 127.0.0.1:$PORT --records "Account=$N,User=20" --seed 1 >"$work/emu.log" 2>&1 &
emu_pid=$!
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$PORT/services/data/" >/dev/null && break
  sleep 0.2
done

cat >"$work/sfsync.yaml" <<YAML
salesforce:
  login_url: http://127.0.0.1:$PORT
  auth: password
  client_id: sfsync-emulator
  client_secret: emulator-secret
  username: admin@emulator.example
  password: emulator-password
warehouse:
$warehouse
sync:
  lookback: 5m
  batch_rows: ${BATCH_ROWS:-100000}
  page_size: 2000
  bulk_threshold: ${BULK_THRESHOLD:-0}
objects:
  - name: Account
    fields:
      include: [Id, IsDeleted, MasterRecordId, Name, Type, ParentId, BillingStreet, BillingCity,
        BillingState, BillingPostalCode, BillingCountry, Phone, Website, Industry, AnnualRevenue,
        NumberOfEmployees, Ownership, Description, Rating, OwnerId, CreatedDate, CreatedById,
        LastModifiedDate, LastModifiedById, SystemModstamp, Region__c, Segments__c,
        Customer_Since__c, Health_Score__c, Active__c]
YAML

calls() { curl -s "http://127.0.0.1:$PORT/_emulator/stats" | jq -r '.requests // .request_count // .requestCount // 0'; }

# run LABEL: one timed `sfsync run`; prints a table row.
run() {
  local label=$1 before after
  before=$(calls)
  SFSYNC_BENCH_DSN=$dsn /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$work/sfsync" --config "$work/sfsync.yaml" run --progress none --log-level warn >"$work/run.out"
  after=$(calls)
  read -r wall user sys rss <"$work/time"
  local rows
  rows=$(awk '$1=="Account"{print $3}' "$work/run.out")
  awk -v l="$label" -v rows="$rows" -v wall="$wall" -v user="$user" -v sys="$sys" -v rss="$rss" -v c=$((after - before)) \
    'BEGIN{printf "| %s | %d | %.2f s | %.0f | %.2f s | %.0f MB | %d |\n", l, rows, wall, rows/wall, user+sys, rss/1024, c}'
}

echo "| run | records | wall | records/s | CPU | peak RSS | API calls |"
echo "|---|---|---|---|---|---|---|"
run "initial, $N Accounts"
curl -sf -X POST "http://127.0.0.1:$PORT/_emulator/update-random" -d "{\"object\":\"Account\",\"n\":$CHANGES,\"seed\":7}" >/dev/null
sleep 1.1
run "incremental, $CHANGES changed"
