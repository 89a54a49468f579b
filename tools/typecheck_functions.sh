#!/usr/bin/env bash
# mypy over every function: each functions/<name>/ is its own Lambda code root (every one has an
# app.py), so each is checked on its own, with the layer on the path (pyproject.toml's mypy_path).
set -euo pipefail
cd "$(dirname "$0")/.."
MYPY=${MYPY:-.venv/bin/mypy}
status=0
for dir in functions/*/; do
    MYPYPATH="$dir" "$MYPY" "$dir/app.py" || status=1
done
exit $status
