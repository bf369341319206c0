"""The learned detectors calibrated on each lane's and member's own history, on models
replayed from crafted events: the missed truck is normal and two business days late is not,
and a long lane's deliveries vary in proportion to its length; "not received" follows the
lane, both in the recipient's business days; a one-day spike is flagged, a go-live, a new
level or a maker's campaign is not; night is outside the member's own business hours in its
own time zone; a lane new for an owner's goods is a finding unless a regular distributor of
them trades on it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.findings import AnomalyConfig
from ledger_client.audit.lanes import not_received, transit_outliers
from ledger_client.audit.learned import quiet_hour_activity, unusual_routes, volume_changes
from ledger_client.audit.model import RegistryModel
from ledger_client.events import ItemsShipped
from tests.utils.crafted_events import BASE, DAY, History

H = 3600
MAKER, WHOLESALER, DISPENSER = 0x01, 0x04, 0x10
A, B, C, D = ("0x" + c * 40 for c in "abcd")
W1, W2, W3, P1, P2, Z = ("0x" + c * 40 for c in "123456")


def _ship_tx(model: RegistryModel, sender: str, to: str, ts: int) -> str:
    (e,) = [
        e
        for e in model.events
        if isinstance(e, ItemsShipped) and (e.from_, e.to, e.timestamp) == (sender, to, ts)
    ]
    return "0x" + e.tx_hash.hex()


def _lanes() -> tuple[History, dict[str, int]]:
    """A next-day lane A->B on weekdays (Monday's deliveries a day late: the missed truck;
    Friday's arrive on Monday) and a weekly 17-day ocean lane A->C; B works every weekday."""
    h = History()
    members = ((A, MAKER), (B, WHOLESALER | MAKER), (C, WHOLESALER))
    for i, (acc, roles) in enumerate(members, 1):
        h.member(acc, i, roles)
    monday = BASE + (4 - BASE // DAY) % 7 * DAY  # 1970-01-01 was a Thursday
    for week in range(13):
        for wd in range(5):
            h.pack(B, monday + week * 7 * DAY + wd * DAY + 11 * H)  # B's own day's work
    for week in range(8):
        for wd in range(5):
            sent = monday + week * 7 * DAY + wd * DAY + 15 * H
            delay = 42 * H if wd == 0 else 18 * H
            arrives = wd + (15 * H + delay) // DAY
            received = sent + delay + (48 * H if arrives >= 5 else 0)
            h.ship(A, B, h.pack(A, sent - H), sent, received)
        sent = monday + week * 7 * DAY + 10 * H
        h.ship(A, C, h.pack(A, sent - H), sent, sent + 408 * H + (week % 3) * 6 * H)
    at = {"late": monday + 8 * 7 * DAY + DAY + 15 * H}  # Tuesday; Friday 09:00: 3 days
    h.ship(A, B, h.pack(A, at["late"] - H), at["late"], at["late"] + 66 * H)
    at["ocean_late"] = monday + 8 * 7 * DAY + 10 * H  # four days over the usual 17
    h.ship(A, C, h.pack(A, at["ocean_late"] - H), at["ocean_late"], at["ocean_late"] + 504 * H)
    at["now"] = monday + 12 * 7 * DAY + 12 * H
    for key, age in (("lost_next_day", 8), ("fresh", 2), ("ocean_at_sea", 15)):
        at[key] = at["now"] - age * DAY
        h.ship(A, C if key.startswith("ocean") else B, h.pack(A, at[key] - H), at[key], None)
    return h, at


def test_a_missed_truck_is_usual_and_two_business_days_late_is_an_outlier() -> None:
    h, at = _lanes()
    m = h.done()
    found = transit_outliers(m, AnomalyConfig())
    assert {f.subject for f in found} == {
        _ship_tx(m, A, B, at["late"]),
        _ship_tx(m, A, C, at["ocean_late"]),
    }
    f = next(f for f in found if f.subject == _ship_tx(m, A, B, at["late"]))
    assert f.inputs["usual_days"] == 1 and f.inputs["business_days"] == 3
    assert "more than 2 business days of" in f.threshold


def test_a_lane_that_often_misses_the_truck_still_delivers_the_next_day_as_usual() -> None:
    """Ten of fourteen deliveries the next business day, three a missed truck later, one three
    business days later: 71 % came the next day, so that is the lane's usual day and the last
    one is late. Taken as the 75 % day, the usual day would be the missed truck's."""
    h = History()
    for i, (acc, roles) in enumerate(((A, MAKER), (B, WHOLESALER | MAKER)), 1):
        h.member(acc, i, roles)
    monday = BASE + (4 - BASE // DAY) % 7 * DAY
    for day in range(6 * 7):
        if day % 7 < 5:
            h.pack(B, monday + day * DAY + 11 * H)  # B's own day's work
    sent = [monday + week * 7 * DAY + wd * DAY + 15 * H for week in range(5) for wd in range(3)]
    for k, t in enumerate(sent[:14]):
        delay = 66 * H if k == 12 else 42 * H if k in (2, 6, 10) else 18 * H
        h.ship(A, B, h.pack(A, t - H), t, t + delay)
    m = h.done()
    (f,) = transit_outliers(m, AnomalyConfig())
    assert f.subject == _ship_tx(m, A, B, sent[12])
    assert f.inputs["usual_days"] == 1 and f.inputs["business_days"] == 3
    assert transit_outliers(m, AnomalyConfig(lane_usual_quantile=0.75)) == []


def test_a_long_lane_allows_days_in_proportion_to_its_length() -> None:
    """A weekly 20-day sea lane A->D: two days over is its own variation (15 % of 20 is three
    days), four days over is late; the recipient's receipts are its only activity, a week
    or more apart, so every calendar day is a business day."""
    h = History()
    for i, (acc, roles) in enumerate(((A, MAKER), (D, WHOLESALER)), 1):
        h.member(acc, i, roles)
    monday = BASE + (4 - BASE // DAY) % 7 * DAY
    sent = {}
    for week, days in [*((w, 20) for w in range(8)), (8, 22), (9, 24)]:
        sent[days] = t = monday + week * 7 * DAY + 10 * H
        h.ship(A, D, h.pack(A, t - H), t, t + days * DAY)
    m = h.done()
    found = {f.subject: f for f in transit_outliers(m, AnomalyConfig())}
    assert set(found) == {_ship_tx(m, A, D, sent[24])}
    assert found[_ship_tx(m, A, D, sent[24])].inputs["threshold_days"] == 23
    strict = transit_outliers(m, AnomalyConfig(lane_relative_slack=0))
    assert {f.subject for f in strict} == {_ship_tx(m, A, D, sent[22]), _ship_tx(m, A, D, sent[24])}


def test_not_received_follows_the_lane_s_own_deliveries() -> None:
    h, at = _lanes()
    m = h.done()
    found = not_received(m, at["now"], AnomalyConfig(), Catalogue().describer(m))
    assert {f.subject for f in found} == {_ship_tx(m, A, B, at["lost_next_day"])}
    assert "70% of 41 deliveries by then" in found[0].threshold
    # the fixed 14 days of before would miss the lost next-day shipment and flag the ocean
    fixed = AnomalyConfig(not_received_min_samples=10**6)
    old = {f.subject for f in not_received(m, at["now"], fixed, Catalogue().describer(m))}
    assert _ship_tx(m, A, C, at["ocean_at_sea"]) in old
    assert _ship_tx(m, A, B, at["lost_next_day"]) not in old


def _shipments(h: History, owner: str, day: int, n: int) -> None:
    for k in range(n):
        ts = BASE + day * DAY + 9 * H + k * 60
        h.ship(owner, Z, h.pack(owner, ts), ts + 30, None)


def test_a_one_day_spike_is_flagged_a_go_live_and_a_new_level_are_not() -> None:
    h = History()
    for i, acc in enumerate((A, B, C, Z), 1):
        h.member(acc, i, MAKER if acc != Z else WHOLESALER)
    for day in range(1, 40):
        # 3x once, then three short days (the stock it took); 2.25x once, the days after as usual
        _shipments(h, A, day, {20: 60, 21: 12, 22: 12, 23: 12, 25: 45}.get(day, 20))
        if day >= 10:
            _shipments(h, B, day, 30)  # goes live on day 10
        _shipments(h, C, day, 10 if day < 15 else 25)  # a new customer from day 15
    # a campaign: commissioning at three times the usual is how makers produce
    for k in range(60):
        h.pack(C, BASE + 30 * DAY + 14 * H + k * 60)
    m = h.done()
    found = volume_changes(m, AnomalyConfig())
    assert {f.subject for f in found} == {f"{A}@{BASE // DAY + 20}"}
    (f,) = found
    assert f.inputs["count"] == 60 and f.inputs["expected"] == 20
    assert (f.inputs["after_count"], f.inputs["after_expected"]) == (36, 60)
    assert "more than 44.0 shipments" in f.threshold
    assert "next 3 working days recorded 36 shipments against 60.0 expected" in f.threshold


def test_under_four_times_a_spike_needs_a_lull_after_it_and_a_catch_up_is_none() -> None:
    """Three times the usual followed by usual days is a busy day; followed by three short
    days (the stock it took) it is a spike. 4.5 times is one at once, before the days after
    it are known. A day making up for the short day before it is demand that waited; one
    topping three busy days (over by as much as it is) is demand rising into it, and three
    days a little busy do not make one."""
    h = History()
    for i, acc in enumerate((A, B, C, D, W1, W2, Z), 1):
        h.member(acc, i, MAKER if acc != Z else WHOLESALER)
    lull = {21: 10, 22: 10, 23: 10}
    for day in range(1, 40):
        _shipments(h, A, day, {20: 60}.get(day, 20))
        _shipments(h, B, day, {20: 60, **lull}.get(day, 20))
        _shipments(h, C, day, {39: 90}.get(day, 20))
        _shipments(h, D, day, {17: 34, 18: 34, 19: 34, 20: 60, 21: 14, 22: 14, 23: 14}.get(day, 20))
        _shipments(h, W1, day, {20: 2, 21: 45, 22: 10, 23: 10, 24: 10}.get(day, 20))
        _shipments(h, W2, day + 5, {17: 24, 18: 24, 19: 24, 20: 60, **lull}.get(day, 20))
    found = volume_changes(h.done(), AnomalyConfig())
    assert sorted(f.subject for f in found) == sorted(
        [f"{B}@{BASE // DAY + 20}", f"{C}@{BASE // DAY + 39}", f"{W2}@{BASE // DAY + 25}"]
    )
    mild = next(f for f in found if f.subject.startswith(W2))
    assert (mild.inputs["leading_count"], mild.inputs["leading_expected"]) == (72, 60)
    latest = next(f for f in found if f.subject.startswith(C))
    assert latest.inputs["after_count"] is None
    assert "at least 4x the expected count" in latest.threshold


def test_a_spike_beside_a_busy_day_is_flagged_and_a_two_day_surge_is_not() -> None:
    """A day at six times the usual next to one at 2.75 times (less than half of it) is a
    spike; two days at three times the usual in a row are a surge that lasts."""
    h = History()
    for i, acc in enumerate((A, Z), 1):
        h.member(acc, i, MAKER if acc != Z else WHOLESALER)
    for day in range(1, 40):
        _shipments(h, A, day, {10: 120, 11: 55, 30: 60, 31: 58}.get(day, 20))
    found = volume_changes(h.done(), AnomalyConfig())
    assert [f.subject for f in found] == [f"{A}@{BASE // DAY + 10}"]


def test_night_is_outside_the_member_s_own_business_hours_in_its_own_time_zone() -> None:
    h = History()
    h.member(A, 1, MAKER)  # New York, 08:00-20:00 in its master data
    h.member(B, 2, MAKER)  # Berlin, default hours, a habit of late work at 23:00
    ny, berlin = -5 * H, 1 * H  # winter offsets from UTC
    for day in range(1, 31):
        for k in range(10):
            h.pack(A, BASE + day * DAY + (9 + k) * H - ny)
            h.pack(B, BASE + day * DAY + (10 + k // 2) * H - berlin)
        h.pack(B, BASE + day * DAY + 23 * H + 10 * 60 - berlin)
    night_ny = BASE + 31 * DAY + 3 * H - ny  # 03:00 in New York, 08:00 UTC
    h.pack(A, night_ny)
    h.pack(A, BASE + 31 * DAY + 21 * H - ny)  # 21:00: after its closing, a rare hour
    h.pack(B, BASE + 31 * DAY + 4 * H - berlin)  # 04:00 in Berlin
    m = h.done()
    hours = "08:00-20:00"
    names = Catalogue(
        members={
            A: {"name": "maker_ny", "time_zone": "America/New_York", "business_hours": hours},
            B: {"name": "wholesaler_de", "time_zone": "Europe/Berlin"},
        }
    )
    found = quiet_hour_activity(m, AnomalyConfig(), names.describer(m))
    assert sorted((f.inputs["time_zone"], f.inputs["hour"]) for f in found) == [
        ("America/New_York", 3),
        ("America/New_York", 21),
        ("Europe/Berlin", 4),
    ]
    ny_night = next(f for f in found if f.inputs["hour"] == 3)
    assert "03:00 EST" in ny_night.seen and "08:00-20:00" in ny_night.threshold
    local = datetime.fromtimestamp(night_ny, ZoneInfo("America/New_York"))
    assert ny_night.evidence[0]["local_time"] == local.isoformat()


def test_a_lane_new_for_an_owner_s_goods_is_unusual_unless_a_regular_distributor_trades() -> None:
    h = History()
    members = ((A, MAKER), (Z, MAKER), (W1, WHOLESALER), (W2, WHOLESALER), (W3, WHOLESALER))
    for i, (acc, roles) in enumerate((*members, (P1, DISPENSER), (P2, DISPENSER)), 1):
        h.member(acc, i, roles)
    for day in range(1, 41):
        t = BASE + day * DAY + 9 * H
        for maker, w, p in ((A, W1, P1), (A, W2, P2), (Z, W3, P1)):
            pid = h.pack(maker, t)
            h.ship(maker, w, pid, t + 60, t + 3 * H)
            h.ship(w, p, pid, t + 4 * H, t + 6 * H)
    t = BASE + 41 * DAY + 9 * H
    secondary, balancing, to_w3 = (h.pack(A, t) for _ in range(3))
    h.ship(A, W2, secondary, t + 60, t + H)
    h.ship(W2, P1, secondary, t + 2 * H, t + 3 * H)  # a secondary wholesaler fills in
    h.ship(A, W1, balancing, t + 60, t + H)
    h.ship(W1, W2, balancing, t + 2 * H, t + 3 * H)  # stock balancing
    h.ship(A, W1, to_w3, t + 60, t + H)
    h.ship(W1, W3, to_w3, t + 2 * H, t + 3 * H)
    diverted = t + 5 * H  # on W3 -> P1, busy with Z's goods, from a sender new to A's
    h.ship(W3, P1, to_w3, diverted, t + 6 * H)
    direct = t + 7 * H  # the maker straight to a pharmacy
    h.ship(A, P2, h.pack(A, t), direct, t + 8 * H)
    m = h.done()
    found = unusual_routes(m, AnomalyConfig())
    assert {f.subject for f in found} == {
        _ship_tx(m, W3, P1, diverted),
        _ship_tx(m, A, P2, direct),
    }
    busy = next(f for f in found if f.subject == _ship_tx(m, W3, P1, diverted))
    assert busy.inputs["network_lane_count"] == 41 and busy.inputs["lane_count"] == 1
