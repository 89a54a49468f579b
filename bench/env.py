"""Making the layer importable for bench sections that run our code without the local stack."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def layer_on_path() -> None:
    # Clients are created (never called) by the CPU bench; they need a region to exist.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    layer = str(ROOT / "layers" / "core")
    if layer not in sys.path:
        sys.path.insert(0, layer)
