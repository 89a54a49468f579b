"""What every kind of run (an import, a batch job) shares: starting its execution, waiting for its
table, counting a unit of work exactly once, settling it, and sweeping runs whose execution died.

A kind of run is a subclass of `kinds.RunKind`, beside its own steps (imports.steps.ImportRun,
imports.revert.RevertRun, jobs.steps.JobRun); bulkimport.run_kinds names them all. The shared states of
the state machines (TakeTable, Finalize) and the sweeper call `lifecycle` with one.
"""
