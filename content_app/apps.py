from django.apps import AppConfig


class ContentAppConfig(AppConfig):
    name = "content_app"
    verbose_name = "Content"

    def ready(self) -> None:
        from content_app import signals  # noqa: F401 - connects the receivers
        from content_app.selectors import favorite_ids
        from users_app.models import User
        from users_app.profile import register_profile_field

        def favorite_videos(user: User) -> list[int]:
            return favorite_ids(user=user)

        # users_app must not import content_app, so content adds its field to the profile.
        register_profile_field("favorite_videos", favorite_videos)
