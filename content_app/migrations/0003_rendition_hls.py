"""What HLS playlists need of a rendition, stored when the worker makes it.

Rows made before this migration have none of it: they stay playable through video-url
and are left out of HLS master playlists until the film is reprocessed.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("content_app", "0002_film_search_gin"),
    ]

    operations = [
        migrations.AddField(
            model_name="rendition",
            name="hls_average_bandwidth",
            field=models.PositiveIntegerField(
                blank=True, help_text="Average segment bit rate, bits per second.", null=True
            ),
        ),
        migrations.AddField(
            model_name="rendition",
            name="hls_bandwidth",
            field=models.PositiveIntegerField(
                blank=True, help_text="Peak segment bit rate, bits per second.", null=True
            ),
        ),
        migrations.AddField(
            model_name="rendition",
            name="hls_codecs",
            field=models.CharField(blank=True, help_text="RFC 6381 CODECS.", max_length=100),
        ),
        migrations.AddField(
            model_name="rendition",
            name="hls_init_length",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="rendition",
            name="hls_init_offset",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="rendition",
            name="hls_segments",
            field=models.JSONField(
                blank=True, default=list, help_text="[duration s, length, offset] of each segment."
            ),
        ),
    ]
