"""Batch jobs, a kind of run: export, batch_update and batch_delete of a table's records.

- `service`: what the API does (create a job, report its status);
- `steps` and `exports`: what the jobs state machine runs;
- `changes`: a batch_update's changes, checked; `store`: the job's stored item.
"""
