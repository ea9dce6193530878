"""Errors as JSON with a stable code and a human message in the caller's language:

    {"code": "account_not_found", "message": "There is no account 000123.", "errors": []}

`errors` names the fields of an invalid request. Refusals of the domain actions
(ValidationError with a code) keep their code; `STATUS` says which HTTP status each gets.

Anything else that goes wrong is answered in the same shape with an `error_id` that the log
names beside the exception (R26): 503 `database_unavailable` with Retry-After when the
database could not be reached or gave up (the connection dropped, a lock or statement
timeout: the caller retries, with the same Idempotency-Key), 500 `internal_error` otherwise.
Nothing of the failed request was committed: every operation runs in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError as DomainError
from django.db import InterfaceError, OperationalError, connections
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import HttpError
from ninja.errors import ValidationError as RequestInvalid

from kvit.config import errors as server_errors
from kvit.online.actions import (
    NOT_CANCELLABLE,
    PAYMENT_CONFLICT,
    TRANSACTION_CANCELLED,
    TRANSACTION_CONFLICT,
)
from kvit.online.models import Aggregator, OnlineTransaction
from kvit.online.queries import ACCOUNT_CLOSED, ACCOUNT_NOT_FOUND, TRANSACTION_NOT_FOUND

INVALID_REQUEST = "invalid_request"
NOT_FOUND = "not_found"
DATABASE_UNAVAILABLE = "database_unavailable"
INTERNAL_ERROR = "internal_error"
RETRY_AFTER_SECONDS = 5
STATUS = {
    ACCOUNT_NOT_FOUND: 404,
    TRANSACTION_NOT_FOUND: 404,
    ACCOUNT_CLOSED: 409,
    TRANSACTION_CONFLICT: 409,
    TRANSACTION_CANCELLED: 409,
    NOT_CANCELLABLE: 409,
    PAYMENT_CONFLICT: 409,
    "no_open_period": 409,  # kvit.payments: nothing open to post into; the caller retries
}
"""HTTP status of a domain refusal by its code; any other code is 422."""


class ApiError(Exception):
    """A refusal decided in the web layer (authentication, idempotency keys)."""

    def __init__(self, status: int, code: str, message: str, *, security: bool = False) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.security = status, code, message, security


@dataclass
class Trace:
    """What a request came to, for its entry in the log of online requests."""

    outcome: str = ""
    message: str = ""
    security: bool = False
    aggregator: Aggregator | None = None
    transaction: OnlineTransaction | None = None
    error_id: str = ""


def trace(request: HttpRequest) -> Trace:
    found = getattr(request, "kvit_trace", None)
    if found is None:
        found = Trace()
        request.kvit_trace = found  # type: ignore[attr-defined]
    return found


def problem(
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    errors: list[dict[str, str]] | None = None,
    *,
    security: bool = False,
    error_id: str = "",
) -> HttpResponse:
    noted = trace(request)
    noted.outcome, noted.message, noted.security = code, message, security
    noted.error_id = error_id
    body: dict[str, Any] = {"code": code, "message": message, "errors": errors or []}
    if error_id:
        body["error_id"] = error_id
    return JsonResponse(body, status=status)


def _codes(error: DomainError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [e.code or "" for errors in error.error_dict.values() for e in errors]
    return [e.code or "" for e in error.error_list]


def _fields(error: DomainError) -> list[dict[str, str]]:
    if not hasattr(error, "error_dict"):
        return []
    return [
        {"field": name, "message": message}
        for name, messages in error.message_dict.items()
        for message in messages
    ]


def install(api: NinjaAPI) -> None:
    """Answer every refusal of `api` in the one shape. (The handlers take `Any`: ninja types
    them as taking the exception or its class.)"""

    def refused(request: HttpRequest, error: Any) -> HttpResponse:
        return problem(request, error.status, error.code, error.message, security=error.security)

    def domain(request: HttpRequest, error: Any) -> HttpResponse:
        code = next((c for c in _codes(error) if c in STATUS), "") or INVALID_REQUEST
        message = " ".join(error.messages)
        return problem(request, STATUS.get(code, 422), code, message, _fields(error))

    def invalid(request: HttpRequest, error: Any) -> HttpResponse:
        fields = [
            {
                "field": ".".join(str(part) for part in item.get("loc", ())),
                "message": str(item.get("msg", "")),
            }
            for item in error.errors
        ]
        return problem(
            request, 422, INVALID_REQUEST, _("The request is not valid: see the errors."), fields
        )

    def missing(request: HttpRequest, error: Any) -> HttpResponse:
        return problem(request, 404, NOT_FOUND, _("Not found."))

    def http(request: HttpRequest, error: Any) -> HttpResponse:
        if error.status_code == 400:  # django-ninja could not parse the body
            message = _("The request body cannot be read: send a JSON object.")
            return problem(request, 400, INVALID_REQUEST, message)
        return problem(request, error.status_code, "http_error", str(error))

    def unexpected(request: HttpRequest, error: Any) -> HttpResponse:
        found = server_errors.error_id(request, error)
        if not isinstance(error, OperationalError | InterfaceError):
            return problem(
                request,
                500,
                INTERNAL_ERROR,
                _("Something went wrong on our side: error %(id)s.") % {"id": found},
                error_id=found,
            )
        # A dropped connection is closed now, so the request's log entry opens a new one.
        for connection in connections.all(initialized_only=True):
            if not connection.in_atomic_block:
                connection.close_if_unusable_or_obsolete()
        response = problem(
            request,
            503,
            DATABASE_UNAVAILABLE,
            _("The database is unavailable for a moment: retry the request (error %(id)s).")
            % {"id": found},
            error_id=found,
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    api.add_exception_handler(ApiError, refused)
    api.add_exception_handler(DomainError, domain)
    api.add_exception_handler(RequestInvalid, invalid)
    api.add_exception_handler(Http404, missing)
    api.add_exception_handler(HttpError, http)
    api.add_exception_handler(Exception, unexpected)
