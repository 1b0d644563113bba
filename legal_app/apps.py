from django.apps import AppConfig


class LegalAppConfig(AppConfig):
    name = "legal_app"
    verbose_name = "Legal"

    def ready(self) -> None:
        from legal_app.terms.receivers import on_user_registered
        from legal_app.terms.selectors import terms_accepted, terms_version_current
        from users_app.profile import register_profile_field
        from users_app.signals import user_registered

        user_registered.connect(on_user_registered, dispatch_uid="legal_app.terms_accept")
        register_profile_field("terms_version", lambda user: terms_version_current())
        register_profile_field("terms_accepted", lambda user: terms_accepted(user=user))
