"""Checks of `sam build`'s output (.aws-sam/build), run by `make build` after the build.

- Every compiled file in the layer (and in any function) is an arm64 (aarch64) ELF, as the template's
  `Architectures: [arm64]` needs: a wheel built for this machine instead would fail at the first cold
  start on AWS, never here.
- Sizes: the layer, each function's code, and each function with the layer against Lambda's limit of
  250 MB unzipped.
- Cold start of every function's handler module: import time and peak memory (RSS), with the built
  layer's pure-Python packages and, for its compiled ones, the same versions built for this machine
  (arm64 binaries cannot load here), under the environment the template gives the function.

Exits 1 when a compiled file is not arm64 or a size is over the limit.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from devstack.cfn import Template  # noqa: E402 - the template, as the local stack reads it

BUILD = ROOT / ".aws-sam" / "build"
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
ELF_MACHINES = {62: "x86_64", 183: "aarch64", 3: "x86", 40: "arm"}

COLD_START = """
import resource, sys, time
started = time.perf_counter()
import app  # the handler module: its imports and its settings' validation are the cold start
seconds = time.perf_counter() - started
print(round(seconds * 1000, 1), round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))
"""


def size_of(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def elf_machine(path: Path) -> str | None:
    with path.open("rb") as file:
        header = file.read(20)
    if header[:4] != b"\x7fELF":
        return None
    return ELF_MACHINES.get(int.from_bytes(header[18:20], "little"), f"machine {header[18]}")


def compiled_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and (p.suffix == ".so" or ".so." in p.name)]


def top_level_package(site: Path, file: Path) -> str:
    return file.relative_to(site).parts[0]


def function_environments() -> dict[str, dict[str, str]]:
    """Each function's environment as the template sets it (resource names as the local stack names them)."""
    return {logical_id: f.environment for logical_id, f in Template(ROOT / "template.yaml").functions().items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=sys.executable, help="a Python of Lambda's version (3.13)")
    python = parser.parse_args().python
    if not BUILD.is_dir():
        print(f"{BUILD} is missing: run `make build` first")
        return 1
    problems: list[str] = []
    layer = BUILD / "CoreLayer" / "python"
    functions = sorted(p for p in BUILD.iterdir() if p.is_dir() and p.name.endswith("Function"))

    compiled = compiled_files(BUILD)
    wrong = [(p, elf_machine(p)) for p in compiled if elf_machine(p) not in (None, "aarch64")]
    for path, machine in wrong:
        problems.append(f"{path.relative_to(BUILD)} is {machine}, not aarch64")
    packages = sorted({top_level_package(layer, p) for p in compiled if layer in p.parents})
    print(f"compiled files: {len(compiled)}, all aarch64: {not wrong} (packages: {', '.join(packages)})")

    layer_bytes = size_of(BUILD / "CoreLayer")
    print(f"layer: {layer_bytes / 2**20:.1f} MB unzipped")
    print(f"{'function':<24} {'code':>8} {'with layer':>11} {'import ms':>10} {'RSS MB':>7}")
    with tempfile.TemporaryDirectory() as scratch:
        overlay = host_builds_of(python, layer, packages, Path(scratch))
        environments = function_environments()
        for function in functions:
            code = size_of(function)
            total = code + layer_bytes
            if total > LAMBDA_UNZIPPED_LIMIT:
                problems.append(f"{function.name}: {total / 2**20:.1f} MB with the layer, over 250 MB")
            import_ms, rss = cold_start(python, function, layer, overlay, environments.get(function.name, {}))
            print(f"{function.name:<24} {code / 1024:>6.0f} KB {total / 2**20:>8.1f} MB {import_ms:>10} {rss:>7}")
    for problem in problems:
        print("FAIL", problem)
    return 1 if problems else 0


def host_builds_of(python: str, layer: Path, packages: list[str], target: Path) -> Path | None:
    """This machine's builds of the layer's compiled packages, at the versions the layer holds."""
    pins = []
    for name in packages:
        dist_info = next(layer.glob(f"{name}-*.dist-info"), None)
        if dist_info is None:
            print(f"no dist-info for {name} in the layer: no cold-start figures")
            return None
        pins.append(f"{name}=={dist_info.name[len(name) + 1 : -len('.dist-info')]}")
    overlay = target / "overlay"
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps"]
    installed = subprocess.run([*pip, "--target", str(overlay), *pins], capture_output=True, text=True)
    if installed.returncode != 0:
        print("could not install this machine's builds for the cold-start figures:", installed.stderr[-300:])
        return None
    return overlay


def cold_start(
    python: str, function: Path, layer: Path, overlay: Path | None, environment: dict[str, str]
) -> tuple[str, str]:
    if overlay is None:
        return "-", "-"
    path = os.pathsep.join(str(p) for p in (function, overlay, layer))
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": path,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "1",
        # /opt is read-only on Lambda: every cold start compiles the layer's modules, as here.
        "PYTHONDONTWRITEBYTECODE": "1",
        **environment,
    }
    run = subprocess.run(
        [python, "-S", "-c", COLD_START], cwd=function, env=env, capture_output=True, text=True, timeout=120
    )
    if run.returncode != 0:
        return "error: " + (run.stderr.strip().splitlines() or ["?"])[-1][:60], "-"
    import_ms, rss = run.stdout.split()
    return import_ms, rss


if __name__ == "__main__":
    sys.exit(main())
