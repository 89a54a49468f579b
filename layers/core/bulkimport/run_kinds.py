"""Every kind of run, by name: what the shared states (TakeTable, Finalize) and the sweeper look a
run's kind up in. A new kind of run (a revert, say) is one more entry here."""

from __future__ import annotations

from bulkimport.imports.kind import IMPORT_RUN, REVERT_RUN
from bulkimport.jobs.kind import JOB_RUN
from bulkimport.runs.kinds import RunKind

KINDS: dict[str, RunKind] = {kind.name: kind for kind in (IMPORT_RUN, REVERT_RUN, JOB_RUN)}
