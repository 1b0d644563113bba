"""Accounts that are active without a confirmation time (made by staff, or before sign-up
confirmation existed) count as confirmed: an unconfirmed account is then only a sign-up
waiting for its link, and no link can re-activate an account staff deactivate later."""

from django.db import migrations
from django.db.models import F


def confirm_active_accounts(apps, schema_editor):  # type: ignore[no-untyped-def]
    User = apps.get_model("users_app", "User")
    User.objects.filter(is_active=True, email_confirmed_at__isnull=True).update(
        email_confirmed_at=F("date_joined")
    )


class Migration(migrations.Migration):
    dependencies = [("users_app", "0003_login_token")]

    operations = [migrations.RunPython(confirm_active_accounts, migrations.RunPython.noop)]
