"""Build a simulated world on anvil with injected incidents; write history, scans, master
data, ground truth and legitimate flows.

python scripts/simulate.py --preset dense --seed 1 [--days 28 --packs 9000 ...] --out DIR
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from _harness import ROOT, arguments

from ledger_client.sim.config import PRESETS, WorldConfig
from ledger_client.sim.run import simulate

#: The first day of the worlds whose evaluations docs/results holds: the same seed, preset
#: and start build the same world.
WORLDS_START = "2026-12-07"


def _monday(text: str) -> int:
    day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    if day.weekday() != 0:
        raise ValueError(f"{text} is no Monday")
    return int(day.timestamp())


def add_world_arguments(ap) -> None:  # type: ignore[no-untyped-def]
    """The world's options: a preset, the seed, the anvil port and overrides of the preset."""
    ap.add_argument("--preset", choices=sorted(PRESETS), default="dense")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--port", type=int, default=8555)
    ap.add_argument(
        "--start",
        type=_monday,
        default=_monday(WORLDS_START),
        help=f"the world's first day, a Monday (default {WORLDS_START}, that of docs/results)",
    )
    for name in WorldConfig.__dataclass_fields__:
        ap.add_argument(f"--{name.replace('_', '-')}", type=int, dest=name, default=None)


def world_config(args) -> WorldConfig:  # type: ignore[no-untyped-def]
    """The preset with the overrides given on the command line."""
    overrides = {n: getattr(args, n) for n in WorldConfig.__dataclass_fields__}
    return PRESETS[args.preset].with_(**{k: v for k, v in overrides.items() if v is not None})


def default_out(args) -> Path:  # type: ignore[no-untyped-def]
    """Where a world of these options is written by default."""
    return ROOT / ".rxledger" / f"sim-{args.preset}-{args.seed}"


def main() -> None:
    ap = arguments(__doc__)
    add_world_arguments(ap)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    cfg = world_config(args)
    if cfg.days < 15 or cfg.packs < 100 or cfg.pharmacies < 3 or cfg.wholesalers < 2:
        ap.error("a world needs at least 15 days, 100 packs, 3 pharmacies and 2 wholesalers")
    meta = simulate(
        args.out or default_out(args), cfg, args.seed, args.port, args.preset, args.start
    )
    print(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
