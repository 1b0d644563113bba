"""Film.processing_source, processing_note and source_probe (issue 10)."""

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import F


def _mark_existing_sources_started(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Films saved before this field existed were processed (or are being): the reconciler
    # must not take every one of them for a lost save.
    film = apps.get_model("content_app", "Film")
    film.objects.exclude(source="").update(processing_source=F("source"))


class Migration(migrations.Migration):
    dependencies = [
        ("content_app", "0004_legal_and_viewer_fields"),
    ]

    operations = [
        migrations.AddField(
            model_name="film",
            name="processing_source",
            field=models.CharField(blank=True, editable=False, max_length=500),
        ),
        migrations.AddField(
            model_name="film",
            name="processing_note",
            field=models.CharField(blank=True, editable=False, max_length=300),
        ),
        migrations.AddField(
            model_name="film",
            name="source_probe",
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        migrations.RunPython(_mark_existing_sources_started, migrations.RunPython.noop),
    ]
