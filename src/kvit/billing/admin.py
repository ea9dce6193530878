"""Back-office pages whose saves are billed at once.

A page's save — the row and its inline rows — goes through the apps' actions inside one
`recalculating` block, so it is rated once, and the page says what was recalculated. Rows
are ended with their “effective to” on the page; a row entered by mistake is deleted from
its own page, which asks first and warns that deleting recalculates too. A refusal that only
the recalculation finds (no open period to post into) undoes the whole save and is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kvit.billing.changes import Recalculation, recalculating
from kvit.tenants.models import Tenant
from kvit.users.admin_scoping import ScopedTabularInline

Act = Callable[[Any], Recalculation]
SHOWN_SKIPPED = 3


def recalculation_messages(batch: Recalculation) -> list[tuple[int, str]]:
    """What the back-office says about `batch`: (level, text) pairs."""
    found: list[tuple[int, str]] = []
    periods = _periods(batch)
    if batch.entries and batch.tenant_id is not None:
        currency = Tenant.objects.filter(pk=batch.tenant_id).values_list("currency", flat=True)
        found.append(
            (
                messages.SUCCESS,
                _(
                    "Recalculation for %(periods)s: %(amount)s %(currency)s, accounts changed: "
                    "%(count)d."
                )
                % {
                    "count": batch.changed,
                    "periods": periods,
                    "amount": f"{batch.amount:+}",
                    "currency": currency.first() or "",
                },
            )
        )
    elif batch.periods:
        found.append(
            (
                messages.INFO,
                _("Recalculation for %(periods)s: the charges did not change.")
                % {"periods": periods},
            )
        )
    # by account, once (a period each may skip it; a house meter's own problem comes back
    # as the problem of each account that needed its volume)
    skipped = {item["account"]: item for item in batch.skipped if "account" in item}
    if skipped:
        reasons = "; ".join(_skipped_text(item) for item in list(skipped.values())[:SHOWN_SKIPPED])
        found.append(
            (
                messages.WARNING,
                _("Accounts not recalculated (they keep their charges): %(count)d. %(reasons)s")
                % {"count": len(skipped), "reasons": reasons},
            )
        )
    return found


def _skipped_text(item: dict[str, Any]) -> str:
    """An account left out, with its first problem."""
    language = "ru" if (get_language() or "").startswith("ru") else "en"
    return f"{item['account']}: {item['issues'][0]['message'][language]}"


def _periods(batch: Recalculation) -> str:
    if len(batch.periods) > 3:
        return f"{batch.periods[0]} … {batch.periods[-1]}"
    return ", ".join(str(period) for period in batch.periods)


class RecalculatingAdmin:
    """A model admin (before `ScopedModelAdmin` in the bases) whose object is saved through
    `save_row` and deleted through `remove_row` (the app's actions; None: deleted as usual),
    with its inline rows in the same block."""

    save_row: Act
    remove_row: Act | None = None

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        self.assign_tenant(request, obj)  # type: ignore[attr-defined]  # saved in save_related

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        with recalculating(request.user) as batch:
            self.save_row(form.instance)
            super().save_related(request, form, formsets, change)  # type: ignore[misc]
        self._report(request, batch)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        if self.remove_row is None:
            super().delete_model(request, obj)  # type: ignore[misc]
            return
        with recalculating(request.user) as batch:
            self.remove_row(obj)
        self._report(request, batch)

    def get_actions(self, request: HttpRequest) -> Any:
        actions = super().get_actions(request)  # type: ignore[misc]
        if self.remove_row is not None:  # one row at a time, on its own page, which asks
            actions.pop("delete_selected", None)
        return actions

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> HttpResponse:
        try:
            response: HttpResponse = super().changeform_view(  # type: ignore[misc]
                request, object_id, form_url, extra_context
            )
        except ValidationError as refused:  # found by the recalculation: nothing was saved
            self.message_user(request, "; ".join(refused.messages), messages.ERROR)  # type: ignore[attr-defined]
            return HttpResponseRedirect(request.get_full_path())
        return response

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if request.method != "POST" and self.remove_row is not None:
            self.message_user(  # type: ignore[attr-defined]
                request,
                _(
                    "Deleting this row recalculates the charges it reaches in every billed "
                    "period. To stop it from a date, set its “effective to” instead."
                ),
                messages.WARNING,
            )
        try:
            response: HttpResponse = super().delete_view(  # type: ignore[misc]
                request, object_id, extra_context
            )
        except ValidationError as refused:
            self.message_user(request, "; ".join(refused.messages), messages.ERROR)  # type: ignore[attr-defined]
            return HttpResponseRedirect(request.get_full_path())
        return response

    def _report(self, request: HttpRequest, batch: Recalculation) -> None:
        for level, text in recalculation_messages(batch):
            self.message_user(request, text, level)  # type: ignore[attr-defined]


class RecalculatingFormSet:
    """An inline formset (before the formset base) whose rows are saved through `save_row`,
    inside the page's `recalculating` block, and deleted through `remove_row` where the
    inline lets them be deleted (dated rows are ended instead)."""

    save_row: Act
    remove_row: Act | None = None

    def save_new(self, form: Any, commit: bool = True) -> models.Model:
        obj: models.Model = super().save_new(form, commit=False)  # type: ignore[misc]
        if commit:
            self.save_row(obj)
        return obj

    def save_existing(self, form: Any, obj: Any, commit: bool = True) -> models.Model:
        changed: models.Model = super().save_existing(form, obj, commit=False)  # type: ignore[misc]
        if commit:
            self.save_row(changed)
        return changed

    def delete_existing(self, obj: Any, commit: bool = True) -> None:
        if commit and self.remove_row is not None:
            self.remove_row(obj)
        else:
            super().delete_existing(obj, commit)  # type: ignore[misc]


class BilledInline(ScopedTabularInline):
    """An account's rows billed at once: ended by their last date here, deleted (when
    entered by mistake) from their own page, which asks first."""

    can_delete = False
    show_change_link = True
