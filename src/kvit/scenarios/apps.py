from django.apps import AppConfig


class ScenariosConfig(AppConfig):
    """Only the `scenario` management command: no models."""

    name = "kvit.scenarios"
    label = "scenarios"
    verbose_name = "Scenarios"
