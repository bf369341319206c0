"""Where a JSON document can be changed, for property tests that change one place of a
valid document and look at what RxLedger makes of it."""

from __future__ import annotations

from collections.abc import Iterator
from functools import reduce
from operator import getitem
from typing import Any

Path = tuple[Any, ...]


def json_paths(value: Any, path: Path = ()) -> Iterator[Path]:
    """Every path (keys and indexes) of ``value``, the empty path for ``value`` itself first."""
    yield path
    if isinstance(value, dict | list):
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            yield from json_paths(item, (*path, key))


def parent_of(value: Any, path: Path) -> Any:
    """The object or array holding the value at a non-empty ``path``."""
    return reduce(getitem, path[:-1], value)
