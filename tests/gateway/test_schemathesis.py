"""Property-based API test: schemathesis generates requests from the OpenAPI schema of a live
server; no request may cause a 5xx (with the console key and without credentials)."""

from __future__ import annotations

import hypothesis
import schemathesis
from gateway_helpers import CONSOLE, Gateway
from hypothesis import strategies as st

#: The SSE stream is excluded: it holds the connection open by design.
EXCLUDED = ("/v1/alerts/stream",)


def test_no_request_from_the_schema_causes_a_server_error(gateway: Gateway) -> None:
    schema = schemathesis.openapi.from_url(gateway.url + "/openapi.json")
    operations = [r.ok() for r in schema.get_all_operations()]
    operations = [op for op in operations if op.path not in EXCLUDED]
    assert len(operations) >= 15
    failures: list[str] = []

    for operation in operations:

        @hypothesis.settings(
            max_examples=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
        @hypothesis.given(case=operation.as_strategy(), credentials=st.sampled_from([CONSOLE, {}]))
        def check(case: schemathesis.Case, credentials: dict[str, str]) -> None:  # type: ignore[name-defined]
            response = case.call(base_url=gateway.url, headers=credentials, timeout=30)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path}: {response.status_code}"
                    f" {response.text[:300]}"
                )

        check()
    assert not failures, "\n".join(failures)
