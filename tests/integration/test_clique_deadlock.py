"""Clique's equal-difficulty deadlock, made on purpose on four geth signers: two forks of the
same total difficulty, every signer that may still seal on one sitting on the other. The
network's watchdog rewinds one side to the common ancestor; the network seals again and
every node agrees."""

from __future__ import annotations

import pytest
from web3.types import RPCEndpoint

from ledger_client.dev.clique import CliqueNetwork, geth_binary
from ledger_client.dev.clique_watchdog import CliqueWatchdog
from tests.utils.clique_deadlock import deadlock

pytestmark = pytest.mark.network


def test_the_watchdog_ends_an_equal_difficulty_deadlock_and_every_node_agrees() -> None:
    geth_binary()
    with CliqueNetwork(size=4, period=2) as network:
        watchdog = network.watchdog
        assert watchdog is not None
        watchdog.stop()  # until the deadlock is made and checked
        sides = deadlock(network)

        tips = {}
        for side in sides:
            head = network.w3(side[0]).eth.get_block("latest")
            snapshot = network.w3(side[0]).manager.request_blocking(
                RPCEndpoint("clique_getSnapshot"), ["latest"]
            )
            # Clique refuses a seal at block n from who sealed one of the last limit - 1 blocks.
            limit = len(snapshot["signers"]) // 2 + 1
            barred = {
                signer.lower()
                for number, signer in snapshot["recents"].items()
                if int(number) > head["number"] + 1 - limit
            }
            assert {network.nodes[i].signer.address.lower() for i in side} <= barred
            tips[head["hash"]] = (head["number"], head["totalDifficulty"])
        assert len(tips) == 2 and len({td for _, td in tips.values()}) == 1

        watchdog.start()
        network.agreed_hash(max(number for number, _ in tips.values()) + 2, timeout=120)
        [rewind] = watchdog.rewinds
        assert sorted(rewind.nodes) in [sorted(network.nodes[i].name for i in s) for s in sides]


def test_the_watchdog_leaves_a_follower_that_is_only_behind_on_the_same_chain() -> None:
    geth_binary()
    with CliqueNetwork(size=2, period=1, signers=1, watchdog=False) as network:
        network.agreed_hash(3, timeout=60)
        signer, follower = network.w3(0), network.w3(1)
        signer.manager.request_blocking(RPCEndpoint("miner_stop"), [])  # no head moves now
        watchdog = CliqueWatchdog(network, stall_after=0)
        for _ in range(3):  # geth may resync the follower between the two reads: try again
            head = signer.eth.block_number
            follower.manager.request_blocking(RPCEndpoint("debug_setHead"), [hex(head - 2)])
            assert watchdog.check() is None  # the first read only records the heads
            assert watchdog.check() is None
            if follower.eth.block_number < head:
                break
        else:
            pytest.fail("the follower resynced before the watchdog looked three times")
        assert watchdog.rewinds == []
