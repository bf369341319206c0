"""An HTTP JSON-RPC proxy in front of one node that forwards the standard Ethereum methods
only, so a test shows what RxLedger's client and gateway need of a node: nothing but the
standard API that Besu, geth and every other execution client serve.

The standard set is the ``eth_`` namespace of the Ethereum execution-apis specification
(https://github.com/ethereum/execution-apis, ``src/eth/*.yaml``: block, client, execute,
fee_market, filter, sign, state, submit, transaction) and the ``web3_`` and ``net_`` methods
of the Ethereum JSON-RPC API (https://ethereum.org/en/developers/docs/apis/json-rpc/).
Every other method (``anvil_``, ``evm_``, ``debug_``, ``admin_``, ``miner_``, ``clique_``,
``personal_``, ``txpool_``, ...) gets a JSON-RPC error, code -32601 (method not found), and
is counted. Batch requests are answered element by element, in order. With ``max_logs``,
an ``eth_getLogs`` answer of more logs is refused as Besu and the node providers refuse it
(code -32005, "query returned more than N results"). With ``max_batch``, a batch of more
calls is dropped: the connection closes with no answer, as geth closes it when a batch takes
longer than its HTTP write timeout (30 s) to answer.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from ledger_client.dev.anvil import Service
from ledger_client.dev.ports import free_port

#: The standard methods: execution-apis ``src/eth/`` by file, then the web3_ and net_ ones.
STANDARD_METHODS = frozenset(
    {
        # block.yaml
        "eth_getBlockByHash",
        "eth_getBlockByNumber",
        "eth_getBlockTransactionCountByHash",
        "eth_getBlockTransactionCountByNumber",
        "eth_getUncleCountByBlockHash",
        "eth_getUncleCountByBlockNumber",
        "eth_getBlockReceipts",
        # client.yaml
        "eth_chainId",
        "eth_syncing",
        "eth_coinbase",
        "eth_accounts",
        "eth_blockNumber",
        # execute.yaml
        "eth_call",
        "eth_estimateGas",
        "eth_createAccessList",
        # fee_market.yaml
        "eth_gasPrice",
        "eth_blobBaseFee",
        "eth_maxPriorityFeePerGas",
        "eth_feeHistory",
        # filter.yaml
        "eth_newFilter",
        "eth_newBlockFilter",
        "eth_newPendingTransactionFilter",
        "eth_uninstallFilter",
        "eth_getFilterChanges",
        "eth_getFilterLogs",
        "eth_getLogs",
        # sign.yaml
        "eth_sign",
        "eth_signTransaction",
        # state.yaml
        "eth_getBalance",
        "eth_getStorageAt",
        "eth_getTransactionCount",
        "eth_getCode",
        "eth_getProof",
        # submit.yaml
        "eth_sendTransaction",
        "eth_sendRawTransaction",
        # transaction.yaml
        "eth_getTransactionByHash",
        "eth_getTransactionByBlockHashAndIndex",
        "eth_getTransactionByBlockNumberAndIndex",
        "eth_getTransactionReceipt",
        # the JSON-RPC API's web3_ and net_ methods
        "web3_clientVersion",
        "web3_sha3",
        "net_version",
        "net_listening",
        "net_peerCount",
    }
)
#: JSON-RPC 2.0's "Method not found".
METHOD_NOT_FOUND = -32601
#: The code nodes answer an over-large eth_getLogs with (EIP-1474's "limit exceeded").
LIMIT_EXCEEDED = -32005
#: JSON-RPC 2.0's "Invalid Request" and "Parse error".
INVALID_REQUEST, PARSE_ERROR, INTERNAL_ERROR = -32600, -32700, -32603


def _error(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


class StandardRpcProxy(Service):
    """Listens on ``127.0.0.1:port`` and forwards standard calls to ``upstream``.

    ``forwarded`` and ``refused`` count the calls by method (``refused`` counts the
    ``eth_getLogs`` answers over ``max_logs`` too); ``dropped`` counts the batches over
    ``max_batch``. A context manager.
    """

    def __init__(
        self,
        upstream: str,
        port: int | None = None,
        max_logs: int | None = None,
        max_batch: int | None = None,
    ) -> None:
        self.upstream = upstream
        self.port = port or free_port()
        self.max_logs = max_logs
        self.max_batch = max_batch
        self.dropped = 0
        self.forwarded: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """The proxy's JSON-RPC URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        """Start serving in a background thread."""
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if proxy.drops(body):
                    self.close_connection = True  # no status line: the client sees it break
                    return
                answer = json.dumps(proxy.answer(body)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def drops(self, body: bytes) -> bool:
        """Whether request ``body`` is a batch over ``max_batch`` calls (counted)."""
        if self.max_batch is None:
            return False
        try:
            request = json.loads(body)
        except ValueError:
            return False
        if not isinstance(request, list) or len(request) <= self.max_batch:
            return False
        with self._lock:
            self.dropped += 1
        return True

    def answer(self, body: bytes) -> Any:
        """The response to request ``body``: one call or a batch, each standard call
        forwarded (a batch's in one upstream batch), every other refused."""
        try:
            request = json.loads(body)
        except ValueError:
            return _error(None, PARSE_ERROR, "request is not JSON")
        if not isinstance(request, list):
            return self._answer_batch([request])[0]
        if not request:
            return _error(None, INVALID_REQUEST, "empty batch")
        return self._answer_batch(request)

    def _answer_batch(self, calls: list[Any]) -> list[Any]:
        answers: list[Any] = [None] * len(calls)
        allowed: list[int] = []
        for i, call in enumerate(calls):
            method = call.get("method") if isinstance(call, dict) else None
            if not isinstance(method, str):
                answers[i] = _error(None, INVALID_REQUEST, "not a JSON-RPC call")
            elif method not in STANDARD_METHODS:
                with self._lock:
                    self.refused[method] += 1
                message = f"{method} is not a standard Ethereum JSON-RPC method"
                answers[i] = _error(call.get("id"), METHOD_NOT_FOUND, message)
            else:
                allowed.append(i)
        if allowed:
            forwarded = self._forward([calls[i] for i in allowed])
            for i, answer in zip(allowed, forwarded, strict=True):
                answers[i] = self._capped(calls[i], answer)
            with self._lock:
                self.forwarded.update(calls[i]["method"] for i in allowed)
        return answers

    def _capped(self, call: dict[str, Any], answer: Any) -> Any:
        """``answer``, or the limit error when it holds more than ``max_logs`` logs."""
        if self.max_logs is None or call["method"] != "eth_getLogs":
            return answer
        result = answer.get("result") if isinstance(answer, dict) else None
        if not isinstance(result, list) or len(result) <= self.max_logs:
            return answer
        with self._lock:
            self.refused["eth_getLogs"] += 1
        message = f"query returned more than {self.max_logs} results"
        return _error(call.get("id"), LIMIT_EXCEEDED, message)

    def _forward(self, calls: list[dict[str, Any]]) -> list[Any]:
        """Send ``calls`` upstream, as one batch when their ids tell the answers apart;
        return the answers in the calls' order."""
        ids = [json.dumps(c.get("id")) for c in calls]
        if len(calls) == 1 or len(set(ids)) != len(ids):
            return [self._post(call) for call in calls]
        answers = self._post(calls)
        by_id = {json.dumps(a.get("id")): a for a in answers if isinstance(a, dict)}
        return [
            by_id.get(i) or _error(c.get("id"), INTERNAL_ERROR, "the node gave no answer")
            for i, c in zip(ids, calls, strict=True)
        ]

    def _post(self, payload: Any) -> Any:
        request = urllib.request.Request(
            self.upstream,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())
