"""The composition root of the kinds of run: every kind by name, as the shared states (TakeTable,
Finalize) and the sweeper look a run's kind up. A new kind of run is a subclass of runs.kinds.RunKind
beside its own steps, and one more entry here."""

from __future__ import annotations

from typing import Any

from bulkimport.imports.revert import REVERT_RUN
from bulkimport.imports.steps import IMPORT_RUN
from bulkimport.jobs.steps import JOB_RUN
from bulkimport.runs.kinds import RunKind

KINDS: dict[str, RunKind[Any]] = {kind.name: kind for kind in (IMPORT_RUN, REVERT_RUN, JOB_RUN)}
