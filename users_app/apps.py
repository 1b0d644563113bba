from django.apps import AppConfig


class UsersAppConfig(AppConfig):
    name = "users_app"
    verbose_name = "Users"

    def ready(self) -> None:
        # Registers the OpenAPI extensions of the authentication classes.
        from users_app import schema  # noqa: F401
