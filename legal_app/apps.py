from django.apps import AppConfig


class LegalAppConfig(AppConfig):
    name = "legal_app"
    verbose_name = "Legal"
