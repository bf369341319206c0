"""RxLedger gateway: the FastAPI service a partner runs next to the chain."""
