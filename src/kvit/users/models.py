"""Users: staff of a tenant with a role, and consumers linked to their accounts."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from kvit.db.history import History


class Role(models.TextChoices):
    CHAIRMAN = "chairman", _("chairman / administrator")
    ACCOUNTANT = "accountant", _("accountant")
    ENGINEER = "engineer", _("engineer")
    CASHIER = "cashier", _("cashier")
    OPERATOR = "operator", _("operator")
    AUDITOR = "auditor", _("auditor")
    CONSUMER = "consumer", _("consumer")


class User(AbstractUser):
    tenant = models.ForeignKey(
        "tenants.Tenant",
        models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("organisation"),
        help_text=_("Empty only for platform superusers."),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    accounts = models.ManyToManyField(
        "accounts.Account",
        blank=True,
        related_name="consumer_users",
        verbose_name=_("personal accounts"),
        help_text=_("The accounts a consumer sees in the personal cabinet."),
    )

    tenant_path = "tenant"
    history = History(excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def is_consumer(self) -> bool:
        return self.role == Role.CONSUMER

    def clean(self) -> None:
        super().clean()
        if not self.is_superuser and self.tenant_id is None:
            raise ValidationError(
                {"tenant": _("Every user except a superuser needs an organisation.")}
            )
        if not self.is_superuser and not self.role:
            raise ValidationError({"role": _("Choose the user's role.")})
        if self.is_consumer and self.is_staff:
            raise ValidationError({"is_staff": _("A consumer cannot use the back-office.")})
