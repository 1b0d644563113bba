"""Operations commands used by entrypoint.sh and the compose health checks."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from affea.localdev import free_port, stop_process
from users_app.models import User

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.django_db
def test_ensure_superuser_creates_the_account_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Boss@Affea.example")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-Long-admin-passphrase-42")

    call_command("ensure_superuser")
    call_command("ensure_superuser")

    boss = User.objects.get()
    assert boss.email == "boss@affea.example"
    assert boss.is_superuser
    assert boss.is_staff
    assert boss.check_password("a-Long-admin-passphrase-42")


@pytest.mark.django_db
def test_ensure_superuser_refuses_a_weak_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "boss@affea.example")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "123")

    with pytest.raises(CommandError, match="DJANGO_SUPERUSER_PASSWORD"):
        call_command("ensure_superuser")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_ensure_superuser_does_nothing_without_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DJANGO_SUPERUSER_EMAIL", raising=False)
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)

    call_command("ensure_superuser")

    assert not User.objects.exists()


@pytest.mark.django_db
def test_wait_for_db_gives_up_with_a_clear_error(subprocess_env: dict[str, str]) -> None:
    env = {**subprocess_env, "DATABASE_URL": f"postgres://affea@127.0.0.1:{free_port()}/affea"}

    result = run_manage("wait_for_db", "--timeout", "1", env=env)

    assert result.returncode == 1
    assert "Database not reachable after 1s." in result.stderr


@pytest.mark.django_db(transaction=True)
def test_check_worker_passes_only_while_a_worker_runs_on_this_host(
    subprocess_env: dict[str, str],
) -> None:
    assert run_manage("check_worker", env=subprocess_env).returncode == 1

    worker = subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", "default"],
        cwd=ROOT,
        env=subprocess_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        result = run_manage("check_worker", env=subprocess_env)
        while result.returncode != 0 and time.monotonic() < deadline:
            time.sleep(0.5)
            result = run_manage("check_worker", env=subprocess_env)
        assert result.returncode == 0, result.stderr
        assert "is alive" in result.stdout
    finally:
        stop_process(worker)


@pytest.mark.django_db(transaction=True)
def test_migrations_wait_for_a_replica_already_migrating(subprocess_env: dict[str, str]) -> None:
    from django.db import connection

    from affea.management.commands.migrate_locked import MIGRATION_LOCK

    # This test's connection plays the replica migrating first: it holds the lock.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
    second = subprocess.Popen(
        [sys.executable, "manage.py", "migrate_locked"],
        cwd=ROOT,
        env=subprocess_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        time.sleep(3)  # time enough to start, connect and reach the lock
        assert second.poll() is None, second.communicate()[0]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])
    output, _ = second.communicate(timeout=120)
    assert second.returncode == 0, output
    assert "Waiting for the migration lock..." in output
    assert "No migrations to apply." in output
