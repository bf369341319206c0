"""The ``rxledger`` command line: lifecycle steps from files, EPCIS, audit, deployment.

Errors end in one line and exit 2 for bad input, 1 for a refusal (:mod:`.reporting`); the
options the commands share are declared once (:mod:`.options`).
"""

from __future__ import annotations

from ledger_client.cli.audit import audit_app, report_app
from ledger_client.cli.command import RxTyper
from ledger_client.cli.council import council_app, deploy_app
from ledger_client.cli.epcis import epcis_app
from ledger_client.cli.exceptions import exception_app, shipment_app
from ledger_client.cli.grants import grant_app
from ledger_client.cli.lifecycle import lifecycle_app, lot_app
from ledger_client.cli.network import network_app
from ledger_client.cli.returns import returns_app
from ledger_client.cli.sharing import gateway_url_app, sharing_app

__all__ = ["app", "main"]

app = RxTyper(help="RxLedger: track and trace medicines on a shared ledger.", no_args_is_help=True)
app.add_typer(lifecycle_app)
app.add_typer(shipment_app)
app.add_typer(returns_app)
app.add_typer(deploy_app)
app.add_typer(lot_app, name="lot")
app.add_typer(council_app, name="council")
app.add_typer(grant_app, name="grant")
app.add_typer(exception_app, name="exception")
app.add_typer(epcis_app, name="epcis")
app.add_typer(audit_app, name="audit")
app.add_typer(report_app, name="report")
app.add_typer(network_app, name="network")
app.add_typer(sharing_app)
app.add_typer(gateway_url_app, name="gateway-url")


def main() -> None:
    """Entry point of the ``rxledger`` console script."""
    app()
