"""Persons, their ownership shares, registrations, benefits and temporary absences (spec 1.5,
1.6, 2.14, 2.16)."""

from __future__ import annotations

from fractions import Fraction

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kvit.core.ownership import Share
from kvit.db.effective import EffectiveDated, effective_dating, overlapping
from kvit.db.history import History
from kvit.db.tenancy import foreign_tenant_errors
from kvit.providers.validators import validate_inn


class Person(models.Model):
    tenant = models.ForeignKey("tenants.Tenant", models.CASCADE, verbose_name=_("organisation"))
    last_name = models.CharField(_("last name"), max_length=100)
    first_name = models.CharField(_("first name"), max_length=100)
    middle_name = models.CharField(_("middle name"), max_length=100, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    inn = models.CharField(_("INN"), max_length=12, blank=True, validators=[validate_inn])
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)

    tenant_path = "tenant"
    history = History()
    account_path = "registrations__account"

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["last_name", "first_name", "middle_name"]
        indexes = [models.Index(fields=["tenant", "last_name"], name="people_person_name_idx")]

    def __str__(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)


class Ownership(EffectiveDated):
    """A person's share of a premise, kept as an exact fraction."""

    premise = models.ForeignKey(
        "premises.Premise", models.CASCADE, related_name="ownerships", verbose_name=_("premise")
    )
    owner = models.ForeignKey(
        Person, models.PROTECT, related_name="ownerships", verbose_name=_("owner")
    )
    share_numerator = models.PositiveIntegerField(_("share numerator"), default=1)
    share_denominator = models.PositiveIntegerField(_("share denominator"), default=1)
    document = models.CharField(_("title document"), max_length=200, blank=True)

    tenant_path = "premise__tenant"
    history = History()
    account_path = "premise__accounts"

    class Meta:
        verbose_name = _("ownership")
        verbose_name_plural = _("ownerships")
        ordering = ["premise", "effective_from"]
        constraints = [
            *effective_dating("people_ownership", "premise", "owner"),
            models.CheckConstraint(
                condition=Q(share_numerator__gt=0) & Q(share_numerator__lte=F("share_denominator")),
                name="people_ownership_share_range",
                violation_error_message=_("A share must be greater than 0 and at most 1."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner} — {self.share_numerator}/{self.share_denominator}"

    @property
    def share(self) -> Fraction:
        return Fraction(self.share_numerator, self.share_denominator)

    def as_share(self) -> Share:
        return Share(self.share_numerator, self.share_denominator, self.span)

    def clean(self) -> None:
        premise_tenant = self.premise.tenant_id if self.premise_id else None
        errors = foreign_tenant_errors(self, premise_tenant, "owner")
        numerator, denominator = self.share_numerator, self.share_denominator
        if denominator == 0:
            errors["share_denominator"] = ValidationError(
                _("The denominator must be greater than zero.")
            )
        elif numerator is not None and denominator is not None and not 0 < numerator <= denominator:
            errors["share_numerator"] = ValidationError(
                _("A share must be greater than 0 and at most 1.")
            )
        if errors:
            raise ValidationError(errors)


class Registration(EffectiveDated):
    """A person counted on an account: registered permanently or temporarily, or living there
    by an inspection act (spec 1.6)."""

    class Kind(models.TextChoices):
        PERMANENT = "permanent", _("permanent registration")
        TEMPORARY = "temporary", _("temporary registration")
        ACTUALLY_LIVING = "actually_living", _("actually living (inspection act)")

    account = models.ForeignKey(
        "accounts.Account",
        models.CASCADE,
        related_name="registrations",
        verbose_name=_("personal account"),
    )
    person = models.ForeignKey(
        Person, models.PROTECT, related_name="registrations", verbose_name=_("person")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.PERMANENT)
    document = models.CharField(_("document"), max_length=200, blank=True)

    tenant_path = "account__tenant"
    history = History()
    account_path = "account"

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["account", "effective_from"]
        constraints = effective_dating("people_registration", "account", "person")

    def __str__(self) -> str:
        return f"{self.person} ({self.get_kind_display()})"

    def clean(self) -> None:
        account_tenant = self.account.tenant_id if self.account_id else None
        errors = foreign_tenant_errors(self, account_tenant, "person")
        if errors:
            raise ValidationError(errors)


class BenefitCategory(models.Model):
    tenant = models.ForeignKey("tenants.Tenant", models.CASCADE, verbose_name=_("organisation"))
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    rate = models.DecimalField(
        _("rate"),
        max_digits=5,
        decimal_places=4,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text=_("Share of the base charge: 0.5 means half of it."),
    )
    services = models.ManyToManyField("tariffs.Service", blank=True, verbose_name=_("services"))

    tenant_path = "tenant"
    history = History()

    class Meta:
        verbose_name = _("benefit category")
        verbose_name_plural = _("benefit categories")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "code"], name="people_benefit_category_code_unique"
            ),
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lte=1), name="people_benefit_rate_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Benefit(EffectiveDated):
    """A beneficiary on an account: the person's category applies from its dates (spec 2.16)."""

    account = models.ForeignKey(
        "accounts.Account",
        models.CASCADE,
        related_name="benefits",
        verbose_name=_("personal account"),
    )
    person = models.ForeignKey(
        Person, models.PROTECT, related_name="benefits", verbose_name=_("person")
    )
    category = models.ForeignKey(BenefitCategory, models.PROTECT, verbose_name=_("category"))
    document = models.CharField(_("document"), max_length=200, blank=True)

    tenant_path = "account__tenant"
    history = History()
    account_path = "account"

    class Meta:
        verbose_name = _("benefit")
        verbose_name_plural = _("benefits")
        constraints = effective_dating("people_benefit", "account", "person", "category")

    def __str__(self) -> str:
        return f"{self.person}: {self.category}"

    def clean(self) -> None:
        account_tenant = self.account.tenant_id if self.account_id else None
        errors = foreign_tenant_errors(self, account_tenant, "person", "category")
        if errors:
            raise ValidationError(errors)


class Absence(EffectiveDated):
    """A temporary absence of a person counted on an account, with its documents (spec 2.14).

    Like every effective-dated row (ADR 1) it is half-open: the person is away from the
    departure day (`effective_from`) up to the arrival day (`effective_to`, the first day
    back; empty while they are still away), so the full days away are the days strictly
    between. One person's absences on one account never overlap (ADR 2). The engine
    recalculates it once the person is back and the documents were filed (`filed_on`) within
    30 days of the return (`kvit.core.absence`).
    """

    effective_from = models.DateField(_("departure day"))
    effective_to = models.DateField(
        _("arrival day"),
        null=True,
        blank=True,
        help_text=_("The day the person came back; empty while they are away."),
    )
    account = models.ForeignKey(
        "accounts.Account",
        models.CASCADE,
        related_name="absences",
        verbose_name=_("personal account"),
    )
    person = models.ForeignKey(
        Person, models.PROTECT, related_name="absences", verbose_name=_("person")
    )
    filed_on = models.DateField(
        _("documents filed on"),
        null=True,
        blank=True,
        help_text=_("Empty until the documents confirming the absence are filed."),
    )
    document = models.CharField(_("documents"), max_length=200, blank=True)

    tenant_path = "account__tenant"
    history = History()
    account_path = "account"

    class Meta:
        verbose_name = _("temporary absence")
        verbose_name_plural = _("temporary absences")
        ordering = ["account", "effective_from"]
        constraints = effective_dating("people_absence", "account", "person")

    def __str__(self) -> str:
        return f"{self.person}: {self.effective_from} – {self.effective_to or '…'}"

    def clean(self) -> None:
        account_tenant = self.account.tenant_id if self.account_id else None
        errors = foreign_tenant_errors(self, account_tenant, "person")
        if not errors and self.account_id and self.person_id and self.effective_from:
            registered = overlapping(
                Registration.objects.filter(account_id=self.account_id, person_id=self.person_id),
                self.effective_from,
                self.effective_to,
            )
            if not registered.exists():
                errors["person"] = ValidationError(
                    _(
                        "%(person)s is not registered on this account while away: only a "
                        "person counted on the account can be recorded as temporarily absent."
                    ),
                    code="not_registered",
                    params={"person": self.person},
                )
        if errors:
            raise ValidationError(errors)
