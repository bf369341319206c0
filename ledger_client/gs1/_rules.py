"""The rules between AIs: mandatory associations, invalid pairs, Digital Link key qualifiers.

They are read from ``ai_rules.txt`` (the attribute columns of GS1's Barcode Syntax
Dictionary, see its header); each AI's value format comes from biip's table in ``_ai.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from ledger_client.errors import InvalidCodeError


@dataclass(frozen=True)
class _Rule:
    """What ``ai_rules.txt`` says about one AI."""

    data_attribute: bool = False
    requires: tuple[tuple[tuple[str, ...], ...], ...] = ()
    excludes: tuple[str, ...] = ()
    qualifiers: tuple[tuple[str, ...], ...] | None = None


@cache
def _rules() -> dict[str, _Rule]:
    text = resources.files("ledger_client.gs1").joinpath("ai_rules.txt").read_text("utf-8")
    rules: dict[str, _Rule] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        ais, flags, *attributes = line.split()
        requires: list[tuple[tuple[str, ...], ...]] = []
        excludes: list[str] = []
        qualifiers: list[tuple[str, ...]] | None = None
        for attribute in attributes:
            name, _, value = attribute.partition("=")
            if name == "req":
                requires.append(tuple(tuple(alt.split("+")) for alt in value.split(",")))
            elif name == "ex":
                excludes.extend(value.split(","))
            elif name == "dlpkey":
                qualifiers = [tuple(seq.split(",")) if seq else () for seq in value.split("|")]
            else:
                raise ValueError(f"ai_rules.txt: unknown attribute {attribute!r}")
        rule = _Rule(
            data_attribute="?" in flags,
            requires=tuple(requires),
            excludes=tuple(excludes),
            qualifiers=None if qualifiers is None else tuple(qualifiers),
        )
        first, _, last = ais.partition("-")
        for number in range(int(first), int(last or first) + 1):
            rules[f"{number:0{len(first)}d}"] = rule
    return rules


def _rule(ai: str) -> _Rule | None:
    return _rules().get(ai)


def _matches(ai: str, pattern: str) -> bool:
    """Whether ``ai`` is ``pattern``, where an ``n`` in the pattern stands for any digit."""
    return len(ai) == len(pattern) and all(p in ("n", a) for a, p in zip(ai, pattern, strict=True))


def _present(pattern: str, ais: Iterable[str], besides: str | None = None) -> str | None:
    return next((ai for ai in ais if ai != besides and _matches(ai, pattern)), None)


def _check_associations(ais: Sequence[str], name: Callable[[str], str]) -> None:
    """Raise :class:`InvalidCodeError` unless the AIs ``ais`` (of one code) may go together.

    GS1 General Specifications, section 4.14: an AI may need another one in the same code
    (``req``: (21) needs (01), (250) needs (21)) and some pairs are invalid (``ex``: (01)
    with (02) or (37)). ``name`` names an AI in the message.
    """
    present = list(dict.fromkeys(ais))
    for ai in present:
        rule = _rule(ai)
        if rule is None:
            continue
        for pattern in rule.excludes:
            other = _present(pattern, present, besides=ai)
            if other is not None:
                raise InvalidCodeError(
                    f"{name(ai)} and {name(other)} cannot be in the same code "
                    "(an invalid pair of the GS1 General Specifications)"
                )
        for alternatives in rule.requires:
            if not any(all(_present(p, present) for p in alt) for alt in alternatives):
                wanted = " or ".join("+".join(f"({p})" for p in alt) for alt in alternatives)
                raise InvalidCodeError(
                    f"{name(ai)} needs {wanted} in the same code "
                    "(a mandatory association of the GS1 General Specifications)"
                )


def _is_primary_key(ai: str) -> bool:
    """Whether ``ai`` can start the path of a GS1 Digital Link URI."""
    rule = _rule(ai)
    return rule is not None and rule.qualifiers is not None


def _valid_path(ais: Sequence[str]) -> bool:
    """Whether the AIs of a Digital Link path (primary key first) are a key and its
    qualifiers in one of the orders the standard allows, each optional."""
    rule = _rule(ais[0]) if ais else None
    if rule is None or rule.qualifiers is None:
        return False
    rest = list(ais[1:])
    for sequence in rule.qualifiers:
        positions = [sequence.index(ai) if ai in sequence else -1 for ai in rest]
        if -1 not in positions and positions == sorted(set(positions)):
            return True
    return False


def _qualifier_orders(key: str) -> str:
    """The qualifier sequences of a primary key, for messages: ``(22), (10), (21) or (235)``."""
    rule = _rule(key)
    sequences = rule.qualifiers if rule and rule.qualifiers else ()
    named = [", ".join(f"({ai})" for ai in seq) for seq in sequences if seq]
    return " or ".join(named) if named else "none"


def _belongs_in_path(path: Sequence[str], ai: str) -> bool:
    """Whether ``ai``, found in a Digital Link query, would make a valid path if inserted."""
    return any(_valid_path([*path[:i], ai, *path[i:]]) for i in range(1, len(path) + 1))
