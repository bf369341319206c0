"""RxLedger's Python client: GS1 ids, contracts, lifecycle API and audit."""
