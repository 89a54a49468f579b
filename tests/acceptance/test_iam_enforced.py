"""IAM bites on the local stack: started, as `make run` starts it, on a copy of template.yaml whose
ProcessChunk role lacks dynamodb:PutItem, an import fails the way it would on AWS (every chunk's
write refused with AccessDeniedException) and writes no record; the denial names the role, the
action and the table."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from devstack.cfn import Template
from tests.helpers import Api, DevstackProcess, csv_bytes
from tests.samples import HEADER, good_row, setup_contacts

ROOT = Path(__file__).resolve().parents[2]


def _template_without(tmp_path: Path, function: str, action: str) -> Path:
    """A copy of template.yaml (code paths made absolute) whose `function` is not granted `action`."""
    doc = copy.deepcopy(Template(ROOT / "template.yaml").doc)
    removed = 0
    for resource in doc["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(props.get(key), str):
                props[key] = str(ROOT / props[key])
    for policy in doc["Resources"][function]["Properties"]["Policies"]:
        for statement in policy.get("Statement", []):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            removed += action in actions
            statement["Action"] = [a for a in actions if a != action]
    assert removed, f"{function} is not granted {action} in a statement of its own"
    path = tmp_path / "template.yaml"
    path.write_text(json.dumps(doc))  # JSON is YAML; intrinsics in their long form
    return path


def test_a_permission_missing_from_the_template_fails_the_import_with_access_denied(tmp_path):
    template = _template_without(tmp_path, "ProcessChunkFunction", "dynamodb:PutItem")
    with DevstackProcess("--template", str(template)) as stack:
        api = Api(stack.api, "dev-key")
        recipe = setup_contacts(api)
        imported = api.import_file(recipe["id"], csv_bytes([HEADER, *(good_row(n) for n in range(1, 21))]))
        done = api.wait(imported["id"], timeout=90)
        assert done["status"] == "failed", done
        assert api.ok("GET", "/tables/contacts/records")["data"] == []
        stack.stop()
    log = stack.output()
    assert (
        "AccessDeniedException" in log
        and "assumed-role/bulkimport-local-ProcessChunkFunctionRole/bulkimport-local-ProcessChunkFunction" in log
        and "is not authorized to perform: dynamodb:PutItem on resource: "
        "arn:aws:dynamodb:us-east-1:123456789012:table/bulkimport-local-RecordsTable"
        in log
    ), log[-3000:]
