"""`Idempotency-Key` for the API's write operations, as the IETF draft
(draft-ietf-httpapi-idempotency-key-header) and Stripe have it (R8):

* The first request with a key runs and its response is stored with the key, in the same
  database transaction as its effect: both are there, or neither.
* The same key again with the same request (method, path and body) gets the stored response,
  identical, with the header `Idempotent-Replayed: true`; the operation does not run again.
* The same key with another request is refused: 422 `idempotency_key_reused`.
* A request whose key is being used by a request still running waits for it (the key's
  unique index holds it) and then gets its replay; if that one failed, it runs itself.
* A refused request (4xx) stores nothing: its effect was nothing, so it may be retried.
* Keys are scoped per organisation and principal (the caller); they are kept at least
  `RETENTION` (24 hours), after which the key may be used for a new request, and
  `kvit purge_idempotency_keys` (`purge`) deletes them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from kvit.api.errors import ApiError, trace
from kvit.api.models import IdempotentRequest

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
RETENTION = timedelta(hours=24)
KEY_REUSED = "idempotency_key_reused"
REPLAYED = "replayed"


def fingerprint(request: HttpRequest) -> str:
    head = f"{request.method} {request.path}\n".encode()
    return hashlib.sha256(head + request.body).hexdigest()


def idempotent(
    request: HttpRequest,
    tenant_id: int,
    principal: str,
    key: str | None,
    run: Callable[[], HttpResponse],
) -> HttpResponse:
    """`run()`'s response; with a key, run at most once per key (see the module doc)."""
    if key is None:
        return run()
    mine = fingerprint(request)
    now = timezone.now()
    with transaction.atomic():
        # An expired use of the key is forgotten first, as `purge` would: the key is then
        # new, whether this deletes it or a purge just did.
        _expired(now).filter(tenant_id=tenant_id, principal=principal, key=key).delete()
        stored, claimed = IdempotentRequest.objects.get_or_create(
            tenant_id=tenant_id,
            principal=principal,
            key=key,
            defaults={"fingerprint": mine, "created_at": now},
        )
        if not claimed:
            stored.refresh_from_db()
            if stored.fingerprint != mine:
                raise ApiError(
                    422,
                    KEY_REUSED,
                    _(
                        "This Idempotency-Key was used for another request: use a new key for "
                        "a new request."
                    ),
                )
            trace(request).outcome = REPLAYED
            assert stored.status_code is not None  # stored before its transaction committed
            replay = HttpResponse(
                stored.content, status=stored.status_code, content_type=stored.content_type
            )
            replay[REPLAYED_HEADER] = "true"
            return replay
        response = run()
        IdempotentRequest.objects.filter(pk=stored.pk).update(
            status_code=response.status_code,
            content_type=response.get("Content-Type", ""),
            content=response.content.decode(),
        )
    return response


PURGE_BATCH = 10_000


def _expired(now: datetime) -> QuerySet[IdempotentRequest]:
    return IdempotentRequest.objects.filter(created_at__lte=now - RETENTION)


def purge(now: datetime | None = None) -> int:
    """Delete the stored requests older than `RETENTION` (their keys may be used again),
    `PURGE_BATCH` at a time, each batch its own transaction; how many were deleted."""
    now = now or timezone.now()
    deleted = 0
    while True:
        with transaction.atomic():
            batch = list(_expired(now).order_by("pk").values_list("pk", flat=True)[:PURGE_BATCH])
            if not batch:
                return deleted
            deleted += IdempotentRequest.objects.filter(pk__in=batch).delete()[0]
