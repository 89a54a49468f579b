"""What every kind of run (an import, a batch job) shares: starting its execution, waiting for its
table, counting a unit of work exactly once, settling it, and sweeping runs whose execution died.

A kind of run describes itself with a `RunKind`; the shared states of the state machines (TakeTable,
Finalize) and the sweeper call `lifecycle` with it.
"""
