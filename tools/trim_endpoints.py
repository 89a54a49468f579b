"""Write the core layer's copy of botocore's endpoint table, cut to the services our code calls.

    python tools/trim_endpoints.py

Run it after changing the pinned botocore or bulkimport.adapters.aws.SERVICES (tests/unit/test_aws.py fails
until then). Why the copy exists: see bulkimport.adapters.aws.
"""

import copy
import json
import sys
from pathlib import Path

import botocore.session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "layers" / "core"))

from bulkimport.adapters.aws import ENDPOINTS_FILE, SERVICES


def trimmed_endpoints() -> dict:
    """botocore's endpoint table with only SERVICES' entries (each partition keeps its defaults)."""
    core = botocore.session.get_session()  # botocore's own data only
    prefixes = {core.get_service_model(service).endpoint_prefix for service in SERVICES}
    table = copy.deepcopy(core.get_component("data_loader").load_data("endpoints"))
    for partition in table["partitions"]:
        partition["services"] = {name: entry for name, entry in partition["services"].items() if name in prefixes}
    return table


def main() -> None:
    ENDPOINTS_FILE.write_text(json.dumps(trimmed_endpoints(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {ENDPOINTS_FILE} ({ENDPOINTS_FILE.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
