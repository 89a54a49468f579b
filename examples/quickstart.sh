#!/usr/bin/env bash
# The README's quick start as one script: create a table and a recipe, import a 10,000-row CSV with
# 40 bad rows (ROWS sets the size: every 250th row is bad), wait for it, and show the counts, the
# first failures and a few records.
# Needs the local stack running (`make run`); API and KEY default to what it prints. The table is
# examples/contacts-table.json under the key TABLE (default quickstart), so the script does not
# collide with the CLI tour's `contacts`; a table key is taken once, so a second run needs another.
set -euo pipefail
API=${API:-http://127.0.0.1:3000/v1}
KEY=${KEY:-dev-key}
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
json() { "$PYTHON" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
auth=(-H "Authorization: Bearer $KEY")

ROWS=${ROWS:-10000}
TABLE=${TABLE:-quickstart}
SAMPLE=/tmp/contacts-$ROWS.csv
"$PYTHON" examples/make_sample.py "$ROWS" "$SAMPLE"

# The example's table and recipe, with the table's key set to $TABLE.
keyed() { "$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1], encoding="utf-8")); d[sys.argv[2]]=sys.argv[3]; print(json.dumps(d, ensure_ascii=False))' "$@"; }

echo "== create the table $TABLE and its recipe"
CREATED=$(curl -sS -X POST "$API/tables" "${auth[@]}" -H 'Content-Type: application/json' -d "$(keyed examples/contacts-table.json key "$TABLE")" | json 'd["data"]["key"] if "data" in d else d["error"]["code"]')
if [ "$CREATED" != "$TABLE" ]; then
  echo "$CREATED: table $TABLE was not created. On a stack where it exists already, run again with another key: TABLE=${TABLE}_2 bash examples/quickstart.sh" >&2
  exit 1
fi
RECIPE=$(curl -sS -X POST "$API/recipes" "${auth[@]}" -H 'Content-Type: application/json' -d "$(keyed examples/contacts-recipe.json table "$TABLE")" | json 'd["data"]["id"]')
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
curl -sS "$API/tables/$TABLE/records?per_page=3" "${auth[@]}" | json '"\n".join(str(r["data"]) for r in d["data"]) + "\n... {} records in the table".format(d["meta"]["total"])'
