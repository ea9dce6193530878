"""The aggregators' endpoints (ADR 6, docs/api.md), under
`/api/online/{tenant}/{aggregator}/`: check an account, create, perform and cancel a
transaction, read a transaction's state.

Every request is signed by the aggregator (`kvit.online.signing`); the signature is checked
before the body is parsed, and a refused request reaches no operation. Every request,
refused or not, is written down as an `OnlineEvent`, after its own transaction, so that a
refusal's event stays. Messages follow the request's Accept-Language (English or Russian).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from ninja import HeaderEx, P, PathEx, Router
from ninja.security import APIKeyHeader

from kvit.api.errors import ApiError, Trace, trace
from kvit.api.idempotency import HEADER, RETENTION, idempotent
from kvit.api.schemas import (
    NO_CONTROL,
    AccountOut,
    CancelIn,
    Problem,
    TransactionIn,
    TransactionOut,
)
from kvit.online import actions, queries
from kvit.online.models import DEFAULT_TOLERANCE, Aggregator, OnlineTransaction
from kvit.online.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, Refusal, verify

security_log = logging.getLogger("kvit.security")

KEY_DESCRIPTION = (
    "Optional. Makes a retry of this request safe: the first response is stored with the "
    f"key, kept at least {RETENTION.total_seconds() / 3600:.0f} hours, and replayed "
    "(header `Idempotent-Replayed: true`) for the same key and request; the same key with "
    "another request is refused (422)."
)
IdempotencyKey = HeaderEx[
    str | None, P(alias=HEADER, min_length=1, max_length=255, description=KEY_DESCRIPTION)
]
# An account number or a transaction id in the path with a control character (a NUL,
# which PostgreSQL's text refuses) names nothing: refused as invalid, not looked up.
PathText = PathEx[str, P(pattern=NO_CONTROL)]
ERRORS: dict[int, Any] = {
    code: Problem for code in (400, 401, 404, 409, 422, 500, 503)
}  # 500 and 503 carry an error id (kvit.api.errors)


class AggregatorSignature(APIKeyHeader):
    """The aggregator named in the path, when the request is signed with its secret."""

    param_name = SIGNATURE_HEADER

    def authenticate(self, request: HttpRequest, key: str | None) -> Aggregator:
        match = request.resolver_match
        names = match.kwargs if match else {}
        aggregator = queries.aggregator_named(names.get("tenant", ""), names.get("aggregator", ""))
        refusal = verify(
            aggregator,
            request.headers.get(TIMESTAMP_HEADER),
            key,
            request.method or "",
            request.path,
            request.body,
            timezone.now(),
        )
        if refusal is None:
            assert aggregator is not None
            return aggregator
        trace(request).aggregator = aggregator
        security_log.warning(  # %r: the path comes from outside, no forged log lines
            "online request refused: %s, %r %r from %s",
            refusal.value,
            request.method,
            request.path,
            request.META.get("REMOTE_ADDR"),
        )
        raise ApiError(401, refusal.value, _refusal_message(refusal, aggregator), security=True)


def _refusal_message(refusal: Refusal, aggregator: Aggregator | None) -> str:
    if refusal is Refusal.SIGNATURE_MISSING:
        return _("The request is not signed: send the %(timestamp)s and %(signature)s headers.") % {
            "timestamp": TIMESTAMP_HEADER,
            "signature": SIGNATURE_HEADER,
        }
    if refusal is Refusal.TIMESTAMP_INVALID:
        return _(
            "The request's timestamp is not the current Unix time within %(seconds)s seconds: "
            "check the clock."
        ) % {"seconds": aggregator.tolerance if aggregator else DEFAULT_TOLERANCE}
    return _(
        "The signature does not match the request: check the secret and what is signed "
        "(timestamp.METHOD.path.body)."
    )


def recorded(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Run the operation in the caller's language, then write down its event."""

    @wraps(run)
    def logged(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language = translation.get_language_from_request(request)
        with translation.override(language):
            response = run(request, *args, **kwargs)
        response["Content-Language"] = language
        noted = trace(request)
        match = request.resolver_match
        actions.record_event(
            match.url_name if match and match.url_name else "",
            noted.outcome or str(response.status_code),
            response.status_code,
            request.body,
            aggregator=noted.aggregator or getattr(request, "auth", None),
            online_transaction=noted.transaction,
            security=noted.security,
            remote_addr=request.META.get("REMOTE_ADDR"),
            details=_details(request, noted),
        )
        return response

    return logged


def _details(request: HttpRequest, noted: Trace) -> dict[str, str]:
    details = {"path": request.path, "message": noted.message} if noted.message else {}
    if noted.error_id:
        details["error_id"] = noted.error_id
    return details


router = Router(auth=AggregatorSignature(), tags=["online payments"])
router.add_decorator(recorded, mode="view")
PREFIX = "/{tenant}/{aggregator}"


def answer(
    request: HttpRequest, found: OnlineTransaction, changed: bool, outcome: str
) -> JsonResponse:
    noted = trace(request)
    noted.outcome, noted.transaction = (outcome if changed else "replayed"), found
    return JsonResponse(TransactionOut.of(found).model_dump(mode="json"))


def _principal(aggregator: Aggregator) -> str:
    return f"aggregator:{aggregator.pk}"


@router.get(
    PREFIX + "/accounts/{account}",
    url_name="check",
    response={200: AccountOut, **ERRORS},
    summary="Check an account",
    description="Does the account exist and take payments, and what does it owe?",
)
def check(request: HttpRequest, tenant: str, aggregator: str, account: PathText) -> HttpResponse:
    found = queries.account_check(request.auth, account, timezone.localdate())  # type: ignore[attr-defined]
    trace(request).outcome = "found"
    return JsonResponse(AccountOut.of(found).model_dump(mode="json"))


@router.post(
    PREFIX + "/transactions",
    url_name="create",
    response={200: TransactionOut, **ERRORS},
    summary="Create a transaction",
    description=(
        "Reserve the transaction id for a payment to an account. Repeating it with the same "
        "data answers with the transaction as it stands; other data under the same id is a "
        "conflict (409)."
    ),
)
def create(
    request: HttpRequest,
    tenant: str,
    aggregator: str,
    body: TransactionIn,
    key: IdempotencyKey = None,
) -> HttpResponse:
    contract: Aggregator = request.auth  # type: ignore[attr-defined]

    def run() -> HttpResponse:
        found, created = actions.create_transaction(contract, body.to_request())
        return answer(request, found, created, "created")

    return idempotent(request, contract.tenant_id, _principal(contract), key, run)


@router.get(
    PREFIX + "/transactions/{transaction_id}",
    url_name="status",
    response={200: TransactionOut, **ERRORS},
    summary="Read a transaction",
)
def status(
    request: HttpRequest, tenant: str, aggregator: str, transaction_id: PathText
) -> HttpResponse:
    found = queries.transaction_of(request.auth, transaction_id)  # type: ignore[attr-defined]
    return answer(request, found, True, "found")


@router.post(
    PREFIX + "/transactions/{transaction_id}/perform",
    url_name="perform",
    response={200: TransactionOut, **ERRORS},
    summary="Perform a transaction",
    description=(
        "The payer has paid: the payment is posted to the account at once. Repeating it "
        "answers with the transaction as it stands; a cancelled transaction is refused (409)."
    ),
)
def perform(
    request: HttpRequest,
    tenant: str,
    aggregator: str,
    transaction_id: PathText,
    key: IdempotencyKey = None,
) -> HttpResponse:
    contract: Aggregator = request.auth  # type: ignore[attr-defined]

    def run() -> HttpResponse:
        found, performed = actions.perform_transaction(contract, transaction_id)
        return answer(request, found, performed, "performed")

    return idempotent(request, contract.tenant_id, _principal(contract), key, run)


@router.post(
    PREFIX + "/transactions/{transaction_id}/cancel",
    url_name="cancel",
    response={200: TransactionOut, **ERRORS},
    summary="Cancel a transaction",
    description=(
        "Before perform, nothing was posted and the transaction is cancelled; after perform, "
        "the payment is reversed. Repeating it answers with the transaction as it stands."
    ),
)
def cancel(
    request: HttpRequest,
    tenant: str,
    aggregator: str,
    transaction_id: PathText,
    body: CancelIn,
    key: IdempotencyKey = None,
) -> HttpResponse:
    contract: Aggregator = request.auth  # type: ignore[attr-defined]

    def run() -> HttpResponse:
        found, cancelled = actions.cancel_transaction(contract, transaction_id, body.reason)
        return answer(request, found, cancelled, "cancelled")

    return idempotent(request, contract.tenant_id, _principal(contract), key, run)
