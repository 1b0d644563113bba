from django.apps import AppConfig


class ContentAppConfig(AppConfig):
    name = "content_app"
    verbose_name = "Content"

    def ready(self) -> None:
        from content_app import signals  # noqa: F401 - connects the receivers
