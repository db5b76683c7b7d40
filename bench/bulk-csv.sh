#!/usr/bin/env bash
# bench/bulk-csv.sh PORT OUT: one Bulk queryAll job over the 30 Account fields of
# bench/rest.sh against a running `sfsync emulate`, results concatenated into OUT.
# Then: go run ./bench/readcsv OUT /tmp/ceiling.duckdb
set -euo pipefail
PORT=$1; OUT=$2
B=http://127.0.0.1:$PORT
TOKEN=$(curl -s $B/services/oauth2/token -d grant_type=password -d client_id=sfsync-emulator -d client_secret=emulator-secret -d username=admin@emulator.example -d password=emulator-password | jq -r .access_token)
Q="SELECT Id, IsDeleted, MasterRecordId, Name, Type, ParentId, BillingStreet, BillingCity, BillingState, BillingPostalCode, BillingCountry, Phone, Website, Industry, AnnualRevenue, NumberOfEmployees, Ownership, Description, Rating, OwnerId, CreatedDate, CreatedById, LastModifiedDate, LastModifiedById, SystemModstamp, Region__c, Segments__c, Customer_Since__c, Health_Score__c, Active__c FROM Account"
JOB=$(curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' $B/services/data/v62.0/jobs/query -d "{\"operation\":\"queryAll\",\"query\":\"$Q\"}" | jq -r .id)
for _ in $(seq 1 100); do
  S=$(curl -s -H "Authorization: Bearer $TOKEN" $B/services/data/v62.0/jobs/query/$JOB | jq -r .state)
  [ "$S" = JobComplete ] && break; sleep 0.3
done
: > "$OUT"; LOC=""; first=1
while :; do
  URL="$B/services/data/v62.0/jobs/query/$JOB/results?maxRecords=100000"
  [ -n "$LOC" ] && URL="$URL&locator=$LOC"
  curl -s -D /tmp/hdr -H "Authorization: Bearer $TOKEN" "$URL" > /tmp/page.csv
  if [ $first = 1 ]; then cat /tmp/page.csv >> "$OUT"; first=0; else tail -n +2 /tmp/page.csv >> "$OUT"; fi
  LOC=$(grep -i '^sforce-locator:' /tmp/hdr | tr -d '\r' | awk '{print $2}')
  [ "$LOC" = null ] && break
done
