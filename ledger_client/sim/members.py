"""The members of a simulated world: producers (one overseas), a 3PL, wholesalers, a reverse
distributor, pharmacies and a regulator, each with its roles, GLN, company prefix and
location (time zone, opening hours, holidays)."""

from __future__ import annotations

from dataclasses import dataclass

from ledger_client.chain import dev_account
from ledger_client.contracts import MemberSpec, Role
from ledger_client.devnet import gln
from ledger_client.sim.calendar import HOLIDAYS, Hours, Site
from ledger_client.sim.config import WorldConfig

_ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
_WEEK = 5


def _week(days: Hours, sat: Hours = (), sun: Hours = ()) -> tuple[Hours, ...]:
    return (days,) * _WEEK + (sat, sun)


@dataclass(frozen=True)
class Member:
    """One member of the world."""

    name: str
    kind: str
    roles: Role
    prefix: str
    site: Site

    @property
    def address(self) -> str:
        """Its dev account's address."""
        return str(dev_account(f"sim:{self.name}").address)


def layout(cfg: WorldConfig, start: int) -> list[Member]:
    """The members of a world of ``cfg`` from ``start``, in consortium order."""
    us, india = HOLIDAYS["US"], HOLIDAYS["IN"]
    out: list[Member] = []

    def add(name: str, kind: str, roles: Role, prefix: str, zone: str, hours, hol) -> None:  # type: ignore[no-untyped-def]
        out.append(Member(name, kind, roles, prefix, Site(zone, hours, hol, start)))

    for k in range(cfg.makers):
        overseas = k == cfg.makers - 1 and cfg.makers > 1
        roles = Role.REPACKAGER if k == 1 and cfg.makers >= 3 else Role.MANUFACTURER
        if k == 0:
            roles |= Role.COUNCIL
        zone = "Asia/Kolkata" if overseas else _ZONES[k % 2]
        hours = _week(((9.0, 18.0),), ((9.0, 13.0),)) if overseas else _week(((6.0, 18.0),))
        add(
            f"maker_{k + 1}",
            "maker",
            roles,
            f"06{k + 1:02d}000",
            zone,
            hours,
            india if overseas else us,
        )
    add(
        "tpl",
        "3pl",
        Role.LOGISTICS,
        "0698000",
        "America/Chicago",
        _week(((5.0, 22.0),), ((6.0, 14.0),)),
        us,
    )
    for k in range(cfg.wholesalers):
        roles = Role.WHOLESALER | (Role.COUNCIL if k == 0 else Role(0))
        night = ((7.0, 17.0), (21.0, 23.75))
        add(
            f"wholesaler_{k + 1}",
            "wholesaler",
            roles,
            f"07{k + 1:02d}000",
            _ZONES[k % 4],
            _week(night, (), ((21.0, 23.75),)),
            us,
        )
    add(
        "reverse",
        "reverse",
        Role.REVERSE_DISTRIBUTOR,
        "0699000",
        "America/Chicago",
        _week(((7.0, 17.0),)),
        us,
    )
    for k in range(cfg.pharmacies):
        if k == 0:
            hours = (((0.0, 24.0),),) * 7
            hol: tuple[str, ...] = ()
        elif k % 3 == 2:
            hours = _week(((8.0, 21.0),), ((9.0, 18.0),), ((10.0, 16.0),))
            hol = ("2026-12-25", "2027-01-01")
        else:
            hours = _week(((8.0, 20.0),), ((9.0, 17.0),))
            hol = ("2026-12-25", "2027-01-01", "2027-11-25")
        add(
            f"pharmacy_{k + 1}", "pharmacy", Role.DISPENSER, "", _ZONES[(k * 3 + 1) % 4], hours, hol
        )
    add(
        "regulator",
        "regulator",
        Role.REGULATOR | Role.COUNCIL,
        "",
        "America/New_York",
        _week(((9.0, 17.0),)),
        us,
    )
    return out


def specs(members: list[Member], now: int) -> list[MemberSpec]:
    """The consortium's bootstrap members, licensed for five years from ``now``."""
    return [
        MemberSpec(
            m.name,
            m.address,
            gln(f"0{8000 + i:04d}0000001"[:12]),
            m.roles,
            now + 5 * 365 * 86_400,
            (m.prefix,) if m.prefix else (),
        )
        for i, m in enumerate(members)
    ]
