"""Kvit's REST API (django-ninja), mounted at /api/ outside the language prefixes: the
OpenAPI schema at /api/openapi.json, its browsable docs at /api/docs (Swagger UI served from
django-ninja's own static files, never from a CDN)."""

from django.urls import path
from ninja import NinjaAPI

from kvit.api import errors, online
from kvit.api.idempotency import RETENTION

DESCRIPTION = f"""
Kvit's API for payment aggregators: check an account, then create, perform and cancel a
transaction (docs/api.md has a worked, signed example).

**Signing.** Every request carries `X-Kvit-Timestamp` (Unix seconds) and `X-Kvit-Signature`:
the hex HMAC-SHA256, under the aggregator's secret, of
`timestamp + "." + METHOD + "." + path + "." + raw body` (the path as requested, without the
query string). A request signed more than the contract's tolerance (300 s by default) away
from Kvit's clock, or not signed with the current secret (or the previous one during its
rotation window), is refused with 401 and changes nothing.

**Idempotency.** Each step is idempotent on the aggregator's transaction id: repeating it
answers with the transaction as it stands and never posts twice. Write operations also take
an `Idempotency-Key` header (IETF draft): the first response is stored with the key and
replayed, identical and marked `Idempotent-Replayed: true`, for the same key and request;
the same key with another request is refused (422). Keys are scoped per organisation and
aggregator and kept at least {RETENTION.total_seconds() / 3600:.0f} hours.

**Errors** are JSON: `{{"code": "…", "message": "…", "errors": [{{"field": "…", "message":
"…"}}]}}`; the code is stable, the message follows `Accept-Language` (en, ru).
Amounts are decimal strings (`"1500.00"`), never JSON numbers.
"""

api = NinjaAPI(title="Kvit API", version="1", description=DESCRIPTION, urls_namespace="api")
errors.install(api)
api.add_router("/online/", online.router)

urlpatterns = [path("", api.urls)]
