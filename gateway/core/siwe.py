"""Sign-In with Ethereum (EIP-4361) messages: build the text, parse it strictly, read its times.

The parser follows the ABNF of EIP-4361 line by line and says which line is wrong. It checks
the format only; whether the values are the ones a gateway expects is the caller's business
(see :mod:`gateway.services.auth`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from eth_utils import is_checksum_address

from ledger_client.errors import RxLedgerError

HEADER = " wants you to sign in with your Ethereum account:"
_SCHEME = r"[A-Za-z][A-Za-z0-9+\-.]*"
# RFC 3986 authority: [ userinfo "@" ] host [ ":" port ], host possibly an [IPv6] literal
_AUTHORITY = r"[A-Za-z0-9\-._~%!$&'()*+,;=:@\[\]]+"
_HEADER_RE = re.compile(rf"^(?:(?P<scheme>{_SCHEME})://)?(?P<domain>{_AUTHORITY}){HEADER}$")
_ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
# reserved / unreserved / " " (RFC 3986): anything printable but a line break, in ASCII
_STATEMENT_RE = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;= ]+$")
_URI_RE = re.compile(rf"^{_SCHEME}:[A-Za-z0-9\-._~%!$&'()*+,;=:@/?#\[\]]*$")
_NONCE_RE = re.compile(r"^[A-Za-z0-9]{8,}$")
_CHAIN_ID_RE = re.compile(r"^[0-9]+$")
_DATE_TIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9\-._~%!$&'()*+,;=:@]*$")


class SiweFormatError(RxLedgerError, ValueError):
    """Raised when a text is not an EIP-4361 message; the message says which line and why."""


@dataclass(frozen=True)
class SiweMessage:
    """The fields of one EIP-4361 message (times as the RFC 3339 text that was signed)."""

    domain: str
    address: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: str
    scheme: str | None = None
    statement: str | None = None
    version: str = "1"
    expiration_time: str | None = None
    not_before: str | None = None
    request_id: str | None = None
    resources: tuple[str, ...] = ()

    def text(self) -> str:
        """The message exactly as it is signed (EIP-191 ``personal_sign``)."""
        origin = f"{self.scheme}://{self.domain}" if self.scheme else self.domain
        lines = [origin + HEADER, self.address, ""]
        if self.statement is not None:
            lines.append(self.statement)
        lines += [
            "",
            f"URI: {self.uri}",
            f"Version: {self.version}",
            f"Chain ID: {self.chain_id}",
            f"Nonce: {self.nonce}",
            f"Issued At: {self.issued_at}",
        ]
        optional = [
            ("Expiration Time", self.expiration_time),
            ("Not Before", self.not_before),
            ("Request ID", self.request_id),
        ]
        lines += [f"{name}: {value}" for name, value in optional if value is not None]
        if self.resources:
            lines += ["Resources:", *(f"- {r}" for r in self.resources)]
        return "\n".join(lines)

    @classmethod
    def parse(cls, text: str) -> SiweMessage:
        """Parse ``text``; raise SiweFormatError naming the first line that breaks the ABNF."""
        return _Parser(text).message()


def timestamp(value: str) -> float:
    """Seconds since the epoch of an RFC 3339 ``date-time``; SiweFormatError if it is not one."""
    match = _DATE_TIME_RE.match(value)
    if match is None:
        raise SiweFormatError(f"{value!r} is not an RFC 3339 date-time")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, offset = match.group(7), match.group(8)
    try:
        zone = dt.UTC
        if offset not in ("Z", "z"):
            hours, minutes = int(offset[1:3]), int(offset[4:])
            if hours > 23 or minutes > 59:
                raise ValueError(f"offset {offset} is out of range")
            sign = 1 if offset[0] == "+" else -1
            zone = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
        when = dt.datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError as exc:
        raise SiweFormatError(f"{value!r} is not a valid date-time: {exc}") from None
    return when.timestamp() + (float(fraction) if fraction else 0.0)


def rfc3339(seconds: float) -> str:
    """``seconds`` since the epoch as an RFC 3339 UTC date-time, to the second."""
    return dt.datetime.fromtimestamp(int(seconds), tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Parser:
    """Walks the lines of a message in the order the ABNF fixes."""

    def __init__(self, text: str) -> None:
        if "\r" in text:
            raise SiweFormatError("lines must end with LF alone, not CR LF")
        self.lines = text.split("\n")
        self.at = 0

    def _line(self, what: str) -> str:
        if self.at >= len(self.lines):
            raise SiweFormatError(f"the message ends where {what} should be")
        self.at += 1
        return self.lines[self.at - 1]

    def _fail(self, why: str) -> SiweFormatError:
        return SiweFormatError(f"line {self.at}: {why}")

    def _field(self, name: str, pattern: re.Pattern[str], what: str) -> str:
        line = self._line(f"'{name}: ...'")
        prefix = f"{name}: "
        if not line.startswith(prefix):
            raise self._fail(f"expected '{prefix}{what}', got {line[:60]!r}")
        value = line[len(prefix) :]
        if not pattern.match(value):
            raise self._fail(f"{name} {value[:60]!r} is not {what}")
        return value

    def _optional(self, name: str, pattern: re.Pattern[str], what: str) -> str | None:
        if self.at < len(self.lines) and self.lines[self.at].startswith(f"{name}: "):
            return self._field(name, pattern, what)
        return None

    def _blank(self, after: str) -> None:
        if self._line(f"an empty line after {after}"):
            raise self._fail(f"expected an empty line after {after}")

    def message(self) -> SiweMessage:
        header = _HEADER_RE.match(self._line("the header"))
        if header is None:
            raise self._fail(f"expected '[scheme://]domain{HEADER}'")
        address = self._line("the address")
        if not _ADDRESS_RE.match(address):
            raise self._fail(f"{address[:60]!r} is not a 0x-prefixed 40-hex-digit address")
        if not is_checksum_address(address):
            raise self._fail(f"address {address} is not in EIP-55 mixed-case checksum form")
        self._blank("the address")
        statement = None
        first = self._line("the statement or an empty line")
        if first:
            if not _STATEMENT_RE.match(first):
                raise self._fail("the statement may hold only RFC 3986 reserved and unreserved")
            statement = first
            self._blank("the statement")
        # each call reads the next line: keyword arguments are evaluated in the order written
        message = SiweMessage(
            domain=header["domain"],
            address=address,
            scheme=header["scheme"],
            statement=statement,
            uri=self._field("URI", _URI_RE, "an RFC 3986 URI"),
            version=self._field("Version", re.compile(r"^1$"), "1"),
            chain_id=int(self._field("Chain ID", _CHAIN_ID_RE, "a decimal chain id")),
            nonce=self._field("Nonce", _NONCE_RE, "at least 8 letters or digits"),
            issued_at=str(self._time("Issued At", required=True)),
            expiration_time=self._time("Expiration Time"),
            not_before=self._time("Not Before"),
            request_id=self._optional("Request ID", _REQUEST_ID_RE, "RFC 3986 pchar"),
            resources=self._resources(),
        )
        if self.at < len(self.lines):
            self.at += 1
            raise self._fail(f"unexpected text {self.lines[self.at - 1][:60]!r}")
        return message

    def _time(self, name: str, required: bool = False) -> str | None:
        value = (
            self._field(name, _DATE_TIME_RE, "an RFC 3339 date-time")
            if required
            else self._optional(name, _DATE_TIME_RE, "an RFC 3339 date-time")
        )
        if value is not None:
            try:
                timestamp(value)
            except SiweFormatError as exc:
                raise self._fail(str(exc)) from None
        return value

    def _resources(self) -> tuple[str, ...]:
        if self.at >= len(self.lines) or self.lines[self.at] != "Resources:":
            return ()
        self.at += 1
        found = []
        while self.at < len(self.lines) and self.lines[self.at].startswith("- "):
            resource = self._line("a resource")[2:]
            if not _URI_RE.match(resource):
                raise self._fail(f"resource {resource[:60]!r} is not an RFC 3986 URI")
            found.append(resource)
        return tuple(found)
