"""Server errors with an id (reliability R26): the page or the API answer shows an id, and
the log names the exception by the same id, so a user's report leads to its traceback.

Pages: `ErrorIdMiddleware` gives the exception its id, `server_error` (the 500 handler)
shows it. The API answers in its own JSON shape (`kvit.api.errors`) with the same ids.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader

log = logging.getLogger("kvit.errors")


def error_id(request: HttpRequest, error: BaseException) -> str:
    """A new id for `error`, logged with its traceback and kept on the request."""
    found = uuid.uuid4().hex
    request.kvit_error_id = found  # type: ignore[attr-defined]
    log.error("error %s on %s %s", found, request.method, request.path, exc_info=error)
    return found


class ErrorIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        error_id(request, exception)  # Django's 500 handler answers


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page, with the error's id; it reads nothing from the database, which may be
    what failed."""
    page = loader.get_template("500.html")
    return HttpResponseServerError(
        page.render({"error_id": getattr(request, "kvit_error_id", "")}, request)
    )
