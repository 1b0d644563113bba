"""Dockerfile, docker-compose.yml and entrypoint.sh agree, and the entrypoint's steps run.

No Docker engine runs here, so the compose file is parsed and cross-checked against the
Dockerfile, entrypoint.sh, gunicorn.conf.py and nginx.conf, and entrypoint.sh itself is
run outside a container with production settings against the test database.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from affea.localdev import free_port, port_open, stop_process

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("web", "worker", "scheduler", "cron")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def entrypoint_roles() -> set[str]:
    script = (ROOT / "entrypoint.sh").read_text()
    first_case = re.search(r"^\s*([\w |]+)\)\s*;;", script, re.M)
    assert first_case, "entrypoint.sh no longer lists its roles in a case"
    return {role.strip() for role in first_case.group(1).split("|")}


def test_compose_has_every_service_with_a_healthcheck(compose: dict[str, Any]) -> None:
    services = compose["services"]

    monitoring = {"prometheus", "grafana"}  # behind the "monitoring" profile
    assert set(services) == {*APP_SERVICES, "postgres", "redis", "s3", "nginx", *monitoring}
    assert all(services[name]["profiles"] == ["monitoring"] for name in monitoring)
    for name, service in services.items():
        assert "test" in service.get("healthcheck", {}), f"{name} has no healthcheck"


def test_compose_volumes_are_named_or_repository_files(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in declared, f"{name} uses undeclared volume {source}"
    assert {"pgdata", "redisdata", "s3data", "static"} <= declared


def test_app_services_use_the_image_and_a_role_the_entrypoint_knows(
    compose: dict[str, Any], dockerfile: str
) -> None:
    roles = entrypoint_roles()
    for name in APP_SERVICES:
        service = compose["services"][name]
        assert service["build"] == "."
        assert service["command"][0] in roles
    assert roles == set(APP_SERVICES)
    assert 'ENTRYPOINT ["/app/entrypoint.sh"]' in dockerfile
    assert 'CMD ["web"]' in dockerfile


def test_workers_can_be_scaled(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]

    # A fixed name or a published port would make `--scale worker=4` fail.
    assert "container_name" not in worker
    assert "ports" not in worker


def test_ports_agree_between_nginx_gunicorn_and_compose(
    compose: dict[str, Any], dockerfile: str
) -> None:
    nginx_conf = (ROOT / "nginx" / "nginx.conf").read_text()
    upstream = re.search(r"server (\w+):(\d+);", nginx_conf)
    assert upstream
    host, port = upstream.groups()

    assert host == "web"
    assert f"EXPOSE {port}" in dockerfile
    assert compose["services"]["web"]["environment"]["WEB_BIND"] == f"0.0.0.0:{port}"
    assert port in compose["services"]["web"]["expose"]
    assert compose["services"]["nginx"]["ports"] == ["80:80"]
    assert re.search(r"listen 80\b", nginx_conf)


def test_nginx_serves_the_static_volume_web_collects_into(
    compose: dict[str, Any], dockerfile: str
) -> None:
    static_root = re.search(r"STATIC_ROOT=(\S+)", dockerfile)
    assert static_root
    nginx_conf = (ROOT / "nginx" / "nginx.conf").read_text()

    assert f"alias {static_root.group(1)}/;" in nginx_conf
    assert f"static:{static_root.group(1)}" in compose["services"]["web"]["volumes"]
    assert f"static:{static_root.group(1)}:ro" in compose["services"]["nginx"]["volumes"]
    assert "./nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in compose["services"]["nginx"]["volumes"]


def test_dockerfile_is_slim_non_root_with_ffmpeg_and_collected_static(dockerfile: str) -> None:
    assert re.search(r"^FROM python:3\.1[1-9]-slim", dockerfile, re.M)
    assert re.search(r"apt-get install .*\bffmpeg\b", dockerfile)
    assert "pip install -r requirements.txt" in dockerfile
    assert "collectstatic --noinput" in dockerfile
    bundles = "COPY --from=assets --chown=affea:affea /build/static/vendor/ static/vendor/"
    assert bundles in dockerfile
    user = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert user
    assert user[-1] not in ("root", "0")


def test_the_images_collectstatic_step_runs_with_the_env_its_run_line_gives(
    dockerfile: str, tmp_path: Path
) -> None:
    # `docker build` ran it with no DMCA agent, which DEBUG=0 refuses: the build failed.
    run = re.search(r"^RUN (DEBUG=0 .*?collectstatic[^\\\n]*)", dockerfile, re.M | re.S)
    assert run, "the Dockerfile no longer collects static files with DEBUG=0"
    words = run.group(1).replace("\\\n", " ").split()
    env = dict(word.split("=", 1) for word in words if re.fullmatch(r"[A-Z_0-9]+=\S*", word))
    command = [word for word in words if "=" not in word]
    image_env = dict(re.findall(r"^\s*(?:ENV )?([A-Z_]+)=(\S+?)\s*\\?$", dockerfile, re.M))
    image_env["STATIC_ROOT"] = str(tmp_path / "static")
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AFFEA_ENV_FILE": ""}

    done = subprocess.run(
        [sys.executable, *command[1:]],
        cwd=ROOT, env={**base, **image_env, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "static" / "vendor" / "player" / "media.js").is_file()


def test_the_image_has_the_pg_dump_of_the_compose_database(
    dockerfile: str, compose: dict[str, Any]
) -> None:
    # pg_dump refuses a server of a newer major version: `manage.py backup` needs its own.
    major = re.match(r"postgres:(\d+)", compose["services"]["postgres"]["image"])
    assert major
    assert f"postgresql-client-{major.group(1)}" in dockerfile


def _assets_stage(dockerfile: str) -> list[str]:
    stage = re.search(r"^FROM node\S* AS assets$(.*?)^FROM ", dockerfile, re.M | re.S)
    assert stage, "the Dockerfile has no assets stage"
    return [line for line in stage.group(1).splitlines() if line and not line.startswith("#")]


def test_the_image_bundles_every_browser_file_the_pages_load(
    dockerfile: str, tmp_path: Path
) -> None:
    """Run the assets stage's steps in a bare directory holding only what the stage copies
    in, with this checkout's node_modules standing in for its `npm ci` of the same lock."""
    stage = _assets_stage(dockerfile)
    assert "RUN npm ci --no-audit --no-fund --loglevel=error" in stage
    assert stage[-1] == "RUN scripts/build-assets.sh"
    for line in stage:
        if line.startswith("COPY "):
            *sources, destination = line.split()[1:]
            target = tmp_path / destination
            for source in sources:
                path = target / Path(source).name if destination.endswith("/") else target
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes((ROOT / source).read_bytes())
                path.chmod((ROOT / source).stat().st_mode)
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    subprocess.run(["scripts/build-assets.sh"], cwd=tmp_path, check=True, timeout=120)

    loaded = set()
    for page in [*ROOT.glob("templates/**/*.html"), *ROOT.glob("*_app/**/*.py")]:
        loaded.update(re.findall(r"['\"]vendor/([\w./-]+\.(?:js|css))['\"]", page.read_text()))
    assert {"player/media.js", "uploader/uploader.js", "uploader/uploader.css"} <= loaded
    for name in loaded:
        assert (tmp_path / "static/vendor" / name).stat().st_size > 1000, name


def test_app_services_wait_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    services = {"postgres": "service_healthy", "redis": "service_healthy", "s3": "service_healthy"}
    for name in APP_SERVICES:
        depends = compose["services"][name]["depends_on"]
        # Jobs wait for web, which is healthy once it has migrated the database.
        expected = services if name == "web" else {**services, "web": "service_healthy"}
        assert {dep: cond["condition"] for dep, cond in depends.items()} == expected, name


def test_stopping_leaves_web_and_workers_time_to_finish(compose: dict[str, Any]) -> None:
    # Docker's default is 10 s; gunicorn's graceful_timeout and a running step need more.
    gunicorn = (ROOT / "gunicorn.conf.py").read_text()
    graceful = re.search(r"^graceful_timeout = (\d+)", gunicorn, re.M)
    assert graceful
    assert int(compose["services"]["web"]["stop_grace_period"].removesuffix("s")) > int(graceful[1])
    for name in ("worker", "scheduler"):
        assert compose["services"][name]["stop_grace_period"] == "2m"


PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "entrypoint-test-" + "Zq8rT2" * 10,
    "ALLOWED_HOSTS": "affea.example,127.0.0.1",
    "SITE_URL": "https://affea.example",
    "DJANGO_SUPERUSER_EMAIL": "root@affea.example",
    "DJANGO_SUPERUSER_PASSWORD": "a-Long-admin-passphrase-42",
    "DMCA_AGENT_NAME": "Affea Legal",
    "DMCA_AGENT_ADDRESS": "1 Main Street, Albany, NY 12207",
    "DMCA_AGENT_EMAIL": "dmca@affea.example",
    "DMCA_AGENT_PHONE": "+1 518 555 0100",
    "EMAIL_URL": "consolemail://",
}


@pytest.mark.django_db(transaction=True)
def test_entrypoint_prepares_and_execs_gunicorn(
    subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **subprocess_env,
        **PRODUCTION_ENV,
        "STATIC_ROOT": str(tmp_path / "static"),
        "WEB_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
    }
    env.pop("AFFEA_TESTING", None)
    log = tmp_path / "entrypoint.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["./entrypoint.sh", "web"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        for _ in range(600):
            if port_open("127.0.0.1", port) or process.poll() is not None:
                break
            time.sleep(0.1)
        assert process.poll() is None, log.read_text()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/health/")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
        # As nginx forwards an HTTPS request; whatever the page answers, only the
        # access log line matters here.
        link = urllib.request.Request(
            f"http://127.0.0.1:{port}/accounts/confirm/MQ/secret-tok/",
            headers={"X-Forwarded-Proto": "https", "Host": "affea.example"},
        )
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(link, timeout=30).close()
    finally:
        stop_process(process)

    output = log.read_text()
    assert "Database is up." in output
    assert "Superuser root@affea.example created." in output
    assert "/accounts/confirm/[redacted]" in output
    assert "secret-tok" not in output
    # collectstatic ran with the production (manifest) storage.
    assert (tmp_path / "static" / "staticfiles.json").exists()
    from users_app.models import User

    assert User.objects.get(email="root@affea.example").is_superuser


@pytest.mark.django_db(transaction=True)
def test_entrypoint_runs_any_other_command_as_given(subprocess_env: dict[str, str]) -> None:
    result = subprocess.run(
        ["./entrypoint.sh", "python", "-c", "print('passed through')"],
        cwd=ROOT,
        env=subprocess_env,
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == "passed through"


def _compose_value(value: str, given: dict[str, str]) -> str:
    """Compose's interpolation of one value: ${X}, ${X:?message}, ${X:-default}, ${X-default}."""

    def one(match: re.Match[str]) -> str:
        name, operator, rest = match.group(1), match.group(2) or "", match.group(3) or ""
        if operator == ":?":
            assert given.get(name), f"compose requires {name}: {rest}"
            return given[name]
        if operator == ":-":
            return given.get(name) or rest
        if operator == "-":
            return given.get(name, rest)
        return given.get(name, "")

    return re.sub(r"\$\{([A-Z_0-9]+)(:\?|:-|-)?([^}]*)\}", one, value)


def test_the_env_example_copied_as_the_readme_says_passes_the_deploy_check(
    compose: dict[str, Any], dockerfile: str, tmp_path: Path
) -> None:
    # `cp .env.example .env`, then the values the README says to set: what compose gives web.
    filled = {
        "SECRET_KEY": "k3y-" + "0123456789abcdefghijklmnopqrstuvwxyz" * 2, "SITE_URL": "https://affea.example",
        "ALLOWED_HOSTS": "affea.example", "S3_ACCESS_KEY_ID": "key",
        "S3_SECRET_ACCESS_KEY": "secret", "EMAIL_URL": "smtp://mail.affea.example:587",
        "DMCA_AGENT_NAME": "Affea Legal", "DMCA_AGENT_ADDRESS": "1 Main St, Springfield",
        "DMCA_AGENT_EMAIL": "dmca@affea.example", "DMCA_AGENT_PHONE": "+1 555 0100",
        "S3_PUBLIC_ENDPOINT_URL": "https://media.affea.example",
    }  # fmt: skip
    env_file = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            env_file[name] = filled.get(name, value)
    env_file.update({k: v for k, v in filled.items() if k not in env_file})
    image_env = dict(re.findall(r"^\s*(?:ENV )?([A-Z_]+)=(\S+?)\s*\\?$", dockerfile, re.M))
    web = compose["services"]["web"]["environment"]
    environment = {name: _compose_value(str(value), env_file) for name, value in web.items()}
    env = {**image_env, **env_file, **environment, "STATIC_ROOT": str(tmp_path)}
    env.update({"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AFFEA_ENV_FILE": ""})

    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    # An empty `NAME=` in the example used to reach settings as a value: int(""), json(""),
    # the JWT cookies' Secure flag off, no HTTPS redirect.
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]
