"""Batch jobs as a kind of run (see runs.kinds)."""

from __future__ import annotations

from bulkimport.adapters import keys
from bulkimport.config import JobsMachine, section
from bulkimport.jobs import store
from bulkimport.jobs.steps import settle
from bulkimport.runs.kinds import RunKind

JOB_RUN = RunKind(
    name="job",
    item_sk=keys.job_sk,
    load=store.load,
    state_machine_arn=lambda: section(JobsMachine).jobs_state_machine_arn,
    is_settled=lambda item: item["status"] == "done",
    queued_from=(),  # a job is `queued` from its creation until it takes its table
    settle=settle,
    failure_code="JOB_INTERNAL_ERROR",
    interrupted_code="JOB_INTERRUPTED",
    started_at_field="started_at",
)
