"""An owner's EPCIS store holding one location's master data with its time zone."""

from __future__ import annotations

from pathlib import Path

from ledger_client.epcis.mapping import MappingReport
from ledger_client.epcis.store import EventStore


def store_with_location(path: Path, gln12: str, zone: str) -> Path:
    """An owner's EPCIS store holding the location master data of GLN ``gln12``+check."""
    doc = {
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-01-01T00:00:00Z",
        "epcisHeader": {
            "epcisMasterData": {
                "vocabularyList": [
                    {
                        "type": "urn:epcglobal:epcis:vtype:BusinessLocation",
                        "vocabularyElementList": [
                            {
                                "id": f"urn:epc:id:sgln:{gln12[:7]}.{gln12[7:]}.0",
                                "attributes": [
                                    {"id": "urn:epcglobal:cbv:mda#name", "attribute": "Main St"},
                                    {"id": "https://rxledger.example/mda#timeZone",
                                     "attribute": zone},
                                ],
                            }
                        ],
                    }
                ]
            }
        },
        "epcisBody": {"eventList": []},
    }  # fmt: skip
    with EventStore(path) as store:
        store.add_document(doc, MappingReport())
    return path
