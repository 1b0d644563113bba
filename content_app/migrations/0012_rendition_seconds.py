from typing import Any

from django.db import migrations, models


def backfill(apps: Any, schema_editor: Any) -> None:
    """Each packaged rendition's length, from the segments it already lists."""
    rendition_model = apps.get_model("content_app", "Rendition")
    packaged = rendition_model.objects.exclude(hls_segments=[]).only("id", "hls_segments")
    for rendition in packaged.iterator(chunk_size=500):
        rendition.seconds = sum(float(segment[0]) for segment in rendition.hls_segments or [])
        rendition.save(update_fields=["seconds"])


class Migration(migrations.Migration):
    dependencies = [
        ("content_app", "0011_source_upload_assembled"),
    ]

    operations = [
        migrations.AddField(
            model_name="rendition",
            name="seconds",
            field=models.FloatField(default=0.0),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
