"""EPCIS named queries: a member saves query parameters under a name and runs them later.

A named query belongs to the member that created it; only it and the operator list, read,
run or delete it (another member is told it does not exist). Its results are always those
the caller may read.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.db import models as m
from gateway.services.auth import Principal
from ledger_client.epcis.query import LIST_PARAMETERS, QueryParameterError, parse_query
from ledger_client.errors import RxLedgerError

#: Parameters a named query's definition may not hold: its run gives them.
_PAGING = ("perPage", "nextPageToken")


class NamedQueryExistsError(RxLedgerError, ValueError):
    """Raised when a named query is created under a name already taken."""


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def definition_params(query: Mapping[str, Any]) -> dict[str, list[str]]:
    """A named query's definition (the ``query`` object: arrays or scalars) as query
    parameters (name -> values), checked as a query; QueryParameterError otherwise."""
    params: dict[str, list[str]] = {}
    for name, value in query.items():
        if name in _PAGING:
            raise QueryParameterError(name, "paging is given when the query is run, not saved")
        if isinstance(value, list):
            if not value or any(isinstance(v, (dict, list)) or v is None for v in value):
                raise QueryParameterError(name, "give a non-empty list of values")
            params[name] = ["|".join(_text(v) for v in value)]
        elif isinstance(value, (dict, type(None))):
            raise QueryParameterError(name, "give a value or a list of values")
        else:
            params[name] = [_text(value)]
    parse_query(params)
    return params


def run_params(
    definition: Mapping[str, Sequence[str]], given: Mapping[str, Sequence[str]]
) -> dict[str, list[str]]:
    """The parameters of a run: the definition's, with paging from the request."""
    extra = sorted(set(given) - set(_PAGING))
    if extra:
        raise QueryParameterError(
            extra[0], "a named query's results take only perPage and nextPageToken"
        )
    return {**{k: list(v) for k, v in definition.items()}, **{k: list(v) for k, v in given.items()}}


class NamedQueries:
    """The named queries of this gateway, in its database."""

    def __init__(self, engine: Engine, operator: str | None) -> None:
        self.engine = engine
        self.operator = operator

    def _mine(self, principal: Principal) -> Any:
        query = select(m.NamedQuery).order_by(m.NamedQuery.name)
        if principal.address != self.operator:
            query = query.where(m.NamedQuery.owner == principal.address)
        return query

    def create(self, name: str, query: Mapping[str, Any], principal: Principal) -> None:
        """Save ``query`` as ``name``; NamedQueryExistsError if the name is taken."""
        params = definition_params(query)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(m.NamedQuery).values(
                        name=name, owner=principal.address, query=params, created_at=time.time()
                    )
                )
        except IntegrityError:
            raise NamedQueryExistsError(f"a query named {name!r} already exists") from None

    def all(self, principal: Principal) -> list[m.NamedQuery]:
        """The caller's named queries (every one for the operator)."""
        with Session(self.engine) as session:
            return list(session.execute(self._mine(principal)).scalars())

    def get(self, name: str, principal: Principal) -> m.NamedQuery | None:
        """The caller's named query ``name``, or None."""
        with Session(self.engine) as session:
            return session.execute(self._mine(principal).where(m.NamedQuery.name == name)).scalar()

    def delete(self, name: str, principal: Principal) -> bool:
        """Delete the caller's named query ``name``; False if it has none of that name."""
        if self.get(name, principal) is None:
            return False
        with self.engine.begin() as conn:
            conn.execute(delete(m.NamedQuery).where(m.NamedQuery.name == name))
        return True


def as_definition(params: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """A stored query as the binding shows it: list parameters as arrays."""
    return {
        name: (values[0].split("|") if name in LIST_PARAMETERS else values[0])
        for name, values in params.items()
    }
