"""Webhooks: which targets a subscription may name, and delivering alerts to them.

A webhook makes the gateway send requests where a member says, so the target must be a public
host: never this machine or its networks (the node's RPC port, a database, a cloud metadata
service). The host is resolved when the subscription is made and again before every
delivery, and the request goes straight to an address just checked (no redirects, no proxy),
so a name that resolves elsewhere later (DNS rebinding) cannot steer it inside.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from gateway.core.logging import get_logger
from gateway.db import models as m
from gateway.services.alerts import alert_out, may_read
from gateway.services.background import BackgroundLoop
from gateway.services.standing import webhook_audience
from ledger_client.errors import RxLedgerError

log = get_logger("rxledger.webhooks")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


class WebhookTargetError(RxLedgerError, ValueError):
    """Raised when a webhook URL names a host the gateway refuses to send to."""


LOOPBACK = "a loopback address"


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """Return the IPv4 addresses ``ip`` carries (mapped, 6to4, Teredo), then ``ip`` itself."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return [ip]
    inner = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    return [*(a for a in inner if a is not None), ip]


def refusal(ip: IPAddress) -> str | None:
    """Return why ``ip`` is no webhook target (e.g. ``"a loopback address"``), or None if it
    is a public address."""
    for a in _embedded(ip):
        for reason, applies in (
            ("an unspecified address", a.is_unspecified),
            (LOOPBACK, a.is_loopback),
            ("a link-local address", a.is_link_local),
            ("a multicast address", a.is_multicast),
            ("a reserved address", a.is_reserved),
            ("a private address", a.is_private),
            ("an address that is not globally routable", not a.is_global),
        ):
            if applies:
                return reason
    return None


def _check_name(host: str) -> None:
    try:
        ipaddress.ip_address(host.split("%")[0])
        return
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii").rstrip(".")
    except UnicodeError:
        ascii_host = ""
    labels = ascii_host.split(".")
    if not ascii_host or len(ascii_host) > 253 or not all(_LABEL.fullmatch(x) for x in labels):
        raise WebhookTargetError(f"webhook host {host!r} is not a valid host name")


def vetted_addresses(url: str, allow_loopback: bool = False) -> list[str]:
    """Resolve ``url``'s host and return its addresses; raise :class:`WebhookTargetError` if
    it does not resolve or any address is internal (loopback passes with ``allow_loopback``)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    _check_name(host)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise WebhookTargetError(f"webhook host {host!r} does not resolve ({exc})") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        reason = refusal(ipaddress.ip_address(address.split("%")[0]))
        if reason and not (reason == LOOPBACK and allow_loopback):
            raise WebhookTargetError(
                f"webhook host {host!r} resolves to {address}, {reason}: webhooks may only "
                "target public hosts, not this gateway's machine or networks"
            )
    return addresses


def post_pinned(client: httpx.Client, url: str, addresses: list[str], body: object) -> None:
    """POST ``body`` as JSON to ``url`` at the first of its vetted ``addresses`` that accepts a
    connection (keeping the URL's host in the Host header and in TLS)."""
    target = httpx.URL(url)
    error = httpx.ConnectError(f"no address for {target.host}")
    for address in addresses:
        try:
            client.post(
                target.copy_with(host=address),
                json=body,
                headers={"Host": target.netloc.decode("ascii")},
                extensions={"sni_hostname": target.host},
            ).raise_for_status()
            return
        except httpx.ConnectError as exc:
            error = exc
    raise error


class WebhookDispatcher(BackgroundLoop):
    """POSTs new alerts as JSON to the subscriptions whose owners may read them (runs beside
    the indexer). Owners are checked at every delivery: a member no longer active receives
    nothing, and only a current regulator or auditor receives every member's alerts.

    An alert withdrawn after a reorg (its block left the chain) is sent again, with
    ``withdrawn_at`` set, to the subscriptions it went to: those that may read it and
    existed when it was raised. One withdrawn before it was delivered goes to no one.
    """

    def __init__(
        self, engine: Engine, timeout: float, poll_seconds: float, allow_loopback: bool = False
    ) -> None:
        self.engine = engine
        self.timeout = timeout
        self.poll_seconds = poll_seconds
        self.allow_loopback = allow_loopback
        super().__init__("rxledger-webhooks")
        with engine.connect() as conn:
            self.last_id = int(
                conn.execute(select(func.coalesce(func.max(m.Alert.id), 0))).scalar_one()
            )
            self.last_withdrawal = int(
                conn.execute(select(func.coalesce(func.max(m.AlertWithdrawal.id), 0))).scalar_one()
            )

    def _run(self) -> None:
        # no HTTP(S)_PROXY: a proxy would resolve the name again itself
        with httpx.Client(timeout=self.timeout, follow_redirects=False, trust_env=False) as client:
            while not self._stop.wait(self.poll_seconds):
                try:
                    self.deliver(client)
                except Exception as exc:  # noqa: BLE001 - keep delivering after a failure
                    log.warning("webhook delivery failed", error=repr(exc))

    def deliver(self, client: httpx.Client) -> int:
        """Send the withdrawal notices of alerts already sent, then the alerts newer than the
        last delivered one; return how many POSTs succeeded."""
        with Session(self.engine) as conn:
            notices = conn.execute(
                select(m.AlertWithdrawal.id, m.Alert)
                .join(m.Alert, m.Alert.id == m.AlertWithdrawal.alert_id)
                .where(m.AlertWithdrawal.id > self.last_withdrawal)
                .order_by(m.AlertWithdrawal.id)
            ).all()
            withdrawn = [a for _, a in notices if a.id <= self.last_id]  # the ones sent
            new = list(
                conn.execute(
                    select(m.Alert).where(m.Alert.id > self.last_id).order_by(m.Alert.id)
                ).scalars()
            )
            fresh = [a for a in new if a.withdrawn_at is None]  # withdrawn unsent: not sent
            recipients = self._recipients(conn, withdrawn + fresh) if withdrawn or fresh else {}
        if notices:
            self.last_withdrawal = notices[-1][0]
        sent = 0
        for alert in withdrawn + fresh:
            body = json.loads(alert_out(alert).model_dump_json())
            for sub, addresses in recipients.get(alert.id, []):
                try:
                    post_pinned(client, sub.url, addresses, body)
                    sent += 1
                except httpx.HTTPError as exc:
                    log.warning("webhook failed", subscription=sub.id, error=repr(exc))
        if new:
            self.last_id = new[-1].id
        return sent

    def _recipients(
        self, conn: Session, alerts: list[m.Alert]
    ) -> dict[int, list[tuple[m.Subscription, list[str]]]]:
        """For each alert, the subscriptions that receive it (with their vetted addresses):
        active, made before the alert, of its kind, owned by a member that may read it."""
        subs = list(
            conn.execute(select(m.Subscription).where(m.Subscription.active.is_(True))).scalars()
        )
        audiences: dict[int, set[str]] = {}
        for alert_id, address in conn.execute(
            select(m.AlertAudience.alert_id, m.AlertAudience.address).where(
                m.AlertAudience.alert_id.in_([a.id for a in alerts])
            )
        ):
            audiences.setdefault(alert_id, set()).add(address)
        # owners that may receive alerts now -> may they still see every member's
        audience = webhook_audience(conn, {s.owner for s in subs})
        targets: dict[int, list[str] | None] = {}
        found: dict[int, list[tuple[m.Subscription, list[str]]]] = {}
        for alert in alerts:
            for sub in subs:
                if sub.owner not in audience or (sub.kinds and alert.kind not in sub.kinds):
                    continue
                if alert.withdrawn_at is not None and sub.created_at > alert.at:
                    continue  # made after the alert: it never got it
                see_all = sub.all_holders and audience[sub.owner]
                if not see_all and not may_read(alert, audiences.get(alert.id, set()), sub.owner):
                    continue
                if sub.id not in targets:
                    targets[sub.id] = self._vet(sub)
                addresses = targets[sub.id]
                if addresses is not None:
                    found.setdefault(alert.id, []).append((sub, addresses))
        return found

    def _vet(self, sub: m.Subscription) -> list[str] | None:
        try:
            return vetted_addresses(sub.url, self.allow_loopback)
        except WebhookTargetError as exc:
            log.warning("webhook target refused at delivery", subscription=sub.id, error=str(exc))
            return None
