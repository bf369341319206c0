"""The EPCIS 2.0 query interface over the operator's store, filtered by the caller's rights.

A query reads the store's events, keeps those that meet its parameters
(:class:`ledger_client.epcis.query.EventQuery`) and that the caller may read
(:class:`gateway.services.access.EventAccess`), orders them, and returns one page. A page
token is the sort key of the last event returned and a digest of the query's parameters, so
the next page starts right after it even when new events were captured meanwhile, and a
token cannot be reused with other parameters.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gateway.services.access import EventAccess
from gateway.services.auth import AuthError, Principal
from gateway.services.readmodel import ReadModel
from ledger_client.epcis.hashing import GS1_CONTEXT, GS1_CONTEXTS
from ledger_client.epcis.query import EventQuery, QueryParameterError
from ledger_client.epcis.store import EventRecord, EventStore
from ledger_client.errors import RxLedgerError


class QueryTooLargeError(RxLedgerError, ValueError):
    """Raised when a query matches more events than its ``maxEventCount`` allows
    (EPCIS ``QueryTooLargeException``)."""


@dataclass(frozen=True)
class QueryPage:
    """One page of a query's results and the token of the next page (None on the last)."""

    events: list[dict[str, Any]]
    next_token: str | None


def _record_time(record: EventRecord) -> float:
    return dt.datetime.fromisoformat(record.record_time).timestamp()


def _digest(query: EventQuery) -> str:
    text = json.dumps(query.canonical, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _token(query: EventQuery, key: tuple[float, int]) -> str:
    data = json.dumps({"q": _digest(query), "k": list(key)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def _after(query: EventQuery) -> tuple[float, int] | None:
    """The sort key a page token says the previous page ended at."""
    if query.page_token is None:
        return None
    try:
        padded = query.page_token + "=" * (-len(query.page_token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        value, position = data["k"]
        digest = data["q"]
        key = (float(value), int(position))
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeEncodeError):
        raise QueryParameterError("nextPageToken", "not a page token of this gateway") from None
    if digest != _digest(query):
        raise QueryParameterError(
            "nextPageToken", "the token belongs to a query with other parameters"
        )
    return key


def _result_event(record: EventRecord) -> dict[str, Any]:
    """The event as the query answers it: with its record time, and its own JSON-LD context
    when its document declared more than GS1's."""
    event = {k: v for k, v in record.event.items() if k != "recordTime"}
    event["recordTime"] = record.record_time
    context = record.context
    contexts = context if isinstance(context, list) else [context]
    if any(not (isinstance(c, str) and c in GS1_CONTEXTS) for c in contexts if c is not None):
        event["@context"] = context
    return event


def query_document(events: list[dict[str, Any]], query_name: str) -> dict[str, Any]:
    """An EPCIS 2.0 query document holding ``events``."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "@context": [GS1_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": now,
        "epcisBody": {
            "queryResults": {"queryName": query_name, "resultsBody": {"eventList": events}}
        },
    }


class EventQueries:
    """Answers queries over the operator's EPCIS store for authenticated callers; ``clock``
    tells the chain's time, at which access grants expire."""

    def __init__(
        self,
        engine: Engine,
        store_path: Path,
        readmodel: ReadModel,
        operator: str | None,
        clock: Callable[[], float],
    ) -> None:
        self.engine = engine
        self.store_path = store_path
        self.readmodel = readmodel
        self.operator = operator
        self.clock = clock

    def _records(self) -> list[EventRecord]:
        if not self.store_path.exists():  # nothing captured yet: do not create the store
            return []
        with EventStore(self.store_path) as store:
            return list(store.records())

    def access(self, conn: Session, principal: Principal) -> EventAccess:
        """The caller's rights, read from the index as of its last refresh."""
        self.readmodel.refresh(self.readmodel.indexed_block())
        return EventAccess(conn, self.readmodel.owners, principal, self.operator, self.clock)

    def run(
        self, query: EventQuery, principal: Principal, items: list[str] | None = None
    ) -> QueryPage:
        """One page of the events that meet ``query`` and that ``principal`` may read.

        ``items`` (identifiers, from ``/epcs/{epc}/events``) must name a pack or unit the
        caller holds or held, or a pack of a lot it holds a live grant on, unless it reads
        everything: AuthError 403 otherwise.
        """
        after = _after(query)
        with Session(self.engine) as conn:
            access = self.access(conn, principal)
            if items is not None and not access.reads_all:
                ids = [i for value in items for i in access.item_ids(value)]
                if not access.held_ever(ids) and not access.granted_any(ids):
                    raise AuthError(
                        403,
                        f"{principal.address} never held {', '.join(items)} according to the"
                        " chain, holds no live access grant on its lot, and is neither this"
                        " gateway's operator nor a regulator",
                    )
            found = [
                (r, _record_time(r))
                for r in self._records()
                if query.matches(r.event, _record_time(r))
            ]
            visible = [(r, t) for r, t in found if access.may_read(r)]
        keyed = [((query.sort_value(r.event, t), r.position), r) for r, t in visible]
        descending = query.order_by is not None and query.descending
        keyed.sort(key=lambda pair: pair[0], reverse=descending)
        if query.max_event_count is not None and len(keyed) > query.max_event_count:
            raise QueryTooLargeError(
                f"the query matches {len(keyed)} events, more than maxEventCount"
                f" {query.max_event_count}"
            )
        if query.event_count_limit is not None:
            keyed = keyed[: query.event_count_limit]
        if after is not None:
            keyed = [(k, r) for k, r in keyed if (k < after if descending else k > after)]
        page = keyed[: query.per_page]
        more = len(keyed) > query.per_page
        return QueryPage(
            [_result_event(r) for _, r in page], _token(query, page[-1][0]) if more else None
        )
