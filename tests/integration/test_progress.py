"""An import's progress moves while it runs (watched over HTTP, as a user does), and its counters are
exact at the end."""

import time

from tests.helpers import TERMINAL, csv_bytes
from tests.samples import HEADER, good_row, setup_contacts

ROWS = 10_000


def test_progress_moves_during_a_10k_row_import_and_the_counts_end_exact(tenant):
    recipe = setup_contacts(tenant.admin)
    rows = [good_row(n) for n in range(1, ROWS + 1)]
    for n in range(249, ROWS, 250):  # every 250th row is bad: 40 of them
        rows[n][3] = "C"
    imported = tenant.editor.import_file(recipe["id"], csv_bytes([HEADER, *rows]), "big.csv")

    seen = []  # (progress, processed_count) of each poll while it runs
    deadline = time.monotonic() + 600
    while True:
        current = tenant.viewer.ok("GET", f"/imports/{imported['id']}")["data"]
        if current["status"] in TERMINAL:
            break
        seen.append((current["progress"], current["processed_count"]))
        assert time.monotonic() < deadline, current
        time.sleep(0.2)

    assert current["status"] == "completed_with_errors"
    assert (current["total_count"], current["processed_count"], current["success_count"], current["fail_count"]) == (
        ROWS,
        ROWS,
        ROWS - 40,
        40,
    )
    assert current["progress"] == 100
    # It moved on the way: several values strictly between 0 and 100, never backwards.
    progress = [p for p, _ in seen]
    assert progress == sorted(progress), progress
    assert len({p for p in progress if 0 < p < 100}) >= 5, progress
    processed = [c for _, c in seen]
    assert processed == sorted(processed) and all(c <= ROWS for c in processed)
    assert len({c for c in processed if 0 < c < ROWS}) >= 3, processed
