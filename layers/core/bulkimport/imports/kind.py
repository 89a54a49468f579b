"""Imports as a kind of run (see runs.kinds)."""

from __future__ import annotations

from bulkimport.adapters import keys
from bulkimport.config import ImportMachine, section
from bulkimport.imports import store
from bulkimport.imports.models import TERMINAL_STATUSES
from bulkimport.imports.revert import settle as settle_revert
from bulkimport.imports.steps import settle
from bulkimport.runs.kinds import RunKind

IMPORT_RUN = RunKind(
    name="import",
    item_sk=keys.import_sk,
    load=store.load,
    state_machine_arn=lambda: section(ImportMachine).state_machine_arn,
    is_settled=lambda item: item["status"] in TERMINAL_STATUSES,
    queued_from=("waiting_upload", "scheduled", "queued"),
    settle=settle,
    failure_code="INTERNAL_ERROR",
    interrupted_code="INTERRUPTED",
    started_at_field="executed_start_at",
)

# A revert runs on the import's own item, in the import state machine (Prepare and the Map's pass
# "revert" do the revert's steps: imports.revert).
REVERT_RUN = RunKind(
    name="revert",
    item_sk=keys.import_sk,
    load=store.load,
    state_machine_arn=lambda: section(ImportMachine).state_machine_arn,
    is_settled=lambda item: item["status"] != "reverting",
    queued_from=(),  # `reverting` from the request on, waiting for its table included
    settle=settle_revert,
    failure_code="REVERT_FAILED",
    interrupted_code="REVERT_INTERRUPTED",
    started_at_field="revert_started_at",
)
