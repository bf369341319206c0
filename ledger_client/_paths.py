"""Where RxLedger's files are: the repository root and the committed contract artifacts."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
