"""Process settings for the workers that read files (Prepare, ProcessChunk), applied once at init."""

import gc


def tune_gc() -> None:
    """Less cyclic garbage collection, which a file's rows would otherwise trigger thousands of times.

    A chunk allocates some fifteen container objects a row, almost none in a reference cycle, so
    CPython's collector (every 700 allocations by default) keeps scanning objects it cannot free,
    work that grows with the rows (bench/cpu_path.py measures the chunk's CPU). What the init phase
    imported lives as long as the worker: frozen, it leaves the scans altogether; and the young
    generation is collected every 10,000 allocations instead of 700, which bounds what waits to be
    collected to a few MB.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
