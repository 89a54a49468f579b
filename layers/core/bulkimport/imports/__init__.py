"""Imports, a kind of run: a file mapped through a recipe into a table.

- `service`: what the API and the triggers do (create, start when the file lands, cancel, restart);
- `steps` and `chunks`: what the state machine runs (prepare, one chunk, after the check pass) and
  ImportRun, imports as a kind of run (its end: settle);
- `revert`: undoing an import (a run of its own kind, RevertRun): its chunks' revert pass and its end;
- `reports`: failures, failures.csv and grouped results;
- `store`: the import's stored item, in one place.
"""
