#!/usr/bin/env bash
# The README's quick start as one script: create a table and a recipe, import a 10,000-row CSV with
# 40 bad rows (ROWS sets the size: every 250th row is bad), wait for it, and show the counts, the
# first failures and a few records.
# Needs the local stack running (`make run`); API and KEY default to what it prints.
set -euo pipefail
API=${API:-http://127.0.0.1:3000/v1}
KEY=${KEY:-dev-key}
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
json() { "$PYTHON" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
auth=(-H "Authorization: Bearer $KEY")

ROWS=${ROWS:-10000}
SAMPLE=/tmp/contacts-$ROWS.csv
"$PYTHON" examples/make_sample.py "$ROWS" "$SAMPLE"

echo "== create the table and the recipe"
curl -sS -X POST "$API/tables" "${auth[@]}" -H 'Content-Type: application/json' -d @examples/contacts-table.json | json 'd["data"]["key"] if "data" in d else d["error"]["code"]'
RECIPE=$(curl -sS -X POST "$API/recipes" "${auth[@]}" -H 'Content-Type: application/json' -d @examples/contacts-recipe.json | json 'd["data"]["id"]')
echo "recipe $RECIPE"

echo "== import the file (multipart: one call for a small file)"
IMPORT=$(curl -sS -X POST "$API/imports" "${auth[@]}" -F recipe_id="$RECIPE" -F file=@"$SAMPLE" | json 'd["data"]["id"]')
echo "import $IMPORT"

echo "== watch it"
while true; do
  STATE=$(curl -sS "$API/imports/$IMPORT" "${auth[@]}")
  STATUS=$(echo "$STATE" | json 'd["data"]["status"]')
  echo "$STATE" | json '"{status} {progress}% total={total_count} processed={processed_count} ok={success_count} failed={fail_count}".format(**d["data"])'
  case "$STATUS" in completed|completed_with_errors|failed|cancelled) break;; esac
  sleep 1
done

echo "== the first failures"
curl -sS "$API/imports/$IMPORT/failures?per_page=6" "${auth[@]}" | json '"\n".join("row {row} (line {source_line}) {field}: {code} {message}".format(**f) for f in d["data"]) + "\n... {} in all".format(d["meta"]["total"])'

echo "== a few records"
curl -sS "$API/tables/contacts/records?per_page=3" "${auth[@]}" | json '"\n".join(str(r["data"]) for r in d["data"]) + "\n... {} records in the table".format(d["meta"]["total"])'
