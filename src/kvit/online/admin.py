"""Online payments in the back-office: the aggregator contracts (their secrets are written,
never shown back), and the transactions and requests, read-only: they come only from the
aggregators' requests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminIntegerFieldWidget, UnfoldAdminPasswordWidget

from kvit.online.actions import rotate_secret
from kvit.online.models import SECRET_MIN_LENGTH, Aggregator, OnlineEvent, OnlineTransaction
from kvit.users.admin_scoping import (
    LargeTable,
    NoHistory,
    ReadOnly,
    ScopedModelAdmin,
    ScopedTabularInline,
)


class AggregatorForm(forms.ModelForm):  # type: ignore[type-arg]
    new_secret = forms.CharField(
        label=_("New secret"),
        required=False,
        min_length=SECRET_MIN_LENGTH,
        max_length=128,
        strip=False,
        widget=UnfoldAdminPasswordWidget(render_value=False),
        help_text=_(
            "The HMAC key agreed with the aggregator, at least 32 characters. It is stored and "
            "never shown again; leave empty to keep the current one."
        ),
    )
    keep_previous_hours = forms.IntegerField(
        label=_("Keep the old secret valid for, hours"),
        min_value=0,
        max_value=720,
        initial=24,
        widget=UnfoldAdminIntegerFieldWidget,
        help_text=_("While the aggregator switches to the new secret, both are accepted."),
    )

    class Meta:
        model = Aggregator
        fields = ("tenant", "code", "name", "provider", "tolerance", "is_active")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if self.instance.pk is None:
            if not cleaned.get("new_secret"):
                self.add_error("new_secret", _("A new contract needs its secret."))
            else:
                self.instance.secret = cleaned["new_secret"]
        return cleaned


@admin.register(Aggregator)
class AggregatorAdmin(NoHistory, ScopedModelAdmin):
    form = AggregatorForm
    list_display = ("code", "name", "provider", "tolerance", "is_active", "previous_secret_until")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    readonly_fields = ("previous_secret_until", "created_at")
    fieldsets = (
        (None, {"fields": ("tenant", "code", "name", "provider", "tolerance", "is_active")}),
        (
            _("Secret"),
            {"fields": ("new_secret", "keep_previous_hours", "previous_secret_until")},
        ),
    )

    def save_model(self, request: HttpRequest, obj: Aggregator, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        secret = form.cleaned_data.get("new_secret")
        if change and secret:
            hours = form.cleaned_data.get("keep_previous_hours") or 0
            rotate_secret(obj, secret, keep_previous_for=timedelta(hours=hours))


class OnlineEventInline(ScopedTabularInline):
    model = OnlineEvent
    fields = ("at", "operation", "outcome", "status_code", "remote_addr")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OnlineTransaction)
class OnlineTransactionAdmin(ReadOnly, LargeTable, ScopedModelAdmin):
    list_display = (
        "created_at",
        "aggregator",
        "external_id",
        "account_number",
        "amount",
        "fee",
        "state",
        "performed_at",
        "cancelled_at",
        "payment",
    )
    list_display_links = ("created_at", "external_id")
    list_select_related = ("aggregator", "payment")
    list_filter = ("state", "aggregator", "created_at")
    search_fields = ("external_id", "account_number")
    inlines = (OnlineEventInline,)


@admin.register(OnlineEvent)
class OnlineEventAdmin(ReadOnly, LargeTable, ScopedModelAdmin):
    list_display = (
        "at",
        "aggregator",
        "operation",
        "outcome",
        "status_code",
        "security",
        "remote_addr",
    )
    list_select_related = ("aggregator",)
    list_filter = ("security", "operation", "outcome", "at")
    search_fields = ("outcome", "remote_addr")
