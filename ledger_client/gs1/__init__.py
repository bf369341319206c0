"""GS1 identifiers: parse what scanners send, validate it, convert it, map it to ledger ids.

One entry point reads any supported text (:func:`parse_code`; :func:`parse_ai_data` gives
its AI data whatever it identifies), four pure functions write a code in each format
(:func:`to_element_string`, :func:`to_datamatrix`,
:func:`to_digital_link`, :func:`to_epc_urn`) and :func:`ids_of` gives the 32-byte ledger id
of a code's record under the member owning it (layout in :mod:`ledger_client.ids`).

Accepted input (see ``docs/identifiers.md``):

- GS1 element strings in human readable form: ``(01)09506000134352(17)261231(21)S123``;
- GS1 messages as scanners transmit them (DataMatrix, GS1-128, GS1 QR, DataBar), with an
  optional symbology identifier (``]d2``, ``]C1``, ``]Q3``, ``]e0``) and FNC1 separators as
  ASCII 29 or one of the textual stand-ins keyboard-wedge scanners type;
- GS1 Digital Link URIs (uncompressed), any scheme, host and path prefix, read from the
  rightmost primary key; strictly (``strict=True``) where EPCIS is validated;
- EPC pure identity URNs ``urn:epc:id:sgtin``, ``urn:epc:id:sscc`` and the class URN
  ``urn:epc:class:lgtin`` (GS1 EPC Tag Data Standard, section 6).

biip supplies the Application Identifier table, per-AI value formats and the GS1 Company
Prefix length table; ``ai_rules.txt`` (from GS1's Barcode Syntax Dictionary) the rules
between AIs: mandatory associations, invalid pairs, Digital Link key qualifiers.
Segmenting raw messages, Digital Link paths and URNs is done here so that every error can
say exactly what is wrong and where, scanner slips can be repaired where the repair is
unambiguous, and dates follow an explicit ``today``.
"""

from ledger_client.gs1 import codes, digital_link, epc
from ledger_client.gs1.codes import *  # noqa: F403
from ledger_client.gs1.dates import expiry_to_date
from ledger_client.gs1.digital_link import *  # noqa: F403
from ledger_client.gs1.epc import *  # noqa: F403
from ledger_client.gs1.message import to_datamatrix, to_element_string
from ledger_client.gs1.parse import parse_ai_data, parse_code

#: What the modules export (their ``__all__``), and five functions.
__all__ = [
    *codes.__all__,
    *digital_link.__all__,
    *epc.__all__,
    "expiry_to_date",
    "parse_ai_data",
    "parse_code",
    "to_datamatrix",
    "to_element_string",
]
