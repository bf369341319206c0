"""Do a batch of serials hide their pack ids? A check run when packs are commissioned.

A pack id on chain is a hash of the GTIN, the serial and the owner's member index, all of
which but the serial are public (the product directory lists the GTINs). An observer who
hashes every candidate serial of a GTIN recovers every pack id it matches: the GTIN's volume
and each pack's moves. That costs about ``2**bits`` hashes for serials of ``bits`` bits of
entropy, and nothing at all for serials that follow a counter. Two estimates, per serial:

- **counter**: a serial follows a counter when another serial of the batch has the same text
  around its last run of digits and a number at most :data:`MAX_COUNTER_STEP` away
  (``S000123`` and ``S000124``; ``A-7-B`` and ``A-9-B``);
- **entropy**: ``length * log2(alphabet)``, the alphabet being the union of the character
  classes the serial uses (10 digits, 26 capitals, 26 small letters, the 20 other symbols of
  GS1 character set 82). In a batch of at least :data:`CONSTANT_MIN_BATCH` serials the
  batch shows its generator: each position counts the classes that at least
  :data:`CLASS_MIN_SHARE` of the batch's serials use there (a random capital-and-digit
  serial that happens to hold no digit is no weaker than its neighbours, and one odd serial
  does not lend its letters to a batch of digits), and positions where every serial has
  the same character count for nothing (a fixed prefix hides nothing). It is an upper
  bound: it cannot see a generator's bias.

See docs/identifiers.md, "Serials that hide their pack ids".
"""

from __future__ import annotations

import math
import re
import string
import warnings
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from ledger_client.errors import WeakSerialsWarning
from ledger_client.ids import CSET82

__all__ = [
    "CLASS_MIN_SHARE",
    "CONSTANT_MIN_BATCH",
    "MAX_COUNTER_STEP",
    "MIN_SERIAL_BITS",
    "SerialEntropyReport",
    "assess_serials",
    "serial_bits",
    "warn_if_weak",
]

MIN_SERIAL_BITS = 60.0
"""Serials below this estimate are weak: ``2**60`` hashes at an assumed 10**10 per second
take 3.7 years per GTIN; each bit less halves it (12 random digits, 40 bits: 2 minutes)."""
CLASS_MIN_SHARE = 0.05
"""In a batch, a character class counts at a position when this share of the serials use it
there: one odd serial does not lend its letters to a batch of random digits."""
MAX_COUNTER_STEP = 16
"""Numbers at most this far apart, with the same text around them, form a counter."""
CONSTANT_MIN_BATCH = 8
"""From this batch size, the batch shows its generator: a position counts the classes the
batch uses there, and none when every serial shares it (8 random serials share a position
by chance with probability 36**-7 at most, per position)."""

_CLASSES = (
    frozenset(string.digits),
    frozenset(string.ascii_uppercase),
    frozenset(string.ascii_lowercase),
    CSET82 - frozenset(string.digits + string.ascii_letters),
)
_LAST_DIGITS = re.compile(r"^(.*?)([0-9]+)([^0-9]*)$", re.DOTALL)


def _alphabet(serial: str) -> int:
    """How many characters the classes used by ``serial`` hold."""
    return sum(len(c) for c in _CLASSES if not c.isdisjoint(serial)) or 1


def serial_bits(serial: str) -> float:
    """Estimated entropy of ``serial`` alone in bits."""
    return len(serial) * math.log2(_alphabet(serial))


def _position_alphabet(chars: list[str]) -> int:
    """How many characters the classes used at one position hold, a class counting when at
    least :data:`CLASS_MIN_SHARE` of the serials there use it."""
    least = max(1, math.ceil(CLASS_MIN_SHARE * len(chars)))
    used = [c for c in _CLASSES if sum(ch in c for ch in chars) >= least]
    return sum(len(c) for c in used) or 1


def _batch_bits(serials: Sequence[str]) -> list[float]:
    """Each serial's estimate from the batch: per position, the log2 of the alphabet the
    batch uses there (:func:`_position_alphabet`), nothing for a position every serial
    shares."""
    longest = max(len(s) for s in serials)
    shortest = min(len(s) for s in serials)
    weight = []
    for k in range(longest):
        chars = [s[k] for s in serials if k < len(s)]
        shared = k < shortest and len(set(chars)) == 1
        weight.append(0.0 if shared else math.log2(_position_alphabet(chars)))
    return [sum(weight[: len(s)]) for s in serials]


def _counter_members(serials: Sequence[str], max_step: int) -> int:
    """How many distinct serials have a counter neighbour (see the module docstring)."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for serial in set(serials):
        match = _LAST_DIGITS.match(serial)
        if match:
            head, digits, tail = match.groups()
            groups[(head, tail)].append(int(digits))
    members = 0
    for numbers in groups.values():
        numbers.sort()
        for k, n in enumerate(numbers):
            before = k > 0 and n - numbers[k - 1] <= max_step
            after = k + 1 < len(numbers) and numbers[k + 1] - n <= max_step
            members += before or after
    return members


@dataclass(frozen=True)
class SerialEntropyReport:
    """What :func:`assess_serials` found in a batch of serials."""

    serials: int
    #: serials with a counter neighbour in the batch
    sequential: int
    #: serials whose entropy estimate is below ``threshold_bits``
    low_entropy: int
    #: the lowest entropy estimate of a serial of the batch, in bits
    min_bits: float
    threshold_bits: float

    @property
    def weak(self) -> bool:
        """True when some serial follows a counter or is below the threshold."""
        return bool(self.sequential or self.low_entropy)

    def message(self, gtin: str) -> str:
        """The warning, in words, for serials of ``gtin``."""
        found = []
        if self.sequential:
            found.append(f"{self.sequential} of {self.serials} follow a counter")
        if self.low_entropy:
            found.append(
                f"{self.low_entropy} of {self.serials} have under {self.threshold_bits:.0f} bits"
                f" of entropy (lowest {self.min_bits:.1f})"
            )
        return (
            f"serials of GTIN {gtin}: {' and '.join(found)}; anyone reading the chain can "
            "recover these packs' ids from the public GTIN by trying serials, and count and "
            "follow them. Use random serials (e.g. 20 random characters of set 82); "
            "see docs/identifiers.md"
        )


def assess_serials(
    serials: Sequence[str],
    min_bits: float = MIN_SERIAL_BITS,
    max_step: int = MAX_COUNTER_STEP,
) -> SerialEntropyReport:
    """Estimate how well ``serials`` (a batch being commissioned) hide their pack ids."""
    if len(serials) >= CONSTANT_MIN_BATCH:
        bits = _batch_bits(serials)
    else:
        bits = [serial_bits(s) for s in serials]
    return SerialEntropyReport(
        serials=len(serials),
        sequential=_counter_members(serials, max_step),
        low_entropy=sum(1 for b in bits if b < min_bits),
        min_bits=min(bits, default=0.0),
        threshold_bits=min_bits,
    )


def warn_if_weak(gtin: str, serials: Sequence[str], stacklevel: int = 2) -> SerialEntropyReport:
    """Assess ``serials`` of ``gtin`` and warn with :class:`WeakSerialsWarning` if weak."""
    report = assess_serials(serials)
    if report.weak:
        warnings.warn(report.message(gtin), WeakSerialsWarning, stacklevel=stacklevel + 1)
    return report
