from django.apps import AppConfig


class AffeaConfig(AppConfig):
    """The project package as an app, so it can hold operations commands."""

    name = "affea"
    verbose_name = "Affea"
