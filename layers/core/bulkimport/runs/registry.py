"""The index of runs (imports, batch jobs) whose executions are under way.

A run is registered when its execution starts and unregistered when the execution settles it. An
execution can die without settling its run (aborted by an operator, timed out, a Step Functions
failure outside any Catch): the sweeper, on a schedule, finds registered runs whose execution is no
longer running and has them settled as interrupted (runs.lifecycle.sweep), so no run stays
`importing` forever.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel

from bulkimport.adapters import keys
from bulkimport.adapters.dynamo import Attr, ControlStore
from bulkimport.adapters.sfn import execution_running
from bulkimport.ids import now_iso


class ActiveRun(BaseModel):
    """A registered run: its entry in the index, under the index's own partition."""

    tenant: str
    kind: str  # a name of run_kinds.KINDS
    run_id: str
    execution_arn: str
    registered_at: str


def register(tenant: str, kind: str, run_id: str, execution_arn: str) -> None:
    entry = ActiveRun(tenant=tenant, kind=kind, run_id=run_id, execution_arn=execution_arn, registered_at=now_iso())
    ControlStore().put(
        {"pk": keys.ACTIVE_RUNS_PK, "sk": keys.active_run_sk(tenant, kind, run_id), **entry.model_dump()}
    )


def unregister(tenant: str, kind: str, run_id: str, execution_arn: str) -> None:
    """Drop the run's entry if it is still that execution's (a restart registers a new one)."""
    ControlStore().delete(
        keys.ACTIVE_RUNS_PK, keys.active_run_sk(tenant, kind, run_id), condition=Attr("execution_arn").eq(execution_arn)
    )


def dead_runs() -> Iterator[ActiveRun]:
    """Registered runs whose execution is not running."""
    for item in ControlStore().query_all(keys.ACTIVE_RUNS_PK, keys.ACTIVE_RUN_PREFIX):
        entry = ActiveRun.model_validate(item)
        if not execution_running(entry.execution_arn):
            yield entry
