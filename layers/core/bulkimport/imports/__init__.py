"""Imports, a kind of run: a file mapped through a recipe into a table.

- `service`: what the API and the triggers do (create, start when the file lands, cancel, restart);
- `steps` and `chunks`: what the state machine runs (prepare, one chunk, after the check pass, settle);
- `reports`: failures, failures.csv and grouped results;
- `store`: the import's stored item, in one place.
"""
