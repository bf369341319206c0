"""The configuration of a consortium network that ``rxledger network init`` sets up: its
partners (name, roles, GLN, GS1 company prefixes, their gateway's database) and its chain
(chain id, block period, gas limit, council threshold), read from JSON or TOML."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ledger_client.contracts import Role
from ledger_client.errors import InvalidInputError
from ledger_client.ids import gs1_check_digit
from ledger_client.inputs import read_text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChainConfig(_Strict):
    """The chain every partner's node runs."""

    chain_id: int = Field(default=4243, ge=1)
    #: Seconds between Clique blocks.
    period: int = Field(default=2, ge=1, le=60)
    gas_limit: int = Field(default=300_000_000, ge=5_000_000)
    #: Council approvals a proposal needs (at least 2: no single key changes the rules).
    threshold: int = Field(default=2, ge=2)


class PartnerConfig(_Strict):
    """One partner: a consortium member with its own node, gateway and store."""

    #: Lower-case letters, digits and ``_``: it names folders and database roles.
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,30}$")]
    roles: list[str] = Field(min_length=1)
    #: 13 digits with the GS1 check digit.
    gln: Annotated[str, Field(pattern=r"^\d{13}$")]
    prefixes: list[Annotated[str, Field(pattern=r"^\d{6,12}$")]] = []
    #: Where its gateway keeps its index: a SQLite file, or the network's PostgreSQL server.
    database: Literal["sqlite", "postgresql"] = "sqlite"
    licence_years: int = Field(default=5, ge=1, le=50)

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, roles: list[str]) -> list[str]:
        unknown = [r for r in roles if r.upper() not in Role.__members__]
        if unknown:
            known = ", ".join(r.name or "" for r in Role)
            raise ValueError(f"unknown role {unknown[0]!r}: one of {known}")
        return [r.upper() for r in roles]

    @field_validator("gln")
    @classmethod
    def _check_digit(cls, gln: str) -> str:
        expected = gs1_check_digit(gln[:-1])
        if int(gln[-1]) != expected:
            raise ValueError(f"GLN {gln} has a wrong check digit: expected {expected}")
        return gln


class NetworkConfig(_Strict):
    """A whole network: its chain and at least two partners, each a signer of the chain."""

    chain: ChainConfig = ChainConfig()
    partners: list[PartnerConfig] = Field(min_length=2)

    @model_validator(mode="after")
    def _consistent(self) -> NetworkConfig:
        for what, values in (
            ("name", [p.name for p in self.partners]),
            ("GLN", [p.gln for p in self.partners]),
            ("prefix", [x for p in self.partners for x in p.prefixes]),
        ):
            twice = sorted({v for v in values if values.count(v) > 1})
            if twice:
                raise ValueError(f"{what} {twice[0]} is given to more than one partner")
        council = sum(1 for p in self.partners if "COUNCIL" in p.roles)
        if council < self.chain.threshold:
            raise ValueError(
                f"{council} partner(s) with the COUNCIL role cannot reach the threshold "
                f"of {self.chain.threshold} approvals"
            )
        return self


def load_config(path: Path) -> NetworkConfig:
    """Read and check a network configuration (``.toml``, else JSON); an
    :class:`InvalidInputError` names the file and the field at fault."""
    text = read_text(path, "network configuration")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(f"{path}: not TOML: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
    try:
        return NetworkConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the top level"
        text = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidInputError(f"{path}: {where}: {text}") from None
