"""A database trigger that refuses UPDATE and DELETE on the legal record, whoever asks.

TRUNCATE is left alone: it is how a test database is emptied between tests.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TABLE = "legal_app_legalevent"

POSTGRES_UP = f"""
CREATE FUNCTION legal_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the legal record is append-only: % refused', TG_OP;
END $$;
CREATE TRIGGER legal_event_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION legal_event_append_only();
"""
POSTGRES_DOWN = f"""
DROP TRIGGER IF EXISTS legal_event_append_only ON {TABLE};
DROP FUNCTION IF EXISTS legal_event_append_only();
"""
SQLITE_UP = [
    f"""CREATE TRIGGER legal_event_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'the legal record is append-only: UPDATE refused'); END;""",
    f"""CREATE TRIGGER legal_event_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'the legal record is append-only: DELETE refused'); END;""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS legal_event_no_update;",
    "DROP TRIGGER IF EXISTS legal_event_no_delete;",
]


def _run(schema_editor: BaseDatabaseSchemaEditor, postgres: str, sqlite: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(postgres, params=None)
    elif vendor == "sqlite":
        for statement in sqlite:
            schema_editor.execute(statement, params=None)
    else:
        raise RuntimeError(f"No append-only trigger for the {vendor} database.")


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, POSTGRES_UP, SQLITE_UP)


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, POSTGRES_DOWN, SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("legal_app", "0001_record")]

    operations = [migrations.RunPython(forwards, backwards)]
