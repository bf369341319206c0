"""Members publish their own gateway URLs on the consortium: what is refused, what survives."""

from __future__ import annotations

import pytest

from ledger_client.contracts import MemberStatus
from ledger_client.devnet import DevNetwork
from ledger_client.reverts import LedgerRevertError
from tests.utils.chain import Chain
from tests.utils.governance import govern


@pytest.mark.parametrize(
    "url", ["", "ftp://gw.example", "https://", "gw.example/rx", "https://" + "a" * 249]
)
def test_a_url_that_is_not_http_or_too_long_is_refused(net: DevNetwork, url: str) -> None:
    with pytest.raises(LedgerRevertError) as caught:
        net["wholesaler_a"].set_gateway_url(url)
    assert caught.value.error == "ConsortiumInvalidGatewayUrl"
    assert caught.value.args_by_name == {"url": url}
    assert net["wholesaler_a"].gateway_url() == ""


def test_a_member_publishes_and_replaces_its_own_url(net: DevNetwork) -> None:
    w = net["wholesaler_a"]
    longest = "https://" + "a" * 248
    for url in ("http://127.0.0.1:8001", longest):
        event = w.set_gateway_url(url).events[0]
        assert (event.name, event.args["member"], event.args["url"]) == (
            "GatewayUrlSet",
            w.address,
            url,
        )
    assert net["auditor"].gateway_url(w.address) == longest
    assert net["auditor"].gateway_url(net.address("pharmacy_a")) == ""


def test_a_suspended_members_url_stays_readable_and_frozen(net: DevNetwork) -> None:
    w = net["wholesaler_b"]
    w.set_gateway_url("https://wb.example")
    govern(net, "setMemberStatus", w.address, int(MemberStatus.SUSPENDED))
    with pytest.raises(LedgerRevertError) as caught:
        w.set_gateway_url("https://elsewhere.example")
    assert caught.value.error == "ConsortiumMemberNotActive"
    assert net["auditor"].gateway_url(w.address) == "https://wb.example"


def test_the_url_moves_with_a_rotated_key(net: DevNetwork, chain: Chain) -> None:
    w = net["wholesaler_b"]
    w.set_gateway_url("https://wb.example")
    new = chain.ledger("outsider").address
    govern(net, "rotateMemberKey", w.address, new)
    assert net["auditor"].gateway_url(new) == "https://wb.example"
    assert net["auditor"].gateway_url(w.address) == ""
