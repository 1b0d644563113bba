from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def live_where_playable(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Films already playable keep their current version on air."""
    Film = apps.get_model("content_app", "Film")
    Rendition = apps.get_model("content_app", "Rendition")
    playable = Rendition.objects.filter(
        film=models.OuterRef("pk"),
        source_version=models.OuterRef("source_version"),
        status="ready",
    ).exclude(media_key="")
    Film.objects.filter(models.Exists(playable)).update(live_version=models.F("source_version"))


class Migration(migrations.Migration):
    dependencies = [
        ("content_app", "0006_rendition_playable_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="film",
            name="live_version",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="film",
            name="images_pending",
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        migrations.RemoveConstraint(model_name="rendition", name="rendition_one_per_quality"),
        migrations.AddConstraint(
            model_name="rendition",
            constraint=models.UniqueConstraint(
                fields=("film", "source_version", "quality"), name="rendition_one_per_quality"
            ),
        ),
        migrations.RemoveIndex(model_name="rendition", name="rendition_playable"),
        migrations.AddIndex(
            model_name="rendition",
            index=models.Index(
                condition=models.Q(("status", "ready"), models.Q(("media_key", ""), _negated=True)),
                fields=["film", "source_version"],
                name="rendition_playable",
            ),
        ),
        migrations.RunPython(live_where_playable, migrations.RunPython.noop),
    ]
