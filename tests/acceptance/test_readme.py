"""The README's tours run as written, in the README's order, on one local stack started as `make run`
does (`python -m devstack`): first the web console's quick start, through the API calls its pages
make (the table its step 1 describes, Suggest on the file its step 2 writes, the recipe saved from
the suggestion, the preview and the import, whose failures must be the ones its steps name); then
every ```bash block of README.md, in order, in one bash session (so a block uses what an earlier one
set), with `set -euo pipefail`: the quick start script, the CLI tour, the curl tour, undo and batch
jobs. So each tour is shown to work after the ones before it. Only the ports differ: the stack is on
free ports, and the blocks' 127.0.0.1:3000 and :5000 are rewritten to them. A block preceded by an
HTML comment `<!-- not run by tests/acceptance/test_readme.py: why -->` is left out (starting the stack
or the suite, deploying to AWS).

The files are scaled from 10,000 rows to 2,500 (every 250th row is bad either way: the script's ROWS,
the CLI tour's make_sample.py argument), and the one figure that follows from its size, the export's
`total` of 4,960 level-A records, to 1,240: a total the README got wrong would stay wrong here and
fail the job (10,000 rows took minutes of the suite)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.helpers import Api, DevstackProcess

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"(?P<before>[^\n]*)\n```bash\n(?P<code>.*?)\n```", re.S)
CONSOLE_TOUR = "## A first import, in the web console"


def readme_blocks() -> tuple[list[str], list[str]]:
    """(blocks to run, first lines of those left out)."""
    run, skipped = [], []
    for match in BLOCK.finditer((ROOT / "README.md").read_text(encoding="utf-8")):
        if match["before"].startswith("<!-- not run by tests/acceptance/test_readme.py"):
            skipped.append(match["code"].splitlines()[0])
        else:
            run.append(match["code"])
    return run, skipped


def test_every_readme_block_is_run_or_says_why_not():
    run, skipped = readme_blocks()
    assert len(run) >= 4 and len(skipped) == 3, (len(run), skipped)


def console_tour() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split(CONSOLE_TOUR, 1)[1].split("\n## ", 1)[0]


def _names(listed: str) -> set[str]:
    """'a, b, c and d' -> {a, b, c, d}"""
    return {name.strip() for name in re.split(r",| and ", listed) if name.strip()}


def run_console_tour(api: Api, tmp_path: Path) -> None:
    """The console quick start's steps 1 to 4, as its pages call the API, checked against what the
    steps say will happen."""
    steps = console_tour()
    step1 = re.search(r"^1\. (.*?)^2\. ", steps, re.S | re.M)[1]
    fields = []
    for key, spec in re.findall(r"`(\w+)` \(([^)]*)\)", step1):
        field: dict = {"key": key, "required": "required" in spec, "unique": "unique" in spec}
        if label := re.search(r"label ([^,]+)", spec):
            field["label"] = label[1].strip()
        if kind := re.search(r"type (\w+)", spec):
            field["type"] = kind[1]
        if options := re.search(r"options `([^`]*)`", spec):
            field["options"] = [o.strip() for o in options[1].split(",")]
        fields.append(field)
    table = re.search(r"key `(\w+)`", step1)[1]
    assert len(fields) >= 4, step1
    api.create_table({"key": table, "fields": fields})

    rows, sample = re.search(r"`python3 examples/make_sample\.py (\d+) (\S+)`", steps).groups()
    sample_path = tmp_path / Path(sample).name
    subprocess.run([sys.executable, "examples/make_sample.py", rows, str(sample_path)], cwd=ROOT, check=True)
    content = sample_path.read_bytes()
    suggestion = api.ok(
        "POST", "/recipes/suggest", data={"table": table}, files={"file": (sample_path.name, content, "text/csv")}
    )["data"]
    mapped = {c["source"] for c in suggestion["columns"]}
    assert mapped == _names(re.search(r"\*\*Suggest\*\* maps (.*?) to their fields", steps, re.S)[1]), suggestion
    assert set(suggestion["unmapped_sources"]) == _names(re.search(r"leaves out (.*?) \(", steps, re.S)[1])
    recipe = api.create_recipe(
        {
            "name": "console tour",
            "table": table,
            "mode": "insert",
            "columns": [{"source": c["source"], "target": c["target"]} for c in suggestion["columns"]],
            "options": {"has_header": suggestion["options"]["has_header"]},
        }
    )

    # Preview (dry run), then the import: the failures the steps name, and nothing else.
    named = sorted((int(row), code) for row, code in re.findall(r"row (\d+) \(`(\w+)`", steps))
    would_create = int(re.search(r"(\d+) rows would be created", steps)[1])
    assert len(named) == int(rows) - would_create, named
    for dry_run in (True, False):
        done = api.wait(api.import_file(recipe["id"], content, sample_path.name, dry_run=dry_run)["id"])
        assert done["status"] == "completed_with_errors", done
        assert done["outcomes"] == {"created": would_create, "updated": 0, "unchanged": 0, "failed": len(named)}
        failures = api.all_pages(f"/imports/{done['id']}/failures")
        assert sorted((f["row"], f["code"]) for f in failures) == named, failures
    # Step 4 filters by a code the failures have.
    assert re.search(r"filter them by code\s+`(\w+)`", steps)[1] in {code for _, code in named}


def test_readme_tours_run_as_written_in_order_on_one_stack(tmp_path):
    with DevstackProcess() as stack:
        api, api_port, aws_port = stack.api, stack.api_port, stack.aws_port
        run_console_tour(Api(api, "dev-key"), tmp_path)
        blocks, _ = readme_blocks()
        script = "\n".join(blocks).replace("127.0.0.1:3000", f"127.0.0.1:{api_port}")
        script = script.replace("127.0.0.1:5000", f"127.0.0.1:{aws_port}")
        script = script.replace("make_sample.py 10000 ", "make_sample.py 2500 ").replace(
            '"total": 4960', '"total": 1240'
        )
        (tmp_path / "readme.sh").write_text(
            "set -euo pipefail\n" + script + '\necho "TEST BATCH=$BATCH DELETE=$DELETE GONE=$GONE"\n',
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BULKIMPORT_"))}
        done = subprocess.run(
            ["bash", str(tmp_path / "readme.sh")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            env={**env, "PATH": f"{Path(sys.executable).parent}:{env['PATH']}", "ROWS": "2500"},
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        out = done.stdout
        # The quick start script, on its own table after the console's.
        assert "completed_with_errors 100% total=2500 processed=2500 ok=2490 failed=10" in out
        assert "... 2490 records in the table" in out
        # The CLI tour after it: its own table, every good row imported.
        assert "completed_with_errors: 2,500 of 2,500 rows processed, 2,490 imported, 10 failed." in out
        assert "Exported 1,240 records to /tmp/level-a.xlsx" in out
        assert "NOT_IN_OPTIONS" in out and "read-only dashboard" in out

        # The export job of the batch jobs example: its total is right, so it exports.
        batch, delete, gone = re.search(r"TEST BATCH=(\S+) DELETE=(\S+) GONE=(\d+)", out).groups()
        dev = Api(api, "dev-key")
        job = dev.wait_job(batch)
        assert job["code"] == 200 and job["data"]["succeeded_amount"] == 1240, job
        # The batch_delete example: its search is valid, its count right, so it deletes them all.
        assert int(gone) > 0
        job = dev.wait_job(delete)
        assert job["code"] == 200 and job["data"]["succeeded_amount"] == int(gone), job
        count = dev.ok("GET", "/tables/contacts/records/count?filter.visit_date=2026-01-01")
        assert count["data"]["total"] == 0

        # The stack told what happened, one line each.
        told = stack.output()
        assert re.search(r"POST   /v1/imports 201 \d+ ms", told)
        assert re.search(r"import \S+ chunk \d+ done: \d+ rows", told)
        assert re.search(r"import \S+ \(dev\) settled: completed_with_errors", told)
        assert re.search(r"S3 drop/dev/\S+/again\.csv: starts import", told)
        assert re.search(r"S3 uploads/dev/\S+/source: ignored, import \S+ is \w+, not waiting for its upload", told)


DOCS = ["README.md", "docs/API.md", "docs/DESIGN.md", "bench/README.md"]
LINK = re.compile(r"\]\((?!https?:|mailto:)(?P<path>[^)#\s]*)(?:#(?P<anchor>[^)\s]+))?\)")


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", re.sub(r"```.*?```", "", markdown, flags=re.S), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_readme_is_short_and_the_docs_links_resolve():
    """The README stays an entry point (its facts live in docs/ and bench/), and every relative link of
    the four documents names a file of this repository and, with #, one of its headings; none leaves
    the repository (../shared and the like)."""
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 250
    for doc in DOCS:
        text = (ROOT / doc).read_text(encoding="utf-8")
        for link in LINK.finditer(text):
            target = ((ROOT / doc).parent / link["path"]).resolve() if link["path"] else ROOT / doc
            assert target.is_relative_to(ROOT) and target.exists(), (doc, link[0])
            if link["anchor"]:
                assert link["anchor"] in _anchors(target.read_text(encoding="utf-8")), (doc, link[0])
