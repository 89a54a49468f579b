"""What Step Functions refuses in a definition that moto would run anyway, refused by the local stack
too: its AWS endpoint answers CreateStateMachine and UpdateStateMachine with InvalidDefinition, as AWS
does, when a state name is used twice anywhere in the definition (Map processors and Parallel branches
included) or a StartAt or transition names no state of its scope. A template whose state machine AWS
would refuse so cannot start the local stack.

And what moto cannot run that AWS does: moto's interpreter (5.2.5) parses only STANDARD as a
Distributed Map's child execution type, so the endpoint hands moto a definition whose EXPRESS children
are STANDARD (`as_moto_runs_it`). The states, retries and catches are the same; what EXPRESS changes on
AWS (a child may run more than once, at most 5 minutes, no history kept) is for the workers to bear:
tests run a chunk twice, at once and after it was counted (tests/integration/test_exactly_once.py).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Iterator

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]
_CHECKED = {"AWSStepFunctions.CreateStateMachine", "AWSStepFunctions.UpdateStateMachine"}


def scopes(definition: dict, path: str = "") -> Iterator[tuple[str, dict]]:
    """(path, {"StartAt", "States"}) of the definition and of every Map processor and Parallel branch in it."""
    yield path or "/", definition
    for name, state in definition.get("States", {}).items():
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from scopes(processor, f"{path}/{name}")
        for n, branch in enumerate(state.get("Branches", ())):
            yield from scopes(branch, f"{path}/{name}[{n}]")


def targets(state: dict) -> set[str]:
    """The states a state can go to next."""
    found = {state.get("Next"), state.get("Default")} | {c.get("Next") for c in state.get("Catch", ())}
    found |= {c.get("Next") for c in state.get("Choices", ())}
    return found - {None}


def refusals(definition: dict) -> list[str]:
    """Why CreateStateMachine refuses the definition (AWS's error codes), or nothing."""
    found = []
    seen: dict[str, str] = {}
    for path, scope in scopes(definition):
        states = scope.get("States", {})
        if scope.get("StartAt") not in states:
            found.append(f"MISSING_TRANSITION_TARGET: StartAt {scope.get('StartAt')!r} is not a state of {path}")
        for name, state in states.items():
            if name in seen:
                found.append(f"DUPLICATE_STATE_NAME: Duplicate State name: {name} at {path} and {seen[name]}")
            seen.setdefault(name, path)
            for target in sorted(targets(state) - set(states)):
                found.append(f"MISSING_TRANSITION_TARGET: {path}/{name} goes to {target!r}, not a state of its scope")
    return found


def as_moto_runs_it(definition: dict) -> bool:
    """Make every Map processor's EXPRESS execution type STANDARD, in place; True if one was."""
    changed = False
    for _path, scope in scopes(definition):
        for state in scope.get("States", {}).values():
            config = (state.get("ItemProcessor") or {}).get("ProcessorConfig") or {}
            if config.get("ExecutionType") == "EXPRESS":
                config["ExecutionType"] = "STANDARD"
                changed = True
    return changed


def refuse_invalid_definitions(app: WsgiApp) -> WsgiApp:
    """WSGI middleware for the AWS endpoint (devstack.stack._AwsEndpoint.wrap_moto): refuses what AWS
    refuses, and hands moto a definition it runs (as_moto_runs_it)."""

    def middleware(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET") not in _CHECKED:
            return app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            request = json.loads(body)
            definition = json.loads(request.get("definition") or "null")
        except ValueError:
            definition = None
        problems = refusals(definition) if isinstance(definition, dict) else []
        if not problems:
            if isinstance(definition, dict) and as_moto_runs_it(definition):
                body = json.dumps(request | {"definition": json.dumps(definition)}).encode()
                environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
            return app(environ, start_response)
        message = f"Invalid State Machine Definition: '{'; '.join(problems)}'"
        start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0")])
        return [json.dumps({"__type": "InvalidDefinition", "message": message}).encode()]

    return middleware
