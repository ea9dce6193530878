"""Registries in the back-office: the organisation's formats (edited), the registries with
their outcomes (read-only), their lines and readings (read-only lists, filtered by registry
and outcome), and the upload form, which calls `import_registry` and shows the result.

Uploads (R25): at most `REGISTRY_UPLOAD_MAX_BYTES`; archives, documents, images and markup
are refused with 400 before anything is read; the file is kept under a name the server makes
up and is only ever sent back as an attachment.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.widgets import (
    UnfoldAdminFileFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldBooleanWidget,
)

from kvit.registries import parsing
from kvit.registries.actions import COUNTED, import_registry
from kvit.registries.models import (
    BankStatement,
    Registry,
    RegistryFormat,
    RegistryLine,
    RegistryReading,
    StatementCredit,
)
from kvit.registries.problems import describe
from kvit.registries.queries import PRESET_NAMES, formats
from kvit.registries.reconciliation import (
    Check,
    ImportedStatement,
    import_statement,
    matches,
    registries_checked_as,
)
from kvit.tenants.models import Tenant
from kvit.users import roles
from kvit.users.admin_scoping import (
    LargeTable,
    ReadOnly,
    ScopedAutocompleteFilter,
    ScopedModelAdmin,
    bullet_list,
)

UPLOAD_TEMPLATE = "admin/registries/registry/upload.html"
STATEMENT_TEMPLATE = "admin/registries/bankstatement/upload.html"


@admin.register(RegistryFormat)
class RegistryFormatAdmin(ScopedModelAdmin):
    list_display = ("code", "name", "source", "provider", "encoding", "footer")
    list_select_related = ("provider",)
    fieldsets = (
        (None, {"fields": ("tenant", "code", "name", "source", "provider", "bank_inn")}),
        (
            _("Layout"),
            {
                "fields": (
                    "encoding",
                    "separator",
                    "quoting",
                    "decimal_mark",
                    "date_format",
                    "time_format",
                    "period_format",
                    "header_lines",
                    "header_names",
                    "columns",
                    "readings_from",
                    "footer",
                )
            },
        ),
    )


def _upload_page(
    model_admin: ModelAdmin, request: HttpRequest, form: forms.Form, title: str, template: str
) -> HttpResponse:
    """An upload form (400 when it was posted and did not go through)."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.model._meta,
        "form": form,
        "max_megabytes": settings.REGISTRY_UPLOAD_MAX_BYTES // 1024**2,
        "media": model_admin.media + form.media,
    }
    status = 400 if request.method == "POST" else 200
    return TemplateResponse(request, template, context, status=status)


def _changelist(model: Any, **filters: Any) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return f"{url}?{urlencode(filters)}"


class StatementCheckFilter(admin.SimpleListFilter):
    """Imported registries by their check against the bank statements' credits."""

    title = _("bank statement")
    parameter_name = "statement"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            (Check.MATCHED.value, _("matched")),
            (Check.DIFFERS.value, _("differs")),
            (Check.AWAITED.value, _("awaited")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Registry]) -> QuerySet[Registry]:
        value = self.value()
        if value not in {Check.MATCHED, Check.DIFFERS, Check.AWAITED}:
            return queryset
        return registries_checked_as(Check(value), queryset)


class StoredFile:
    """The file as received, downloaded from its row's page (`download`): only ever sent
    back as an attachment (R25)."""

    model: Any
    admin_site: Any

    def _file_url(self) -> str:
        return f"{self.model._meta.app_label}_{self.model._meta.model_name}_file"

    @admin.display(description=_("stored file"))
    def download(self, obj: Any) -> str:
        if not obj.file:
            return "—"
        url = reverse(f"admin:{self._file_url()}", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Download the file as received"))

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(self.file_view)
        return [
            path("<int:object_id>/file/", view, name=self._file_url()),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def file_view(self, request: HttpRequest, object_id: int) -> FileResponse:
        found = self.get_object(request, str(object_id))  # type: ignore[attr-defined]
        if found is None or not found.file:
            raise Http404
        if not self.has_view_permission(request, found):  # type: ignore[attr-defined]
            raise PermissionDenied
        # An attachment, never shown inline; Django quotes and encodes the name.
        return FileResponse(
            found.file.open("rb"),
            as_attachment=True,
            filename=found.file_name,
            content_type="application/octet-stream",
        )


@admin.register(Registry)
class RegistryAdmin(StoredFile, ReadOnly, LargeTable, ScopedModelAdmin):
    """Read-only; "add" is the upload form."""

    list_display = (
        "imported_at",
        "file_name",
        "format_code",
        "status",
        "lines",
        "amount",
        "posted",
        "suspense",
        "duplicates",
        "conflicts",
        "invalid",
        "imported_by",
    )
    list_display_links = ("imported_at", "file_name")
    list_select_related = ("imported_by",)
    list_filter = ("status", StatementCheckFilter, "format_code", "imported_at")
    search_fields = ("file_name", "order_number")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "tenant",
                    "file_name",
                    "download",
                    "format_code",
                    "source",
                    "size",
                    "sha256",
                    "status",
                    "imported_at",
                    "imported_by",
                    "rejection",
                )
            },
        ),
        (
            _("Payment order (footer)"),
            {
                "fields": (
                    "bank_inn",
                    "order_number",
                    "order_date",
                    "statement_check",
                    "footer_count",
                    "footer_amount",
                    "footer_transferred",
                    "footer_fee",
                )
            },
        ),
        (_("Outcomes"), {"fields": ("lines", "amount", "outcomes", "readings")}),
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return roles.may_change(request.user, Registry)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [name for fieldset in self.fieldsets for name in fieldset[1]["fields"]]

    @admin.display(description=_("why it was rejected"))
    def rejection(self, obj: Registry) -> str:
        return bullet_list(obj.problem_texts())

    @admin.display(description=_("bank statement"))
    def statement_check(self, obj: Registry) -> str:
        if obj.status != Registry.Status.IMPORTED:
            return "—"
        match = matches([obj])[obj.pk]
        if not match.credits:
            return match.text
        url = _changelist(StatementCredit, id__in=",".join(str(c.pk) for c in match.credits))
        return format_html('<a href="{}">{}</a>', url, match.text)

    @admin.display(description=_("lines by outcome"))
    def outcomes(self, obj: Registry) -> str:
        rows = [
            (
                _changelist(RegistryLine, registry__id__exact=obj.pk, outcome__exact=outcome),
                RegistryLine.Outcome(outcome).label,
                getattr(obj, count),
                getattr(obj, amount),
            )
            for outcome, (count, amount) in COUNTED.items()
        ]
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                '<tr><td><a href="{}">{}</a></td><td class="text-right px-4">{}</td>'
                '<td class="text-right">{}</td></tr>',
                rows,
            ),
        )

    @admin.display(description=_("readings"))
    def readings(self, obj: Registry) -> str:
        url = _changelist(RegistryReading, registry__id__exact=obj.pk)
        return format_html(
            '<a href="{}">{}</a>',
            url,
            gettext("%(recorded)s recorded, %(rejected)s not recorded")
            % {"recorded": obj.readings_recorded, "rejected": obj.readings_rejected},
        )

    # --- the upload form and the stored file ------------------------------------------------

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        user: Any = request.user
        form = UploadForm(
            request.POST if request.method == "POST" else None,
            request.FILES if request.method == "POST" else None,
            user=user,
        )
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                imported = import_registry(
                    form.cleaned_data["tenant"],
                    form.content,
                    upload.name or "",
                    form.cleaned_data["format"],
                    user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return self._imported(request, imported.registry, imported.already_imported)
        title = gettext("Import a payment registry")
        return _upload_page(self, request, form, title, UPLOAD_TEMPLATE)

    def _imported(self, request: HttpRequest, registry: Registry, again: bool) -> HttpResponse:
        values = {"name": registry.file_name, "posted": registry.posted, "lines": registry.lines}
        if again:
            self.message_user(
                request,
                gettext("%(name)s was imported before: nothing was posted again.") % values,
                messages.WARNING,
            )
        elif registry.status == Registry.Status.REJECTED:
            self.message_user(
                request,
                gettext("%(name)s is rejected: nothing of it is posted. See why below.") % values,
                messages.ERROR,
            )
        else:
            self.message_user(
                request,
                gettext("%(name)s is imported: %(posted)s of %(lines)s lines posted.") % values,
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:registries_registry_change", args=[registry.pk]))


class _FileForm(forms.Form):
    """An organisation (a superuser chooses, a user has theirs) and a text file, read into
    `content` once it passes the size limit and the sniff (R25)."""

    tenant = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Tenant.objects.none(),
        widget=UnfoldAdminSelectWidget,
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.content = b""
        tenant_field = self.fields["tenant"]
        if user.is_superuser:
            tenant_field.queryset = Tenant.objects.order_by("code")  # type: ignore[attr-defined]
        else:
            tenant_field.queryset = Tenant.objects.filter(pk=user.tenant_id)  # type: ignore[attr-defined]
            tenant_field.initial = user.tenant_id
            tenant_field.widget = forms.HiddenInput()
            tenant_field.disabled = True

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.REGISTRY_UPLOAD_MAX_BYTES
        if upload.size > limit:
            raise ValidationError(
                _("The file is %(size)s MB; a file may be at most %(limit)s MB."),
                code="too_large",
                params={"size": upload.size // 1024**2, "limit": limit // 1024**2},
            )
        head = upload.read(parsing.SNIFFED)
        problem = parsing.sniff(head)
        if problem is not None:
            raise ValidationError(describe(problem), code=problem.code)
        self.content = head + upload.read()
        return upload


class UploadForm(_FileForm):
    format = forms.ChoiceField(label=_("Format"), widget=UnfoldAdminSelectWidget)
    file = forms.FileField(label=_("Registry file"), widget=UnfoldAdminFileFieldWidget)
    confirm = forms.BooleanField(
        label=_("Post the payments of this file"),
        help_text=_(
            "Each new payment is credited to its account at once; unknown and closed accounts "
            "go to suspense; payments already received are reported and not posted again. "
            "If the file fails its footer check, nothing of it is posted. A posted payment is "
            "corrected only by a reversal."
        ),
        widget=UnfoldBooleanWidget,
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        if user.is_superuser:
            choices = [(code, f"{code} — {name}") for code, name in _preset_and_all_formats()]
        else:
            choices = [(code, f"{code} — {name}") for code, name in formats(user.tenant_id)]
        self.fields["format"].choices = choices  # type: ignore[attr-defined]


class StatementForm(_FileForm):
    file = forms.FileField(
        label=_("Bank statement (1C exchange format)"), widget=UnfoldAdminFileFieldWidget
    )


def _preset_and_all_formats() -> list[tuple[str, str]]:
    """For a superuser, who imports for any organisation: the presets and every format code
    (the import checks that the organisation has it)."""
    presets = [(code, str(name)) for code, name in PRESET_NAMES.items()]
    codes = RegistryFormat.objects.order_by("code").values_list("code", "name").distinct()
    return presets + list(codes)


@admin.register(RegistryLine)
class RegistryLineAdmin(ReadOnly, LargeTable, ScopedModelAdmin):
    list_display = ("registry", "number", "outcome", "payment", "why")
    list_display_links = ("number",)
    list_select_related = ("registry", "payment")
    list_filter = ("outcome", ("registry", ScopedAutocompleteFilter))
    search_fields = ("payment__external_id", "payment__account_number")
    fields = ("registry", "number", "outcome", "payment", "why", "text")
    readonly_fields = fields

    @admin.display(description=pgettext_lazy("registry line", "reason"))
    def why(self, obj: RegistryLine) -> str:
        return "; ".join(obj.reasons())


@admin.register(RegistryReading)
class RegistryReadingAdmin(ReadOnly, LargeTable, ScopedModelAdmin):
    list_display = ("registry", "line", "meter", "text", "outcome", "reason", "reading")
    list_display_links = ("line",)
    list_select_related = ("registry", "reading")
    list_filter = ("outcome", ("registry", ScopedAutocompleteFilter))
    fields = ("registry", "line", "meter", "value", "text", "outcome", "reason", "reading")
    readonly_fields = fields


@admin.register(BankStatement)
class BankStatementAdmin(StoredFile, ReadOnly, ScopedModelAdmin):
    """Read-only; "add" is the upload form, which calls `import_statement`."""

    list_display = (
        "imported_at",
        "file_name",
        "starts_on",
        "ends_on",
        "accounts",
        "credits",
        "amount",
        "debits",
        "imported_by",
    )
    list_display_links = ("imported_at", "file_name")
    list_select_related = ("imported_by",)
    list_filter = ("imported_at",)
    search_fields = ("file_name", "accounts")
    fields = (
        "tenant",
        "file_name",
        "download",
        "sha256",
        "imported_at",
        "imported_by",
        "starts_on",
        "ends_on",
        "accounts",
        "credit_list",
        "amount",
        "debits",
        "unread",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return roles.may_change(request.user, BankStatement)

    @admin.display(description=_("credits"))
    def credit_list(self, obj: BankStatement) -> str:
        url = _changelist(StatementCredit, statement__id__exact=obj.pk)
        return format_html('<a href="{}">{}</a>', url, obj.credits)

    @admin.display(description=_("documents not read"))
    def unread(self, obj: BankStatement) -> str:
        return bullet_list(obj.problem_texts())

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        user: Any = request.user
        posted = request.method == "POST"
        form = StatementForm(
            request.POST if posted else None, request.FILES if posted else None, user=user
        )
        if posted and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                imported = import_statement(
                    form.cleaned_data["tenant"], form.content, upload.name or "", user
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self._report(request, imported)
                change = "admin:registries_bankstatement_change"
                return HttpResponseRedirect(reverse(change, args=[imported.statement.pk]))
        title = gettext("Import a bank statement")
        return _upload_page(self, request, form, title, STATEMENT_TEMPLATE)

    def _report(self, request: HttpRequest, imported: ImportedStatement) -> None:
        statement = imported.statement
        if imported.already_imported:
            self.message_user(
                request,
                gettext("%(name)s was imported before.") % {"name": statement.file_name},
                messages.WARNING,
            )
            return
        self.message_user(
            request,
            gettext("%(name)s is imported: %(credits)s credits, %(amount)s.")
            % {
                "name": statement.file_name,
                "credits": statement.credits,
                "amount": statement.amount,
            },
            messages.SUCCESS,
        )
        for registry, _match in imported.checked.get(Check.MATCHED, ()):
            self.message_user(
                request,
                gettext("Registry %(registry)s matches the statement.") % {"registry": registry},
                messages.SUCCESS,
            )
        for registry, match in imported.checked.get(Check.DIFFERS, ()):
            self.message_user(
                request,
                gettext(
                    "Registry %(registry)s differs from the statement: the registries of its "
                    "payment order say %(transferred)s was transferred. Ask the bank."
                )
                % {"registry": registry, "transferred": match.transferred},
                messages.ERROR,
            )
        if statement.problems:
            self.message_user(
                request,
                gettext("Documents not read: %(count)s. See below.")
                % {"count": len(statement.problems)},
                messages.WARNING,
            )


@admin.register(StatementCredit)
class StatementCreditAdmin(ReadOnly, LargeTable, ScopedModelAdmin):
    list_display = ("number", "dated", "amount", "kind", "payer_name", "payer_inn", "received_on")
    list_display_links = ("number",)
    list_select_related = ("statement",)
    list_filter = (("statement", ScopedAutocompleteFilter), "dated")
    search_fields = ("number", "payer_name", "payer_inn", "purpose")
    fields = (
        "statement",
        "line",
        "kind",
        "number",
        "dated",
        "amount",
        "received_on",
        "payer_name",
        "payer_inn",
        "payer_account",
        "recipient_account",
        "purpose",
    )
    readonly_fields = fields
