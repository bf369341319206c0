"""RxLedger's Python client: GS1 ids, contracts, lifecycle API and audit."""

from ledger_client.chain import connect, dev_account
from ledger_client.confirm import WriteUndoneError
from ledger_client.contracts import Deployment, MemberSpec, Role, deploy_network
from ledger_client.errors import (
    ConfigurationError,
    DuplicateInBatchError,
    InvalidCodeError,
    RxLedgerError,
)
from ledger_client.gs1 import PackCode, UnitCode, parse_code
from ledger_client.ids import items_hash, lot_id, pack_id, unit_id
from ledger_client.ledger import Ledger
from ledger_client.pipeline import BatchInterruptedError, BatchRevertError
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import (
    DecommissionReason,
    ExceptionKind,
    ExceptionRecord,
    ExceptionStatus,
    LotStatus,
    PackFlag,
    PackStatus,
    VerificationStatus,
)

__all__ = [
    "BatchInterruptedError",
    "BatchRevertError",
    "ConfigurationError",
    "DecommissionReason",
    "Deployment",
    "DuplicateInBatchError",
    "ExceptionKind",
    "ExceptionRecord",
    "ExceptionStatus",
    "InvalidCodeError",
    "Ledger",
    "LedgerRevertError",
    "LotStatus",
    "MemberSpec",
    "PackCode",
    "PackFlag",
    "PackStatus",
    "Role",
    "RxLedgerError",
    "UnitCode",
    "VerificationStatus",
    "WriteUndoneError",
    "connect",
    "deploy_network",
    "dev_account",
    "items_hash",
    "lot_id",
    "pack_id",
    "parse_code",
    "unit_id",
]
