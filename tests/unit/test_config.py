"""Every function's settings: its handler declares the sections it needs (`class Settings(...)`) and
validates them at cold start, and the environment template.yaml gives the function satisfies them.
The tunables' defaults are the template's parameter defaults."""

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from bulkimport import config
from devstack.cfn import Template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = Template(ROOT / "template.yaml")
FUNCTIONS = TEMPLATE.functions()


def handler_module(logical_id: str, monkeypatch):
    """The function's handler module, imported as Lambda's init would. Its cold-start check reads this
    process's environment: variables it lacks come from the template (those the session's local stack
    set stay as they are, under its running handlers)."""
    function = FUNCTIONS[logical_id]
    for name, value in function.environment.items():
        if name not in os.environ:
            monkeypatch.setenv(name, value)
    monkeypatch.syspath_prepend(str(function.code_dir))
    module_name = function.handler.rsplit(".", 1)[0]
    spec = importlib.util.spec_from_file_location(f"settings_{logical_id}", function.code_dir / f"{module_name}.py")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except config.ConfigError as error:
        pytest.fail(f"{logical_id}: its cold start fails with the template's environment: {error}")
    return module


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_the_template_gives_every_function_the_settings_its_handler_needs(logical_id, monkeypatch):
    settings = handler_module(logical_id, monkeypatch).Settings
    assert issubclass(settings, config.Section)
    try:  # against the template's environment alone, not this process's
        settings.model_validate(FUNCTIONS[logical_id].environment)
    except ValidationError as error:
        missing = sorted({str(e["loc"][0]) for e in error.errors()})
        pytest.fail(f"{logical_id}: template.yaml gives it no valid {', '.join(missing)}")


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_every_handler_loads_its_settings_at_cold_start(logical_id):
    function = FUNCTIONS[logical_id]
    tree = ast.parse((function.code_dir / f"{function.handler.rsplit('.', 1)[0]}.py").read_text())
    loads = [
        node
        for node in tree.body
        if isinstance(node, (ast.Assign, ast.Expr))
        and isinstance(node.value, ast.Call)
        and ast.unparse(node.value) == "config.load(Settings)"
    ]
    assert loads, f"{function.code_dir.name}/app.py does not call config.load(Settings) at module level"


def test_a_missing_setting_fails_at_cold_start_naming_it():
    # In a process of its own, as a cold start is: this one's environment stays as it is.
    function = FUNCTIONS["ObjectCreatedFunction"]
    env = {k: v for k, v in function.environment.items() if k != "STATE_MACHINE_ARN"}
    env.update(
        PATH=os.environ.get("PATH", ""),
        PYTHONPATH=os.pathsep.join([str(ROOT / "layers" / "core"), str(function.code_dir)]),
    )
    started = subprocess.run(
        [sys.executable, "-c", "import app"],
        env=env,
        cwd=function.code_dir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode != 0
    assert "ConfigError: Settings: STATE_MACHINE_ARN: Field required" in started.stderr


def _sections():
    todo, found = [config.Section], []
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__ == config.__name__:
                found.append(sub)
                todo.append(sub)
    return found


def test_every_tunable_default_is_the_template_parameter_default():
    globals_env = TEMPLATE.doc["Globals"]["Function"]["Environment"]["Variables"]
    parameters = TEMPLATE.doc["Parameters"]
    compared = {}
    for section in _sections():
        for field in section.model_fields.values():
            value = globals_env.get(field.alias)
            if isinstance(value, dict) and value.get("Ref") in parameters:
                parameter = value["Ref"]
                assert str(field.default) == str(parameters[parameter]["Default"]), (
                    f"{section.__name__}.{field.alias} defaults to {field.default}, template parameter {parameter} to "
                    f"{parameters[parameter]['Default']}"
                )
                compared[field.alias] = parameter
    assert {
        "CHUNK_ROWS": "ChunkRows",
        "JOB_PAGE_RECORDS": "JobPageRecords",
        "QUEUE_POLL_SECONDS": "QueuePollSeconds",
    }.items() <= compared.items()


def test_sections_are_sections_of_config():
    # Guard for the test above: the sections it walks are the config module's own.
    names = {s.__name__ for s in _sections()}
    assert {
        "Tables",
        "Storage",
        "Events",
        "ImportMachine",
        "JobsMachine",
        "Schedules",
        "RunQueue",
        "Chunking",
        "Uploads",
        "JobLimits",
        "RateLimits",
    } <= names
