from django.apps import AppConfig


class ContentAppConfig(AppConfig):
    name = "content_app"
    verbose_name = "Content"
