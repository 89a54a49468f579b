"""A kind of run, as the shared run machinery (runs.lifecycle) drives it: each kind (an import, its
revert, a batch job) is a subclass with these methods, next to its own steps; the registry of them
all is bulkimport.run_kinds."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar


class RunKind(ABC):
    # In execution input, active-run entries and table queue entries: "import", "revert", "job".
    name: ClassVar[str]
    # Statuses that become `queued` while the run waits for its table (empty: its status says so already).
    queued_from: ClassVar[tuple[str, ...]] = ()
    failure_code: ClassVar[str]  # a step failed
    interrupted_code: ClassVar[str]  # the execution died without settling the run (found by the sweeper)

    @abstractmethod
    def item_sk(self, run_id: str) -> str:
        """The sort key of a run's item, under its tenant's partition."""

    @abstractmethod
    def load(self, tenant: str, run_id: str) -> dict:
        """The run's item (NotFound if none)."""

    @abstractmethod
    def state_machine_arn(self) -> str:
        """The state machine its executions run in."""

    @abstractmethod
    def is_settled(self, item: dict) -> bool:
        """Whether the run's item says it is over."""

    @abstractmethod
    def started_at(self, item: dict) -> str | None:
        """When the run's work began (its duration metric), if it did."""

    @abstractmethod
    def settle(self, tenant: str, run_id: str, error: dict | None, failure_code: str) -> dict:
        """The kind's own end: settle the item (status, counts, its event) after the steps ran, or with
        `failure_code` when a step failed (`error` is what Step Functions caught). Returns the item."""
