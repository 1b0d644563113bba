"""Production settings refuse to start on development defaults and pass `check --deploy`."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k3y-" + "x7Qp9v" * 10,
    "ALLOWED_HOSTS": "affea.example",
    "SITE_URL": "https://affea.example",
    "S3_ACCESS_KEY_ID": "prod-key",
    "S3_SECRET_ACCESS_KEY": "prod-secret",
    "DMCA_AGENT_NAME": "Affea Legal",
    "DMCA_AGENT_ADDRESS": "1 Main Street, Albany, NY 12207",
    "DMCA_AGENT_EMAIL": "dmca@affea.example",
    "DMCA_AGENT_PHONE": "+1 518 555 0100",
    "EMAIL_URL": "smtp+tls://mailer:secret@mail.affea.example:587",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The browser tests allow Django's ORM beside Playwright's event loop for this process
    # only (DJANGO_ALLOW_ASYNC_UNSAFE); a production process never inherits that.
    test_only = {"AFFEA_TESTING", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k not in test_only}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_check_deploy() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("variable", "bad_value"),
    [
        ("SECRET_KEY", None),
        ("SECRET_KEY", "django-insecure-local-development-key-change-me-0123456789abcdef"),
        ("SECRET_KEY", "short"),
        ("ALLOWED_HOSTS", None),
        ("SITE_URL", "http://affea.example"),
        ("S3_ACCESS_KEY_ID", None),
        ("S3_SECRET_ACCESS_KEY", None),
        ("DMCA_AGENT_NAME", None),
        ("DMCA_AGENT_ADDRESS", None),
        ("DMCA_AGENT_EMAIL", None),
        ("DMCA_AGENT_PHONE", None),
        ("EMAIL_URL", None),
    ],
)
def test_production_refuses_to_start_on_missing_or_insecure_value(
    variable: str, bad_value: str | None
) -> None:
    env = dict(PRODUCTION)
    if bad_value is None:
        del env[variable]
    else:
        env[variable] = bad_value

    result = manage("check", env=env)

    assert result.returncode != 0
    assert re.search(rf"ImproperlyConfigured: {variable}\b", result.stderr), result.stderr


@pytest.mark.parametrize(
    ("variable", "bad_value", "others"),
    [
        ("DB_CONN_MAX_AGE", "abc", {}),
        ("PLAYBACK_URL_TTL", "5m", {}),
        ("DATABASE_URL", "notaurl", {}),
        ("DATABASE_URL", "nosuchdb://host/name", {}),
        ("SPA_CLIENTS", "{bad", {}),
        ("SPA_CLIENTS", "[1]", {}),
        ("SPA_CLIENTS", '{"https://app.example": "/login"}', {}),
        ("SPA_CLIENTS", '{"https://app.example": {"login": "https://elsewhere.example/"}}', {}),
        ("LOG_LEVEL", "verbose", {}),
        # the end of the 14th business day is the law's limit, which a late run would pass
        ("DMCA_RESTORATION_BUSINESS_DAY", "14", {}),
        ("SENTRY_DSN", "notadsn", {}),
        # compose's internal address, which browsers on https pages cannot use
        ("S3_PUBLIC_ENDPOINT_URL", "", {"S3_ENDPOINT_URL": "http://s3:8333"}),
        ("S3_PUBLIC_ENDPOINT_URL", "http://media.affea.example", {}),
    ],
)
def test_a_malformed_value_stops_start_up_with_a_message_naming_it(
    variable: str, bad_value: str, others: dict[str, str]
) -> None:
    result = manage("check", env={**PRODUCTION, **others, variable: bad_value})

    assert result.returncode != 0
    assert re.search(rf"ImproperlyConfigured: {variable}\b", result.stderr), result.stderr[-2000:]


def test_spaces_after_commas_in_host_and_origin_lists_are_ignored() -> None:
    env = {
        **PRODUCTION,
        "ALLOWED_HOSTS": "affea.example, www.affea.example ,",
        "CSRF_TRUSTED_ORIGINS": "https://affea.example, https://www.affea.example",
        "CORS_ALLOWED_ORIGINS": "https://app.example, https://m.example",
    }
    code = (
        "from django.conf import settings as s; "
        "print(s.ALLOWED_HOSTS, s.CSRF_TRUSTED_ORIGINS, s.CORS_ALLOWED_ORIGINS, sep='|')"
    )
    result = manage("shell", "-v", "0", "-c", code, env=env)

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == (
        "['affea.example', 'www.affea.example']"
        "|['https://affea.example', 'https://www.affea.example']"
        "|['https://app.example', 'https://m.example']"
    )


def test_env_example_documents_every_variable_settings_read() -> None:
    settings_source = (ROOT / "affea" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', settings_source))
    documented = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M)
    )

    assert read - documented == set()


@pytest.mark.parametrize(
    ("url", "directory"),
    [
        ("filemail:///srv/affea/mail", Path("/srv/affea/mail")),
        ("filemail://var/outbox", ROOT / "var" / "outbox"),
        ("filemail://", None),  # var/mail of this checkout (or AFFEA_VAR_DIR)
    ],
)
def test_a_filemail_url_names_the_directory_mail_is_written_to(
    url: str, directory: Path | None
) -> None:
    from django.conf import settings

    from affea.settings import _email_file_path

    assert _email_file_path(url) == (directory or settings.VAR_DIR / "mail")


_SEND_MAIL = """
import django
django.setup()
from django.core.mail import send_mail
send_mail("Confirm your account", "Open the link.", None, ["viewer@example.com"])
"""


def test_email_url_filemail_writes_each_mail_to_a_file_there(tmp_path: Path) -> None:
    outbox = tmp_path / "mail"
    env = {
        **os.environ,
        "EMAIL_URL": f"filemail://{outbox}",
        "DJANGO_SETTINGS_MODULE": "affea.settings",
    }

    subprocess.run([sys.executable, "-c", _SEND_MAIL], cwd=ROOT, env=env, check=True, timeout=60)

    (written,) = outbox.iterdir()
    assert "Subject: Confirm your account" in written.read_text()
    assert "viewer@example.com" in written.read_text()


# Read then write in one transaction, as an admin save or a pipeline step does: the case
# where SQLite's default deferred transactions fail at once with "database is locked".
_WRITER = """
import sys, time
from pathlib import Path
import django
django.setup()
from datetime import timedelta
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

name, go = sys.argv[1], Path(sys.argv[2])
while not go.exists():
    time.sleep(0.01)
for i in range(50):
    with transaction.atomic():
        Session.objects.filter(session_key__startswith=name).count()
        time.sleep(0.002)  # the other process commits meanwhile
        Session.objects.create(
            session_key=f"{name}-{i:03d}", session_data="x",
            expire_date=timezone.now() + timedelta(days=1),
        )
"""


def test_two_processes_write_the_same_sqlite_file_at_once_without_locking_errors(
    tmp_path: Path,
) -> None:
    database = tmp_path / "affea.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SETTINGS_MODULE": "affea.settings",
    }
    migrate = manage("migrate", "sessions", "--noinput", env=env)
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    go = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, name, str(go)],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("web", "worker")
    ]
    go.touch()  # both have set Django up and wait for this: they write at the same time
    errors = [writer.communicate(timeout=120)[1] for writer in writers]

    assert [writer.returncode for writer in writers] == [0, 0], errors
    with sqlite3.connect(database) as check:
        assert check.execute("SELECT count(*) FROM django_session").fetchone() == (100,)
        assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)
