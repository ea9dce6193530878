"""No server errors under fuzzing (R19): schemathesis generates valid and invalid requests
from the OpenAPI schema for every operation; each is signed as the test bank of the
`shop` organisation (so the operations themselves are reached, not only the signature
check) and sent to the Django application in this process. Every response must be
documented, conform to its schema and never be a 5xx.

The examples are few (the suite's time is small); run more with
`SCHEMATHESIS_EXAMPLES=500 .venv/bin/pytest tests/online/test_online_fuzz.py`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from online_shop import SECRET, Shop
from schemathesis.checks import ignored_auth, positive_data_acceptance
from werkzeug.test import Client

from kvit.online.signing import signed_headers

pytestmark = pytest.mark.django_db
application = WSGIHandler()
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))


@contextmanager
def connection_kept() -> Iterator[None]:
    """As Django's test client does: a request must not close the connection that holds
    the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors_and_every_answer_as_documented(case: Any, shop: Shop) -> None:
    case.path_parameters = {
        **(case.path_parameters or {}),
        "tenant": shop.tenant.code,
        "aggregator": shop.aggregator.code,
    }
    request = case.as_transport_kwargs()
    body = request.pop("data", b"") or b""
    if "json" in request:  # the bytes to sign are the bytes sent: serialize them here
        body = json.dumps(request.pop("json"))
    body = body.encode() if isinstance(body, str) else body
    request["headers"].update(
        signed_headers(SECRET, case.method, unquote(request["path"]), body, int(time.time()))
    )
    with connection_kept():
        response = Client(application).open(data=body, **request)
    assert response.status_code < 500, response.get_data(as_text=True)
    # Random account numbers and transaction ids are rightly not found: valid data need not
    # be accepted here. And the signature is ours, not the one schemathesis generated (which
    # it would take for an ignored one): test_online_signing proves the authentication.
    case.validate_response(response, excluded_checks=[positive_data_acceptance, ignored_auth])
