"""Create an API key for a tenant on a deployed stack (the secret is printed once, stored hashed).

    python tools/create_api_key.py --control-table <ControlTableName output> --tenant acme --role admin

Uses your usual AWS credentials and region. The local stack does not need this: it starts with
`dev-key` (tenant dev, admin).
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "layers" / "core"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--control-table", required=True, help="the stack's ControlTableName output")
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--role", choices=["viewer", "editor", "admin"], default="editor")
    parser.add_argument("--name", help="what the key is for")
    args = parser.parse_args()
    os.environ["CONTROL_TABLE"] = args.control_table
    from bulkimport.access.keys import create_api_key

    print(create_api_key(args.tenant, args.role, name=args.name))


if __name__ == "__main__":
    main()
