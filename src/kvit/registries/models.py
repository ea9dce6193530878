"""Bank registries (реестры платежей, spec 6.2): the formats of the bank contracts, the
registries imported (or rejected) and what became of each of their lines and readings.

* `RegistryFormat`: a bank contract's layout, for formats other than the built-in presets
  (`kvit.registries.parsing.PRESETS`: `sberbank`, `csv`), which every organisation has.
* `Registry`: one file as received — who imported it and when, its footer (the payment
  order), its status and its counts and sums per outcome. Written by its import's
  transaction only (the row first, its totals at the end of the same transaction), never
  changed afterwards. A file is imported once per organisation: a unique constraint on its
  content hash among the imported registries (a rejected file may be sent again).
* `RegistryLine`: a line's outcome — posted, duplicate, conflict, suspense or invalid — with
  the payment it posted or met, and the problems of an invalid line with its text.
* `RegistryReading`: a meter reading given in a line, and whether it was recorded.
* `BankStatement` and its `StatementCredit`s: a bank statement as received and the payment
  orders it shows credited, which registries' footers are checked against (spec 6.2).

Lines, readings, statements and their credits are append-only (the database refuses
changes): they are the record of what the bank sent and what Kvit did with it.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kvit.db.append_only import AppendOnly
from kvit.db.history import History
from kvit.db.references import References
from kvit.db.tenancy import foreign_tenant_errors
from kvit.registries import parsing
from kvit.registries.problems import describe, line_reasons

MONEY: dict[str, Any] = {"max_digits": 16, "decimal_places": 2}


def _money(verbose_name: Any, **options: Any) -> models.DecimalField[Any, Any]:
    return models.DecimalField(verbose_name, default=Decimal("0.00"), **MONEY, **options)


class RegistryFormat(models.Model):
    """The layout of a bank contract's registries (spec 6.2: the field mapping, separator,
    encoding and decimal mark differ between banks and contracts)."""

    class Encoding(models.TextChoices):
        WINDOWS_1251 = "windows-1251", "windows-1251"
        UTF_8 = "utf-8", "UTF-8"
        KOI8_R = "koi8-r", "KOI8-R"

    class DecimalMark(models.TextChoices):
        POINT = ".", _("point: 1234.56")
        COMMA = ",", _("comma: 1234,56")

    class Footer(models.TextChoices):
        NONE = parsing.FOOTER_NONE, _("none")
        SBERBANK = (
            parsing.FOOTER_SBERBANK,
            _("Sberbank: =count;amount;transferred;fee;payment order number;date"),
        )

    tenant = models.ForeignKey(
        "tenants.Tenant", models.CASCADE, db_index=False, verbose_name=_("organisation")
    )
    code = models.CharField(
        _("code"),
        max_length=40,
        validators=[RegexValidator(r"^[a-z0-9][a-z0-9_-]*$")],
        help_text=_("What the import names the format by: lower-case letters, digits, - and _."),
    )
    name = models.CharField(_("name"), max_length=200)
    source = models.CharField(
        _("payment source"),
        max_length=40,
        help_text=_(
            "The bank's code in the payments' keys (source and operation number): keep it "
            "the same for every registry of the contract, or a payment could be posted twice."
        ),
    )
    provider = models.ForeignKey(
        "providers.Provider",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("provider"),
        help_text=_("When the contract is for one provider: its payments are for it."),
    )
    bank_inn = models.CharField(
        _("bank's INN"),
        max_length=12,
        blank=True,
        validators=[RegexValidator(r"^(\d{10}|\d{12})$")],
        help_text=_(
            "The payer of the contract's payment orders in bank statements: a registry is "
            "checked against that bank's credits only. Empty: against any payer's."
        ),
    )
    encoding = models.CharField(
        _("encoding"), max_length=20, choices=Encoding.choices, default=Encoding.WINDOWS_1251
    )
    separator = models.CharField(_("separator"), max_length=1, default=";")
    quoting = models.BooleanField(
        _("quoted fields"),
        default=False,
        help_text=_('Fields may be quoted ("…"), as in CSV.'),
    )
    decimal_mark = models.CharField(
        _("decimal mark"), max_length=1, choices=DecimalMark.choices, default=DecimalMark.POINT
    )
    date_format = models.CharField(
        _("date format"),
        max_length=20,
        default="%d-%m-%Y",
        help_text=_("strftime codes: %d day, %m month, %Y year, %y two-digit year."),
    )
    time_format = models.CharField(
        _("time format"),
        max_length=20,
        default="%H-%M-%S",
        help_text=_("strftime codes: %H hours, %M minutes, %S seconds."),
    )
    period_format = models.CharField(
        _("period format"),
        max_length=20,
        default="%m%y",
        help_text=_("strftime codes of the period the payer names, e.g. %m%y for 0725."),
    )
    header_lines = models.PositiveSmallIntegerField(
        _("lines to skip"),
        default=0,
        validators=[MaxValueValidator(100)],
        help_text=_("Lines at the top of the file before the payments (or the header row)."),
    )
    header_names = models.BooleanField(
        _("header row names the fields"),
        default=False,
        help_text=_("The first line names the fields (CSV); the column numbers are not used."),
    )
    columns = models.JSONField(
        _("field mapping"),
        default=dict,
        blank=True,
        help_text=format_lazy(
            "{} {}",
            _(
                'Column numbers (from 1) of the fields, e.g. {"paid_on": 1, "external_id": 6, '
                '"account_number": 7, "amount": 11}. The fields:'
            ),
            ", ".join(parsing.FIELDS),
        ),
    )
    readings_from = models.PositiveSmallIntegerField(
        _("readings from column"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("From this column on: pairs of meter number and reading."),
    )
    footer = models.CharField(
        _("footer check"), max_length=20, choices=Footer.choices, default=Footer.NONE
    )

    tenant_path = "tenant"
    history = History()

    class Meta:
        verbose_name = _("registry format")
        verbose_name_plural = _("registry formats")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "code"],
                name="registries_format_code_unique",
                violation_error_message=_("The organisation has a registry format with this code."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def layout(self) -> parsing.Layout:
        return parsing.Layout(
            columns=dict(self.columns or {}),
            separator=self.separator,
            encoding=self.encoding,
            decimal_mark=self.decimal_mark,
            date_format=self.date_format,
            time_format=self.time_format,
            period_format=self.period_format,
            header_lines=self.header_lines,
            header_names=self.header_names,
            quoting=self.quoting,
            readings_from=self.readings_from,
            footer=self.footer,
        )

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {
            name: [error]
            for name, error in foreign_tenant_errors(self, self.tenant_id, "provider").items()
        }
        if self.code in parsing.PRESETS:
            errors.setdefault("code", []).append(
                _("“%(code)s” is a built-in format: choose another code.") % {"code": self.code}
            )
        if not isinstance(self.columns, dict):
            errors.setdefault("columns", []).append(
                _("The field mapping is an object: field name → column number.")
            )
        else:
            for problem in parsing.layout_problems(self.layout()):
                name = problem.field if problem.field in _LAYOUT_FIELDS else "columns"
                errors.setdefault(name, []).append(describe(problem))
        if errors:
            raise ValidationError(errors)


_LAYOUT_FIELDS = {
    "encoding",
    "separator",
    "decimal_mark",
    "date_format",
    "time_format",
    "period_format",
    "footer",
}


class _Received(models.Model):
    """A file an organisation received from a bank and imported: who imported it and when,
    under what name, and its content's hash (a file is imported once)."""

    tenant = models.ForeignKey(
        "tenants.Tenant", models.PROTECT, db_index=False, verbose_name=_("organisation")
    )
    file_name = models.CharField(
        _("file name"), max_length=255, help_text=_("The name the file was sent with.")
    )
    file = models.FileField(
        _("stored file"),
        max_length=200,
        blank=True,
        help_text=_("The file as received, under a name the server gave it."),
    )
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    imported_at = models.DateTimeField(_("imported at"))
    imported_by = models.ForeignKey(
        "users.User",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("imported by"),
    )

    tenant_path = "tenant"
    folder = ""  # where the files of the kind are kept, under MEDIA_ROOT

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.file_name} ({self.imported_at:%Y-%m-%d %H:%M})"

    def keep(self, content: bytes) -> None:
        """Store the file as received, under a name the server makes up (nothing of the
        sender's file name reaches the disk); the row is not saved here."""
        name = f"{self.folder}/{self.tenant_id}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.txt"
        self.file.save(name, ContentFile(content), save=False)


class Registry(_Received):
    """A registry file as received from a bank, imported whole or rejected whole."""

    folder = "registries"

    class Status(models.TextChoices):
        IMPORTED = "imported", pgettext_lazy("registry", "imported")
        REJECTED = "rejected", pgettext_lazy("registry", "rejected")

    format_code = models.CharField(_("format"), max_length=40)
    source = models.CharField(_("payment source"), max_length=40)
    size = models.PositiveBigIntegerField(_("size, bytes"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    bank_inn = models.CharField(_("bank's INN"), max_length=12, blank=True)
    order_number = models.CharField(_("payment order number"), max_length=64, blank=True)
    order_date = models.DateField(_("payment order date"), null=True, blank=True)
    footer_count = models.PositiveIntegerField(_("lines in the footer"), null=True, blank=True)
    footer_amount = models.DecimalField(_("footer amount"), null=True, blank=True, **MONEY)
    footer_transferred = models.DecimalField(
        _("footer amount transferred"), null=True, blank=True, **MONEY
    )
    footer_fee = models.DecimalField(_("footer bank fee"), null=True, blank=True, **MONEY)
    lines = models.PositiveIntegerField(_("payment lines"), default=0)
    amount = _money(_("amount of the lines"), help_text=_("What the lines add up to, as read."))
    posted = models.PositiveIntegerField(pgettext_lazy("registry lines", "posted"), default=0)
    posted_amount = _money(_("amount posted"))
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    duplicate_amount = _money(_("amount of duplicates"))
    conflicts = models.PositiveIntegerField(_("conflicts"), default=0)
    conflict_amount = _money(_("amount of conflicts"))
    suspense = models.PositiveIntegerField(_("in suspense"), default=0)
    suspense_amount = _money(_("amount in suspense"))
    invalid = models.PositiveIntegerField(_("invalid"), default=0)
    invalid_amount = _money(
        _("amount of invalid lines"), help_text=_("Of the lines whose amount could be read.")
    )
    duplicate_transferred = _money(
        _("transferred for duplicates"),
        help_text=_(
            "What the footer's amount transferred holds for lines received before: paid for "
            "then, not by this registry's payment order."
        ),
    )
    readings_recorded = models.PositiveIntegerField(_("readings recorded"), default=0)
    readings_rejected = models.PositiveIntegerField(_("readings not recorded"), default=0)
    problems = models.JSONField(
        _("problems"),
        default=list,
        blank=True,
        encoder=DjangoJSONEncoder,
        help_text=_("Why the file was rejected."),
    )

    class Meta:
        verbose_name = _("payment registry")
        verbose_name_plural = _("payment registries")
        ordering = ["-imported_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "imported_at"], name="registries_registry_at_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "sha256"],
                condition=Q(status="imported"),
                name="registries_registry_once",
                violation_error_message=_("This file is already imported."),
            ),
        ]

    def problem_texts(self) -> list[str]:
        return [describe(parsing.Problem(**problem)) for problem in self.problems]


class RegistryLine(models.Model):
    """What became of one payment line of a registry."""

    class Outcome(models.TextChoices):
        POSTED = "posted", pgettext_lazy("registry line", "posted")
        DUPLICATE = "duplicate", pgettext_lazy("registry line", "duplicate")
        CONFLICT = "conflict", pgettext_lazy("registry line", "conflict")
        SUSPENSE = "suspense", pgettext_lazy("registry line", "in suspense")
        INVALID = "invalid", pgettext_lazy("registry line", "invalid")

    registry = models.ForeignKey(
        Registry,
        models.CASCADE,
        db_constraint=False,  # checked per statement (Meta): a million lines a registry
        db_index=False,  # the unique (registry, number) index starts with it
        related_name="+",
        verbose_name=_("payment registry"),
    )
    number = models.PositiveIntegerField(_("line"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    payment = models.ForeignKey(
        "payments.Payment",
        models.PROTECT,
        db_constraint=False,
        null=True,
        blank=True,
        db_index=False,  # never looked up by payment; a million lines write less
        related_name="+",
        verbose_name=_("payment"),
        help_text=_("The payment the line posted, or the one recorded before under its key."),
    )
    details = models.JSONField(
        _("details"),
        default=dict,
        blank=True,
        encoder=DjangoJSONEncoder,
        help_text=_("An invalid line's problems; a conflict's differing fields."),
    )
    text = models.TextField(_("line as received"), blank=True)

    tenant_path = "registry__tenant"

    class Meta:
        verbose_name = _("registry line")
        verbose_name_plural = _("registry lines")
        ordering = ["registry", "number"]
        indexes = [
            # The lines to look at, by outcome; the posted ones (nearly all) stay out of it.
            models.Index(
                fields=["registry", "outcome", "number"],
                condition=~Q(outcome="posted"),
                name="registries_line_outcome_idx",
            ),
        ]
        constraints = [
            AppendOnly(name="registries_line_append_only"),
            References(name="registries_line_references", fields=["registry", "payment"]),
            models.UniqueConstraint(fields=["registry", "number"], name="registries_line_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.number}"

    def reasons(self) -> list[str]:
        """Why the line was not posted, in the current language."""
        return line_reasons(self.outcome, self.details, self.payment)


class RegistryReading(models.Model):
    """A meter reading given in a registry line (spec 6.2, columns 14+)."""

    class Outcome(models.TextChoices):
        RECORDED = "recorded", pgettext_lazy("registry reading", "recorded")
        REJECTED = "rejected", pgettext_lazy("registry reading", "not recorded")
        SKIPPED = "skipped", pgettext_lazy("registry reading", "skipped")

    registry = models.ForeignKey(
        Registry, models.CASCADE, related_name="+", verbose_name=_("payment registry")
    )
    line = models.PositiveIntegerField(_("line"))
    meter = models.CharField(_("meter number as received"), max_length=100)
    value = models.DecimalField(_("value"), max_digits=18, decimal_places=6, null=True, blank=True)
    text = models.CharField(_("value as received"), max_length=100)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    reason = models.TextField(pgettext_lazy("registry line", "reason"), blank=True)
    reading = models.ForeignKey(
        "metering.Reading",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reading"),
    )

    tenant_path = "registry__tenant"

    class Meta:
        verbose_name = _("registry reading")
        verbose_name_plural = _("registry readings")
        ordering = ["registry", "line", "id"]
        indexes = [models.Index(fields=["registry", "line"], name="registries_reading_line_idx")]
        constraints = [AppendOnly(name="registries_reading_append_only")]

    def __str__(self) -> str:
        return f"{self.meter}: {self.text}"


class BankStatement(_Received):
    """A bank statement (1C client-bank exchange format) as received: the credits it holds
    are what registries' payment orders are checked against (spec 6.2)."""

    folder = "statements"

    starts_on = models.DateField(pgettext_lazy("bank statement", "from"), null=True, blank=True)
    ends_on = models.DateField(pgettext_lazy("bank statement", "to"), null=True, blank=True)
    accounts = models.CharField(_("bank accounts"), max_length=255, blank=True)
    credits = models.PositiveIntegerField(_("credits"), default=0)
    amount = _money(_("amount credited"))
    debits = models.PositiveIntegerField(
        _("debits skipped"), default=0, help_text=_("Documents paid from the organisation.")
    )
    problems = models.JSONField(
        _("problems"),
        default=list,
        blank=True,
        encoder=DjangoJSONEncoder,
        help_text=_("Documents that could not be read; the others are kept."),
    )

    class Meta:
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        ordering = ["-imported_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "sha256"],
                name="registries_statement_once",
                violation_error_message=_("This statement is already imported."),
            ),
            AppendOnly(name="registries_statement_append_only"),
        ]

    def problem_texts(self) -> list[str]:
        return [describe(parsing.Problem(**problem)) for problem in self.problems]


class StatementCredit(models.Model):
    """Money a bank statement shows credited to the organisation: one payment order."""

    statement = models.ForeignKey(
        BankStatement, models.CASCADE, related_name="+", verbose_name=_("bank statement")
    )
    tenant = models.ForeignKey(
        "tenants.Tenant", models.PROTECT, db_index=False, verbose_name=_("organisation")
    )
    line = models.PositiveIntegerField(_("line"))
    kind = models.CharField(
        _("document"), max_length=100, help_text=_("As the statement names it.")
    )
    number = models.CharField(_("payment order number"), max_length=64)
    dated = models.DateField(_("payment order date"))
    amount = models.DecimalField(_("amount"), **MONEY)
    received_on = models.DateField(_("credited on"), null=True, blank=True)
    payer_name = models.CharField(_("payer"), max_length=255, blank=True)
    payer_inn = models.CharField(_("payer's INN"), max_length=12, blank=True)
    payer_account = models.CharField(_("payer's account"), max_length=34, blank=True)
    recipient_account = models.CharField(_("recipient's account"), max_length=34, blank=True)
    purpose = models.TextField(_("purpose of payment"), blank=True)

    tenant_path = "tenant"

    class Meta:
        verbose_name = _("statement credit")
        verbose_name_plural = _("statement credits")
        ordering = ["statement", "line"]
        indexes = [
            models.Index(fields=["tenant", "number", "dated"], name="registries_credit_order_idx"),
        ]
        constraints = [AppendOnly(name="registries_credit_append_only")]

    def __str__(self) -> str:
        return f"№ {self.number} {self.dated:%d.%m.%Y}: {self.amount}"
