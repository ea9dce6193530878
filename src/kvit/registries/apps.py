from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistriesConfig(AppConfig):
    name = "kvit.registries"
    verbose_name = _("Payment registries")

    def ready(self) -> None:
        from kvit.payments.signals import payment_transferred
        from kvit.registries.readings import held_readings_follow

        payment_transferred.connect(held_readings_follow, dispatch_uid="registries.readings")
