"""A kind of run, as the shared run machinery (runs.lifecycle) drives it: each kind (an import, its
revert, a batch job) is a subclass with these methods, next to its own steps; the registry of them
all is bulkimport.run_kinds."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

KEY_ATTRIBUTES = ("pk", "sk")


class RunError(BaseModel):
    """Why a run failed, as stored: a code of i18n.messages and its message's parameters."""

    code: str
    params: dict[str, Any] = Field(default_factory=dict)


class RunRecord(BaseModel):
    """What the stored item of every kind of run has, as the run machinery reads it. Each kind's
    store reads its items into a subclass and writes them from one (from_item, to_item)."""

    # Attributes the run machinery notes on a run's item beside the kind's own (each unit's live
    # progress: runs.counting) are kept as they are, so an item read and written back loses nothing.
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str
    tenant: str
    table: str
    status: str
    execution_arn: str | None = None  # of its latest execution (runs.lifecycle.start)
    job_turns: int = 0  # executions started
    record_count_added: int = 0  # of what it added to its table's record_count (schema.tables)
    error: RunError | None = None
    created_by: str | None = None
    created_at: str
    updated_at: str

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Self:
        return cls.model_validate({k: v for k, v in item.items() if k not in KEY_ATTRIBUTES})

    def to_item(self, pk: str, sk: str) -> dict[str, Any]:
        """The item of a new run: what was set, no defaults. What the run's updates add to later stays
        absent until then (a counted set, say: an ADD of a number set fails on a stored list)."""
        return {"pk": pk, "sk": sk, **self.model_dump(by_alias=True, exclude_unset=True, exclude_none=True)}

    def live_notes(self) -> dict[str, Any]:
        """The attributes beside the record's own (runs.counting's live notes)."""
        return dict(self.model_extra or {})


Record = TypeVar("Record", bound=RunRecord)


class RunKind(ABC, Generic[Record]):
    """A kind of run whose items its store reads as `Record`s."""

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
    def load(self, tenant: str, run_id: str) -> Record:
        """The run's item (NotFound if none)."""

    @abstractmethod
    def state_machine_arn(self) -> str:
        """The state machine its executions run in."""

    @abstractmethod
    def is_settled(self, item: Record) -> bool:
        """Whether the run's item says it is over."""

    @abstractmethod
    def started_at(self, item: Record) -> str | None:
        """When the run's work began (its duration metric), if it did."""

    @abstractmethod
    def settle(self, tenant: str, run_id: str, error: dict | None, failure_code: str) -> Record:
        """The kind's own end: settle the item (status, counts, its event) after the steps ran, or with
        `failure_code` when a step failed (`error` is what Step Functions caught). Returns the item."""
