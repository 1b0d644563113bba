"""Full-text search index over title, description and credits, on PostgreSQL only.

SQLite (the quick local run) has no tsvector: there the operation does nothing and
search falls back to icontains. The expression matches `selectors.search_vector()`
exactly, so the planner can use the index.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

INDEX_NAME = "film_search_gin"


def _index() -> GinIndex:
    return GinIndex(
        SearchVector("title", "description", "credits", config="english"), name=INDEX_NAME
    )


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("content_app", "Film"), _index())


def remove_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("content_app", "Film"), _index())


class Migration(migrations.Migration):
    dependencies = [("content_app", "0001_initial")]

    operations = [migrations.RunPython(add_index, remove_index, elidable=False)]
