"""The EPCIS 2.0 query language over stored events: parameters, matching, order.

:func:`parse_query` reads the parameters of a query (the REST binding's URI query string, or
the ``query`` object of a named query) into an :class:`EventQuery`, raising
:class:`QueryParameterError` (EPCIS ``QueryParameterException``) for a parameter this
repository does not know or support, or a value it cannot read. :meth:`EventQuery.matches`
applies it to one event. Identifiers compare by what they name, not by spelling: an SGTIN
as an EPC URN and as a GS1 Digital Link URI is the same pack, and CBV terms compare in
their bare form (EPCIS 2.0 section 8.2.7.1; CBV 2.0).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ledger_client.epcis._cbv import bare
from ledger_client.epcis._schema import EVENT_TYPES
from ledger_client.errors import RxLedgerError
from ledger_client.gs1.epc import Epc, is_gs1_identifier, parse_epc_or_none

__all__ = [
    "EVENT_TYPES",
    "LIST_PARAMETERS",
    "SUPPORTED",
    "EventQuery",
    "QueryParameterError",
    "epc_key",
    "parse_query",
    "parse_time",
    "time_of",
]

#: Largest page; a larger ``perPage`` is lowered to it (the binding lets a server cap it).
MAX_PER_PAGE = 1000
DEFAULT_PER_PAGE = 30

# Parameters that take a list of values (pipe-delimited in a URI, arrays in a query object).
_LIST_EQ = {
    "EQ_action": "action",
    "EQ_bizStep": "bizStep",
    "EQ_disposition": "disposition",
    "EQ_readPoint": "readPoint",
    "EQ_bizLocation": "bizLocation",
    "EQ_transformationID": "transformationID",
    "EQ_eventID": "eventID",
}
_MATCH_EPC = {
    "MATCH_epc": ("epcList", "childEPCs"),
    "MATCH_parentID": ("parentID",),
    "MATCH_inputEPC": ("inputEPCList",),
    "MATCH_outputEPC": ("outputEPCList",),
    "MATCH_anyEPC": ("epcList", "childEPCs", "parentID", "inputEPCList", "outputEPCList"),
}
_MATCH_CLASS = {
    "MATCH_epcClass": ("quantityList", "childQuantityList"),
    "MATCH_inputEPCClass": ("inputQuantityList",),
    "MATCH_outputEPCClass": ("outputQuantityList",),
    "MATCH_anyEPCClass": (
        "quantityList",
        "childQuantityList",
        "inputQuantityList",
        "outputQuantityList",
    ),
}
_TIMES = ("GE_eventTime", "LT_eventTime", "GE_recordTime", "LT_recordTime")
_ERROR_LISTS = ("EQ_errorReason", "EQ_correctiveEventID")
_ERROR_TIMES = ("GE_errorDeclarationTime", "LT_errorDeclarationTime")
_CONTROL = (
    "eventType",
    "orderBy",
    "orderDirection",
    "eventCountLimit",
    "maxEventCount",
    "EXISTS_errorDeclaration",
    "perPage",
    "nextPageToken",
)
#: The parameters that take a list of values.
LIST_PARAMETERS = frozenset(["eventType", *_LIST_EQ, *_MATCH_EPC, *_MATCH_CLASS, *_ERROR_LISTS])
#: Every parameter this repository answers.
SUPPORTED = frozenset(
    [*_LIST_EQ, *_MATCH_EPC, *_MATCH_CLASS, *_TIMES, *_ERROR_LISTS, *_ERROR_TIMES, *_CONTROL]
)
#: Prefixes of the standard parameters (EQ_quantity, WD_bizLocation, sensor and extension
#: field parameters...) this repository does not answer: refused by name, never ignored.
UNSUPPORTED_PREFIXES = (
    "WD_",
    "EQ_",
    "GT_",
    "GE_",
    "LT_",
    "LE_",
    "EXISTS_",
    "HASATTR_",
    "EQATTR_",
    "MATCH_",
)
_CBV = {"bizStep": "bizstep", "disposition": "disp"}


class QueryParameterError(RxLedgerError, ValueError):
    """Raised when a query names a parameter this repository does not answer, or gives a
    value it cannot read (EPCIS ``QueryParameterException``)."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter


def parse_time(value: str, parameter: str) -> float:
    """The Unix time of an RFC 3339 date-time with its offset, or QueryParameterError."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None or "T" not in value.upper():
        raise QueryParameterError(
            parameter, f"{value!r} is not an RFC 3339 date-time with an offset"
        )
    return parsed.timestamp()


def time_of(value: object) -> float | None:
    """The Unix time of an RFC 3339 date-time with its offset; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.timestamp() if parsed.tzinfo is not None else None


def _event_time(event: Mapping[str, Any], key: str) -> float | None:
    return time_of(event.get(key))


def epc_key(value: object) -> tuple[str, ...] | None:
    """What an identifier names, whatever its spelling: ``("sgtin", gtin, serial)``,
    ``("sscc", sscc)``, ``("lgtin", gtin, lot)``, ``("gtin", gtin)`` (a product class
    pattern), or ``("uri", value)`` for any other URI; None for a non-string."""
    if not isinstance(value, str):
        return None
    epc = parse_epc_or_none(value)
    if epc is None:
        return ("uri", value)
    return _key_of(epc)


def _key_of(epc: Epc) -> tuple[str, ...]:
    if epc.kind == "sgtin":
        return ("sgtin", epc.gtin or "", epc.serial or "")
    if epc.kind == "sscc":
        return ("sscc", epc.sscc or "")
    if epc.kind == "lgtin":
        return ("lgtin", epc.gtin or "", epc.lot or "")
    if epc.kind == "gln":
        return ("gln", epc.gln or "", epc.extension or "")
    return ("gtin", epc.gtin or "")


def _identifier_key(value: str, parameter: str) -> tuple[str, ...]:
    """The key of a value a client asks for: an invalid GS1 identifier is refused."""
    if is_gs1_identifier(value) and parse_epc_or_none(value) is None:
        raise QueryParameterError(parameter, f"{value!r} is not a valid GS1 identifier")
    key = epc_key(value)
    assert key is not None
    return key


def _matches_key(wanted: tuple[str, ...], found: tuple[str, ...]) -> bool:
    """True if ``found`` is ``wanted`` or, for a product pattern, an instance or lot of it."""
    if wanted == found:
        return True
    return wanted[0] == "gtin" and found[0] in ("sgtin", "lgtin", "gtin") and found[1] == wanted[1]


def _values(event: Mapping[str, Any], fields: Iterable[str]) -> list[Any]:
    found: list[Any] = []
    for name in fields:
        value = event.get(name)
        if isinstance(value, list):
            found += value
        elif value is not None:
            found.append(value)
    return found


def _field_value(event: Mapping[str, Any], name: str) -> str | None:
    value = event.get(name)
    if isinstance(value, dict):  # readPoint and bizLocation are {"id": ...}
        value = value.get("id")
    if not isinstance(value, str):
        return None
    if name in _CBV:
        return bare(value, _CBV[name])
    return value


@dataclass
class EventQuery:
    """One EPCIS query: the conditions an event must meet, its order, limits and page."""

    event_types: frozenset[str] | None = None
    times: dict[str, float] = field(default_factory=dict)
    equals: dict[str, frozenset[str]] = field(default_factory=dict)
    epcs: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    classes: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    error_declaration: bool = False
    error_times: dict[str, float] = field(default_factory=dict)
    error_lists: dict[str, frozenset[str]] = field(default_factory=dict)
    order_by: str | None = None
    descending: bool = True
    event_count_limit: int | None = None
    max_event_count: int | None = None
    per_page: int = DEFAULT_PER_PAGE
    page_token: str | None = None
    #: the parameters as given (without paging), to rebuild links and check page tokens
    canonical: tuple[tuple[str, str], ...] = ()

    def matches(self, event: Mapping[str, Any], record_time: float | None) -> bool:
        """True if ``event`` (recorded at ``record_time``) meets every condition."""
        if self.event_types is not None and event.get("type") not in self.event_types:
            return False
        if not self._times_match(event, record_time):
            return False
        for name, wanted in self.equals.items():
            if _field_value(event, _LIST_EQ[name]) not in wanted:
                return False
        for name, keys in self.epcs.items():
            found = [epc_key(v) for v in _values(event, _MATCH_EPC[name])]
            if not any(f is not None and _matches_key(w, f) for w in keys for f in found):
                return False
        for name, keys in self.classes.items():
            quantities = _values(event, _MATCH_CLASS[name])
            found = [epc_key(q.get("epcClass")) for q in quantities if isinstance(q, dict)]
            if not any(f is not None and _matches_key(w, f) for w in keys for f in found):
                return False
        return self._errors_match(event)

    def _times_match(self, event: Mapping[str, Any], record_time: float | None) -> bool:
        for name, bound in self.times.items():
            value = _event_time(event, "eventTime") if "eventTime" in name else record_time
            if value is None:
                return False
            if name.startswith("GE_") and value < bound:
                return False
            if name.startswith("LT_") and value >= bound:
                return False
        return True

    def _errors_match(self, event: Mapping[str, Any]) -> bool:
        needs = self.error_declaration or self.error_times or self.error_lists
        if not needs:
            return True
        declaration = event.get("errorDeclaration")
        if not isinstance(declaration, dict):
            return False
        for name, bound in self.error_times.items():
            value = _event_time(declaration, "declarationTime")
            if value is None or (value < bound if name.startswith("GE_") else value >= bound):
                return False
        if "EQ_errorReason" in self.error_lists:
            reason = declaration.get("reason")
            if (
                bare(reason if isinstance(reason, str) else None, "er")
                not in self.error_lists["EQ_errorReason"]
            ):
                return False
        if "EQ_correctiveEventID" in self.error_lists:
            ids = declaration.get("correctiveEventIDs")
            wanted = self.error_lists["EQ_correctiveEventID"]
            if not isinstance(ids, list) or not wanted.intersection(map(str, ids)):
                return False
        return True

    def sort_value(self, event: Mapping[str, Any], record_time: float | None) -> float:
        """The value ``order_by`` orders by (events lacking it sort as time 0)."""
        if self.order_by == "eventTime":
            return _event_time(event, "eventTime") or 0.0
        if self.order_by == "recordTime":
            return record_time or 0.0
        return 0.0


def _split(parameter: str, values: Sequence[str]) -> list[str]:
    """The values of a list parameter: pipe-delimited in one value (the REST binding)."""
    parts = [part for value in values for part in value.split("|")]
    if not parts or any(part == "" for part in parts):
        raise QueryParameterError(parameter, "give one or more values separated by '|'")
    return parts


def _one(parameter: str, values: Sequence[str]) -> str:
    if len(values) != 1:
        raise QueryParameterError(parameter, "give this parameter once")
    return values[0]


def _integer(parameter: str, values: Sequence[str], minimum: int) -> int:
    text = _one(parameter, values)
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise QueryParameterError(parameter, f"{text!r} is not a whole number")
    number = int(text)
    if number < minimum:
        raise QueryParameterError(parameter, f"must be at least {minimum}, got {number}")
    return number


def _boolean(parameter: str, values: Sequence[str]) -> bool:
    text = _one(parameter, values).lower()
    if text not in ("true", "false"):
        raise QueryParameterError(parameter, f"{text!r} is not true or false")
    return text == "true"


def _refuse_unknown(name: str) -> None:
    if name in SUPPORTED:
        return
    for prefix in UNSUPPORTED_PREFIXES:
        if name.startswith(prefix):
            raise QueryParameterError(
                name,
                "this parameter is not supported by this repository; supported parameters: "
                + ", ".join(sorted(SUPPORTED)),
            )
    raise QueryParameterError(name, "unknown query parameter")


def parse_query(params: Mapping[str, Sequence[str]]) -> EventQuery:
    """Read the query ``params`` (name -> values as given) or raise QueryParameterError."""
    query = EventQuery()
    for name in params:
        _refuse_unknown(name)
    for name, values in params.items():
        if name == "eventType":
            query.event_types = frozenset(_split(name, values))
        elif name in _TIMES:
            query.times[name] = parse_time(_one(name, values), name)
        elif name in _LIST_EQ:
            field_name = _LIST_EQ[name]
            parts = _split(name, values)
            if name == "EQ_action" and not set(parts) <= {"ADD", "OBSERVE", "DELETE"}:
                raise QueryParameterError(name, "each value must be ADD, OBSERVE or DELETE")
            if field_name in _CBV:
                parts = [bare(p, _CBV[field_name]) or p for p in parts]
            query.equals[name] = frozenset(parts)
        elif name in _MATCH_EPC:
            query.epcs[name] = [_identifier_key(v, name) for v in _split(name, values)]
        elif name in _MATCH_CLASS:
            query.classes[name] = [_identifier_key(v, name) for v in _split(name, values)]
        elif name == "EXISTS_errorDeclaration":
            query.error_declaration = _boolean(name, values)
        elif name in _ERROR_TIMES:
            query.error_times[name] = parse_time(_one(name, values), name)
        elif name in _ERROR_LISTS:
            parts = _split(name, values)
            if name == "EQ_errorReason":
                parts = [bare(p, "er") or p for p in parts]
            query.error_lists[name] = frozenset(parts)
        elif name == "orderBy":
            order = _one(name, values)
            if order not in ("eventTime", "recordTime"):
                raise QueryParameterError(
                    name, f"{order!r}: this repository orders by eventTime or recordTime"
                )
            query.order_by = order
        elif name == "orderDirection":
            direction = _one(name, values)
            if direction not in ("ASC", "DESC"):
                raise QueryParameterError(name, f"{direction!r}: must be ASC or DESC")
            query.descending = direction == "DESC"
        elif name == "eventCountLimit":
            query.event_count_limit = _integer(name, values, 1)
        elif name == "maxEventCount":
            query.max_event_count = _integer(name, values, 1)
        elif name == "perPage":
            query.per_page = min(_integer(name, values, 1), MAX_PER_PAGE)
        elif name == "nextPageToken":
            query.page_token = _one(name, values)
    if query.event_count_limit is not None and query.max_event_count is not None:
        raise QueryParameterError(
            "eventCountLimit", "eventCountLimit and maxEventCount are mutually exclusive"
        )
    if query.event_count_limit is not None and query.order_by is None:
        raise QueryParameterError("eventCountLimit", "eventCountLimit needs orderBy")
    query.canonical = tuple(
        sorted(
            (name, "|".join(values))
            for name, values in params.items()
            if name not in ("nextPageToken", "perPage")
        )
    )
    return query
