"""Compile RxLedger's Solidity sources into the artifacts committed under ``artifacts/``.

py-solc-x drives the compiler: a native ``solc`` on PATH when there is one, otherwise the
pinned solc-js from npm through ``scripts/solc``, which speaks the native command line.
Run ``python -m ledger_client.dev.compile`` to rebuild, ``--check`` to fail on stale artifacts.
"""

from __future__ import annotations

import json
import shutil
import sys
from typing import Any

import solcx

from ledger_client._paths import ARTIFACTS_DIR, ROOT
from ledger_client.errors import CompileError

CONTRACTS_DIR = ROOT / "contracts"
SOLC_VERSION = "0.8.30"
#: No PUSH0 (Shanghai) or later opcodes: geth's Clique engine refuses Shanghai, and anvil
#: (`--hardfork prague`), eth-tester and Besu run london bytecode too.
EVM_VERSION = "london"
OPTIMIZER_RUNS = 1000
#: The contracts whose ABI and bytecode are written as artifacts.
DEPLOYABLE = (
    "Consortium",
    "ProductDirectory",
    "SerialRegistry",
    "AccessGrants",
    "ExceptionRegistry",
    "RxForwarder",
    "NaivePackToken",
)


def solc_binary() -> str:
    """Return the compiler to run: native ``solc`` of the pinned version, else the shim."""
    native = shutil.which("solc")
    if native and solcx.wrapper.get_solc_version(native).base_version == SOLC_VERSION:
        return native
    shim = ROOT / "scripts" / "solc"
    if not (ROOT / "node_modules" / "solc").is_dir():
        raise CompileError("solc-js is not installed: run `npm ci` (or `make setup`) first")
    return str(shim)


def standard_input() -> dict[str, Any]:
    """Return the solc standard-JSON input for every source under ``contracts/``."""
    sources = {
        str(path.relative_to(ROOT)): {"content": path.read_text()}
        for path in sorted(CONTRACTS_DIR.rglob("*.sol"))
    }
    return {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "remappings": ["@openzeppelin/=node_modules/@openzeppelin/"],
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
            "evmVersion": EVM_VERSION,
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
        },
    }


def compile_contracts() -> dict[str, dict[str, Any]]:
    """Compile the sources and return ``{name: {"abi": ..., "bytecode": ...}}``."""
    try:
        output = solcx.compile_standard(
            standard_input(), base_path=str(ROOT), solc_binary=solc_binary()
        )
    except solcx.exceptions.SolcError as exc:
        raise CompileError(str(exc)) from exc
    artifacts: dict[str, dict[str, Any]] = {}
    for source in output["contracts"].values():
        for name, compiled in source.items():
            if name in DEPLOYABLE:
                artifacts[name] = {
                    "abi": compiled["abi"],
                    "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
                }
    missing = set(DEPLOYABLE) - artifacts.keys()
    if missing:
        raise CompileError(f"contracts missing from compiler output: {sorted(missing)}")
    return artifacts


def _render(artifact: dict[str, Any]) -> str:
    return json.dumps(artifact, indent=1, sort_keys=True) + "\n"


def write_artifacts(artifacts: dict[str, dict[str, Any]]) -> None:
    """Write one JSON file per contract under ``artifacts/``."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    for name, artifact in artifacts.items():
        (ARTIFACTS_DIR / f"{name}.json").write_text(_render(artifact))


def stale_artifacts(artifacts: dict[str, dict[str, Any]]) -> list[str]:
    """Return the names whose committed artifact differs from ``artifacts``."""
    return [
        name
        for name, artifact in artifacts.items()
        if not (ARTIFACTS_DIR / f"{name}.json").is_file()
        or (ARTIFACTS_DIR / f"{name}.json").read_text() != _render(artifact)
    ]


def main(argv: list[str]) -> int:
    """Rebuild the artifacts, or with ``--check`` report stale ones and return 1."""
    artifacts = compile_contracts()
    if "--check" in argv:
        stale = stale_artifacts(artifacts)
        if stale:
            print(f"stale artifacts, run `make compile`: {', '.join(stale)}", file=sys.stderr)
            return 1
        print("artifacts are up to date")
        return 0
    write_artifacts(artifacts)
    print(f"wrote {len(artifacts)} artifacts to {ARTIFACTS_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
