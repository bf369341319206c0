"""Gas per pack of a whole RxLedger lifecycle, against a naive one-token-per-pack baseline.

Lifecycle: 1,000 packs commissioned into cases of 50, cases packed 5 to a pallet (4 pallets),
three custody hops at pallet level (manufacturer → wholesaler A → wholesaler B → pharmacy),
unpacked at the pharmacy, dispensed in batches of 50. The baseline (contracts/baseline/
NaivePackToken.sol) mints one ERC-721 token per pack, transfers every token at every hop,
and burns it at dispense, with the same batch sizes.

    python scripts/bench_gas.py [--chain eth-tester|http://127.0.0.1:8545] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from typing import Any  # noqa: E402

from eth_account.signers.local import LocalAccount  # noqa: E402
from web3 import Web3  # noqa: E402

from ledger_client.chain import connect, dev_account  # noqa: E402
from ledger_client.contracts import deploy_contract  # noqa: E402
from ledger_client.dev.anvil import Anvil  # noqa: E402
from ledger_client.dev.codes import sscc  # noqa: E402
from ledger_client.devnet import deploy_devnet  # noqa: E402
from ledger_client.ledger import Ledger  # noqa: E402
from ledger_client.types import DecommissionReason, Receipt  # noqa: E402

PACKS = 1000
CASE = 50
CASES_PER_PALLET = 5
GTIN = "09506000134352"
LOT = "BENCH1"
HOPS = ("manufacturer", "wholesaler_a", "wholesaler_b", "pharmacy_a")
#: Company prefix of the SSCCs; extension digit 1 for cases, 2 for pallets.
PREFIX = "9506000"


def ledger_lifecycle(net: dict[str, Ledger]) -> dict[str, list[Receipt]]:
    """Run the RxLedger lifecycle; return the receipts of each step."""
    steps: dict[str, list[Receipt]] = defaultdict(list)
    m = net["manufacturer"]
    steps["register_lot"].append(m.register_lot(GTIN, LOT, "301231"))
    serials = [f"B{i:06d}" for i in range(PACKS)]
    cases = [sscc(1, PREFIX, c) for c in range(PACKS // CASE)]
    pallets = [sscc(2, PREFIX, p) for p in range(len(cases) // CASES_PER_PALLET)]
    for c, case in enumerate(cases):
        steps["commission"] += m.commission(
            GTIN, LOT, serials[c * CASE : (c + 1) * CASE], into_sscc=case
        )
    for p, pallet in enumerate(pallets):
        units = cases[p * CASES_PER_PALLET : (p + 1) * CASES_PER_PALLET]
        steps["pack_pallets"].append(m.pack(pallet, units=units))
    for sender, receiver in zip(HOPS, HOPS[1:], strict=False):
        steps["ship"] += net[sender].ship(net[receiver].address, units=pallets)
        steps["receive"] += net[receiver].receive(units=pallets)
    pharmacy = net[HOPS[-1]]
    steps["unpack"].append(pharmacy.unpack(pallets))
    steps["unpack"].append(pharmacy.unpack(cases))
    for start in range(0, PACKS, CASE):
        packs = [(GTIN, s) for s in serials[start : start + CASE]]
        steps["dispense"] += pharmacy.decommission(packs, DecommissionReason.DISPENSED)
    return steps


def single_dispense(net: dict[str, Ledger]) -> int:
    """Gas of one transaction dispensing one loose pack at the pharmacy."""
    m, pharmacy = net["manufacturer"], net[HOPS[-1]]
    m.commission(GTIN, LOT, ["SINGLE"])
    m.ship(pharmacy.address, packs=[(GTIN, "SINGLE")])
    pharmacy.receive(packs=[(GTIN, "SINGLE")])
    return pharmacy.decommission([(GTIN, "SINGLE")], DecommissionReason.DISPENSED)[0].gas_used


def baseline_lifecycle(w3: Web3, accounts: list[LocalAccount], batch: int) -> dict[str, int]:
    """Run the naive ERC-721 lifecycle with ``batch`` packs a transaction (1 = the standard
    ERC-721 calls, one transaction per pack); return the gas of each step."""
    token = deploy_contract(w3, accounts[0], "NaivePackToken")
    gas: dict[str, int] = defaultdict(int)
    nonces = {a.address: w3.eth.get_transaction_count(a.address) for a in accounts}

    def send(account: LocalAccount, fn: Any) -> str:
        tx = fn.build_transaction(
            {"from": account.address, "nonce": nonces[account.address], "gas": 10**7}
        )
        nonces[account.address] += 1
        return w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)

    def settle(step: str, hashes: list[str]) -> None:
        for tx_hash in hashes:
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
            if receipt["status"] != 1:
                raise RuntimeError(f"baseline {step} transaction failed")
            gas[step] += int(receipt["gasUsed"])

    ids = [10**30 + i for i in range(PACKS)]
    batches = [ids[i : i + batch] for i in range(0, PACKS, batch)]
    fn = token.functions
    if batch == 1:
        settle("commission", [send(accounts[0], fn.mint(i)) for i in ids])
        for a, b in zip(accounts, accounts[1:], strict=False):
            settle("ship", [send(a, fn.transferFrom(a.address, b.address, i)) for i in ids])
        settle("dispense", [send(accounts[-1], fn.burn(i)) for i in ids])
        return gas
    settle("commission", [send(accounts[0], fn.mintBatch(b)) for b in batches])
    for a, b in zip(accounts, accounts[1:], strict=False):
        settle("ship", [send(a, fn.transferBatch(b.address, ids_)) for ids_ in batches])
    settle("dispense", [send(accounts[-1], fn.burnBatch(b)) for b in batches])
    return gas


def run(chain_url: str) -> dict[str, Any]:
    """Measure the lifecycle and both baselines on ``chain_url``; return the figures."""
    w3 = connect(chain_url)
    net = deploy_devnet(w3, batch_size=PACKS).ledgers
    steps = ledger_lifecycle(net)
    per_step = {name: sum(r.gas_used for r in rs) for name, rs in steps.items()}
    total = sum(per_step.values())
    accounts = [dev_account(n) for n in HOPS]
    naive = baseline_lifecycle(w3, accounts, batch=1)
    batched = baseline_lifecycle(w3, accounts, batch=CASE)
    return {
        "packs": PACKS,
        "lifecycle_gas_per_pack": round(total / PACKS),
        "baseline_gas_per_pack": round(sum(naive.values()) / PACKS),
        "ratio_to_baseline": round(total / sum(naive.values()), 3),
        "batched_baseline_gas_per_pack": round(sum(batched.values()) / PACKS),
        "ratio_to_batched_baseline": round(total / sum(batched.values()), 3),
        "single_pack_dispense_tx_gas": single_dispense(net),
        "steps_gas_per_pack": {k: round(v / PACKS, 1) for k, v in per_step.items()},
        "steps_transactions": {k: len(v) for k, v in steps.items()},
        "baseline_steps_gas_per_pack": {k: round(v / PACKS, 1) for k, v in naive.items()},
        "batched_baseline_steps_gas_per_pack": {k: round(v / PACKS, 1) for k, v in batched.items()},
        "chain": chain_url,
    }


def print_table(r: dict[str, Any]) -> None:
    """Print the figures as a table."""
    print(f"{'step':<14}{'tx':>5}{'gas/pack':>12}")
    for name, gas in r["steps_gas_per_pack"].items():
        print(f"{name:<14}{r['steps_transactions'][name]:>5}{gas:>12,.0f}")
    print(
        f"{'lifecycle':<14}{sum(r['steps_transactions'].values()):>5}{r['lifecycle_gas_per_pack']:>12,}"
    )
    print(f"{'baseline':<19}{r['baseline_gas_per_pack']:>12,}  ERC-721, one tx per pack and hop")
    print(
        f"{'batched baseline':<19}{r['batched_baseline_gas_per_pack']:>12,}"
        f"  ERC-721, {CASE} packs a tx"
    )
    print(
        f"ratio to baseline {r['ratio_to_baseline']}, to batched baseline "
        f"{r['ratio_to_batched_baseline']}; single-pack dispense tx "
        f"{r['single_pack_dispense_tx_gas']:,} gas"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--chain", default="anvil", help="anvil (started here), eth-tester, or a URL"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--out", type=Path, help="also write the JSON to this file")
    args = parser.parse_args()
    if args.chain == "anvil":
        with Anvil(port=8600) as node:
            result = run(node.url)
        result["chain"] = "anvil"
    else:
        result = run(args.chain)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
