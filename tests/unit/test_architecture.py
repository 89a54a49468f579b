"""The layer's architecture holds: its packages import only what the contracts in pyproject.toml
([tool.importlinter]) let them (the capabilities point down, the run engine knows no kind of run,
ingest has no AWS, only the adapters import boto3 and botocore, no cycles among a package's modules).
This runs the checker that reads them and goes by its exit code; and shows, on a copy of the layer
with one forbidden import, that the checker does catch a break."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "core"


def lint_imports(layer: Path) -> subprocess.CompletedProcess:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(layer)}
    return subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_import_contracts_are_kept():
    result = lint_imports(LAYER)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("ingest/gc.py", "import boto3", "Reading files needs no AWS"),
        ("runs/registry.py", "from bulkimport.records import writer", "The run engine needs nothing"),
        ("records/queries.py", "from bulkimport.imports import store", "The capabilities point down"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(tmp_path, module, line, contract):
    copy = tmp_path / "core"
    shutil.copytree(LAYER / "bulkimport", copy / "bulkimport", ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / "bulkimport" / module).open("a") as source:
        source.write(f"\n{line}\n")
    result = lint_imports(copy)
    assert result.returncode != 0, result.stdout[-3000:]
    broken = [row for row in result.stdout.splitlines() if row.endswith(" BROKEN")]
    assert any(row.startswith(contract) for row in broken), result.stdout[-3000:]
