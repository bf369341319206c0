"""Everything one gateway process holds: settings, database, chain, services and threads."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine
from web3 import Web3

from gateway.core.config import Settings
from gateway.core.logging import get_logger
from gateway.db.session import make_engine, migrate
from gateway.indexer import Indexer, IndexerThread
from gateway.services.alerts import VerificationRecorder, on_indexed, withdraw_orphaned
from gateway.services.auth import Authenticator
from gateway.services.capture import CaptureService
from gateway.services.chain import Chain
from gateway.services.deadlines import DeadlineAlerts
from gateway.services.dock import Dock
from gateway.services.epcis_query import EventQueries
from gateway.services.live_findings import (
    FindingMetrics,
    LiveFindings,
    load_catalogue,
    load_thresholds,
)
from gateway.services.named_queries import NamedQueries
from gateway.services.nonces import NonceStore
from gateway.services.oplock import OperatorLock
from gateway.services.ratelimit import RateLimiter
from gateway.services.readmodel import ReadModel
from gateway.services.relayer import RelayPolicy
from gateway.services.ti_exchange import ReceiptQueue, TiFetcher
from gateway.services.verify import Verifier
from gateway.services.webhooks import WebhookDispatcher
from ledger_client.audit.deadlines import BusinessCalendar

log = get_logger("rxledger.gateway")


@dataclass
class GatewayState:
    """The services of one gateway process, built from settings."""

    settings: Settings
    engine: Engine
    chain: Chain
    readmodel: ReadModel
    verifier: Verifier
    auth: Authenticator
    limiter: RateLimiter
    recorder: VerificationRecorder
    capture: CaptureService
    oplock: OperatorLock
    relay_policy: RelayPolicy
    indexer: Indexer
    queries: EventQueries
    named_queries: NamedQueries
    names: dict[str, str]
    dock: Dock
    calendar: BusinessCalendar
    findings: LiveFindings | None = None
    threads: list[object] = field(default_factory=list)

    @classmethod
    def build(
        cls, settings: Settings, w3: Web3 | None = None, registry: CollectorRegistry | None = None
    ) -> GatewayState:
        """Connect, migrate the database and wire the services (threads start in :meth:`start`);
        the services' metrics go to ``registry``."""
        engine = make_engine(settings.database_url)
        migrate(engine)
        chain = Chain.from_settings(settings, w3)
        readmodel = ReadModel(engine)
        if chain.operator is not None:  # the operator's lots, and those whose keys it holds
            readmodel.owners.hold_lot_keys(chain.operator.owners)
        names = {addr: name for name, addr in chain.deployment.members.items()}
        try:
            window = int(
                chain.consortium.functions.parameter(b"UNDO_WINDOW".ljust(32, b"\0")).call()
            )
        except Exception:  # noqa: BLE001 - the default window is only used for display
            window = 10 * 24 * 3600
        relay_policy = RelayPolicy(
            {
                chain.registry.address: "SerialRegistry",
                chain.directory.address: "ProductDirectory",
                chain.consortium.address: "Consortium",
                chain.grants.address: "AccessGrants",
                chain.exceptions.address: "ExceptionRegistry",
            },
            settings.relay_max_gas,
        )
        start = settings.start_block or chain.deployment.block
        oplock = OperatorLock(settings.data_dir / "operator.lock")
        operator = settings.operator.address if settings.operator else None
        findings = None
        if settings.anomaly_detection:
            findings = LiveFindings(
                engine,
                chain,
                load_catalogue(settings.anomaly_catalogue, chain),
                load_thresholds(settings.anomaly_thresholds),
                settings.anomaly_interval_seconds,
                FindingMetrics(registry),
            )
        calendar = BusinessCalendar(
            settings.exception_answer_days, frozenset(settings.exception_holidays)
        )
        return cls(
            settings=settings,
            engine=engine,
            chain=chain,
            readmodel=readmodel,
            verifier=Verifier(readmodel, chain, names, window),
            auth=Authenticator.from_settings(settings, chain, readmodel, NonceStore(engine)),
            limiter=RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst),
            recorder=VerificationRecorder(engine, settings.verification_flush_seconds),
            capture=CaptureService(engine, chain.operator, settings.epcis_store_path, oplock),
            oplock=oplock,
            relay_policy=relay_policy,
            indexer=Indexer(
                chain,
                engine,
                settings.confirmation_depth,
                settings.index_chunk_blocks,
                start,
                hooks=[on_indexed, *([ReceiptQueue(operator)] if operator else [])],
                rollback_hooks=[withdraw_orphaned],
                block_hooks=[findings.at_block] if findings else [],
                time_hooks=[DeadlineAlerts(calendar, settings.epcis_store_path)],
            ),
            queries=EventQueries(engine, settings.epcis_store_path, readmodel, operator, chain.now),
            named_queries=NamedQueries(engine, operator),
            names=names,
            findings=findings,
            dock=Dock(
                engine,
                readmodel,
                chain.operator,
                oplock,
                lambda address: names.get(address) if address else None,
                settings.epcis_store_path,
            ),
            calendar=calendar,
        )

    def start(self) -> None:
        """Start the background threads: recorder always; indexer and webhooks if configured.

        The process that runs the indexer (the only one, or the workers' supervisor) also
        resumes capture jobs a stopped process left unfinished.
        """
        self.recorder.start()
        if self.settings.run_indexer:
            self.capture.resume_orphans()
            indexer = IndexerThread(self.indexer, self.settings.index_poll_seconds)
            webhooks = WebhookDispatcher(
                self.engine,
                self.settings.webhook_timeout_seconds,
                self.settings.index_poll_seconds,
                self.settings.webhook_allow_loopback,
            )
            indexer.start()
            webhooks.start()
            self.threads += [indexer, webhooks]
            account = self.settings.operator
            if account is not None:
                fetcher = TiFetcher(
                    self.engine, self.chain, account, self.settings.ti_retry_seconds
                )
                fetcher.start()
                self.threads.append(fetcher)
        if self.settings.publish_gateway_url:
            self.publish_gateway_url()

    def publish_gateway_url(self) -> None:
        """Publish the public URL as the operator's gateway URL, unless the chain has it."""
        ledger, url = self.chain.operator, self.settings.public_url
        if ledger is None:
            log.warning("RXLEDGER_PUBLISH_GATEWAY_URL needs an operator key: not published")
            return
        try:
            if ledger.gateway_url() != url:
                ledger.set_gateway_url(url)
                log.info("gateway URL published", url=url)
        except Exception as exc:  # noqa: BLE001 - the gateway serves on; the log says why
            log.error("gateway URL not published", url=url, error=str(exc))

    def stop(self) -> None:
        """Stop threads and flush buffers."""
        for thread in self.threads:
            thread.stop()  # type: ignore[attr-defined]
        self.recorder.stop()
        self.capture.close()

    def name_of(self, address: str | None) -> str | None:
        """Return the demo name of a member address, if known."""
        return self.names.get(address) if address else None
