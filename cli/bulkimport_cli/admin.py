"""`bulkimport admin create-key`: an operator makes a tenant's first admin key, with AWS credentials;
`bulkimport admin set-quota`: an operator sets a tenant's quotas (bulkimport.access.quotas).

The key (or quota) is written by the service's own code (bulkimport.access.keys, from the checkout's layer), so
the CLI never learns how keys are stored. Before that, one quick call (2 s to connect, no retries)
checks that an AWS endpoint answers and finds the stack's control table.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from bulkimport_cli.client import CliError

# The layer, when the CLI runs from a checkout of the service (make install: pip install -e ./cli).
_LAYER = Path(__file__).resolve().parents[2] / "layers" / "core"
_CONTROL_TABLE_MARK = "ControlTable"  # CloudFormation names it <stack>-ControlTable-<suffix>


def _service_code():
    try:
        import bulkimport.access.keys  # noqa: F401 - a layer already on the path
    except ImportError:
        if not (_LAYER / "bulkimport").is_dir():
            raise CliError(
                "NO_SERVICE_CODE",
                "admin create-key writes the key with the service's own code: run it from a checkout "
                "of the service (make install), with boto3 installed.",
            ) from None
        sys.path.insert(0, str(_LAYER))
    from bulkimport.access import keys
    from bulkimport.adapters.dynamo import ControlStore

    return keys, ControlStore


def _connect(endpoint_url: str | None, region: str | None, control_table: str | None):
    """The stack's control table, as the service's own ControlStore (after the quick probe)."""
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    table = _control_table(_probe(endpoint_url, region), control_table, endpoint_url or f"AWS ({region})")
    # The service's code makes its clients from the environment, as in Lambda.
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region
    if endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = endpoint_url
    _keys, control_store = _service_code()
    return table, control_store(table)


def _probe(endpoint_url: str | None, region: str) -> list[str]:
    """The endpoint's DynamoDB table names; a clear CliError at once when nothing answers."""
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError
    except ImportError:
        raise CliError("NO_BOTO3", "admin create-key needs boto3: pip install 'bulkimport-cli[admin]'.") from None
    where = endpoint_url or f"AWS ({region})"
    quick = Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 1, "mode": "standard"})
    ddb = boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=region, config=quick)
    try:
        names: list[str] = []
        for page in ddb.get_paginator("list_tables").paginate():
            names.extend(page["TableNames"])
        return names
    except EndpointConnectionError:
        hint = " Is the local stack running (make run)?" if endpoint_url else ""
        raise CliError("NO_AWS_ENDPOINT", f"No AWS endpoint answers at {where}.{hint}") from None
    except NoCredentialsError:
        raise CliError(
            "NO_AWS_CREDENTIALS",
            "No AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
            "(any values for the local stack).",
        ) from None
    except ClientError as error:
        raise CliError("AWS_REFUSED", f"{where} refused ListTables: {error}") from None
    except BotoCoreError as error:
        raise CliError("AWS_ERROR", f"{where}: {error}") from None


def _control_table(names: list[str], chosen: str | None, where: str) -> str:
    if chosen:
        if chosen not in names:
            raise CliError("NO_CONTROL_TABLE", f"No table {chosen} at {where}.")
        return chosen
    found = [name for name in names if _CONTROL_TABLE_MARK in name]
    if len(found) == 1:
        return found[0]
    if not found:
        raise CliError(
            "NO_CONTROL_TABLE",
            f"No bulk import stack's control table at {where}: "
            "pass --control-table (the stack's ControlTableName output).",
        )
    raise CliError(
        "SEVERAL_CONTROL_TABLES", f"Several control tables at {where} ({', '.join(found)}): pass --control-table."
    )


def create_key(
    tenant: str, role: str, name: str | None, endpoint_url: str | None, region: str | None, control_table: str | None
) -> dict:
    table, store = _connect(endpoint_url, region, control_table)
    keys, _store = _service_code()
    key = keys.issue_key(tenant, role, name=name, store=store)
    return {"tenant": tenant, "control_table": table, **key.model_dump(mode="json")}


def set_quota(
    tenant: str,
    max_concurrent_runs: int | None,
    rows_per_day: int | None,
    endpoint_url: str | None,
    region: str | None,
    control_table: str | None,
) -> dict:
    """Set a tenant's quotas (those given); returns them all, as GET /v1/usage shows them."""
    table, store = _connect(endpoint_url, region, control_table)
    from bulkimport.access import quotas

    done = quotas.set_quotas(tenant, max_concurrent_runs, rows_per_day, store=store)
    return {"tenant": tenant, "control_table": table, **done.model_dump()}
