"""One Lambda-like worker for bench.memory: import a function's handler, invoke it once, print its
memory as JSON. Run by bench.memory in a fresh process; the environment points it at the local stack.

    python -m bench.memory_worker prepare|chunk '<event json>' rss|traced
"""

import json
import resource
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = {"prepare": ("prepare_import", 1024), "chunk": ("process_chunk", 512)}


def _status_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, from /proc/self/status."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


class _Context:
    def __init__(self, name: str, memory: int):
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        self.memory_limit_in_mb = memory
        self.aws_request_id = str(uuid.uuid4())


def main() -> None:
    step, event, mode = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
    directory, memory = FUNCTIONS[step]
    sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT / "functions" / directory)]
    import app  # the handler module, as Lambda's init phase imports it

    result = {"rss_after_imports_mb": round(_status_mb("VmRSS"), 1)}
    if mode == "traced":
        import tracemalloc

        tracemalloc.start()
    started = time.perf_counter()
    app.lambda_handler(event, _Context(directory, memory))
    result["seconds"] = round(time.perf_counter() - started, 2)
    if mode == "traced":
        result["traced_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
    # Peak RSS of this process. Not getrusage's ru_maxrss: Linux carries into it the RSS of the
    # process this one was forked from (the local stack, hundreds of MB) when it execs.
    result["peak_rss_mb"] = round(_status_mb("VmHWM"), 1)
    result["ru_maxrss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
