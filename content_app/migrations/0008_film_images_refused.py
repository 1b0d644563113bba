from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("content_app", "0007_film_live_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="film",
            name="images_refused",
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
    ]
