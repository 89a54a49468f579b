"""Write statemachine/import.asl.json and statemachine/jobs.asl.json from statemachine/src/.

    python tools/build_state_machines.py          # write both definitions
    python tools/build_state_machines.py --check  # exit 1 if a committed definition is not what the sources give

Both state machines are built from the same shared states (src/shared.json: Start, TakeTable, TableFree,
WaitForTable, Finalize) plus their kind's own states (src/import.json, src/jobs.json), which start at
`Prepare`. In every source a state's "Retry" and "Catch" list the names of policies defined once in
shared.json ("LambdaServiceErrors", "ToFinalize", ...); the build writes them out (without their
"Comment", which is for the reader of the source). The built files are committed because SAM's
DefinitionUri points at them; tests/unit/test_state_machines.py holds them equal to this build.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "statemachine" / "src"
MACHINES = {"import": ROOT / "statemachine" / "import.asl.json", "jobs": ROOT / "statemachine" / "jobs.asl.json"}
LAST = ("Finalize",)  # shared states written after the kind's own ones, so a definition reads top to bottom


def _load(name: str) -> dict:
    return json.loads((SOURCES / f"{name}.json").read_text())


def _expand(states: dict, policies: dict[str, dict[str, dict]]) -> dict:
    """The states with their named Retry and Catch policies written out (also inside Map processors)."""
    built = {}
    for name, state in states.items():
        state = copy.deepcopy(state)
        for field in ("Retry", "Catch"):
            if field in state:
                state[field] = [_policy(policies[field], entry, name, field) for entry in state[field]]
        processor = state.get("ItemProcessor")
        if processor:
            processor["States"] = _expand(processor["States"], policies)
        built[name] = state
    return built


def _policy(known: dict[str, dict], entry, state: str, field: str) -> dict:
    if not isinstance(entry, str) or entry not in known:
        raise ValueError(
            f"{state}.{field}: {entry!r} is not one of the {field} policies in shared.json ({sorted(known)})"
        )
    return {k: v for k, v in known[entry].items() if k != "Comment"}


def build(kind: str) -> dict:
    """The definition of one state machine ("import" or "jobs")."""
    shared, own = _load("shared"), _load(kind)
    policies = {"Retry": shared["Retry"], "Catch": shared["Catch"]}
    clash = set(shared["States"]) & set(own["States"])
    if clash:
        raise ValueError(f"{kind}.json redefines shared states {sorted(clash)}")
    head = {k: v for k, v in shared["States"].items() if k not in LAST}
    tail = {k: v for k, v in shared["States"].items() if k in LAST}
    return {
        "Comment": own["Comment"],
        "StartAt": shared["StartAt"],
        "States": _expand({**head, **own["States"], **tail}, policies),
    }


def render(kind: str) -> str:
    return json.dumps(build(kind), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for kind, path in MACHINES.items():
        text = render(kind)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.relative_to(ROOT))
        else:
            path.write_text(text)
    if stale:
        print(
            f"not what statemachine/src/ gives (run python tools/build_state_machines.py): {', '.join(map(str, stale))}"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
