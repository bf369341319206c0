"""``python -m ledger_client.cli``: the ``rxledger`` command line."""

from ledger_client.cli import main

main()
