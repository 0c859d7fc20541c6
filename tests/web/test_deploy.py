"""The container deployment (Dockerfile, compose.yaml) holds together, checked without Docker.

- compose.yaml has the platform's services: PostgreSQL, Redis, migrations, web, MLLP listener, worker, scheduler
- every service built from this repository runs an `ecmo` subcommand that exists, with options its parser
  accepts (a renamed command or option fails here, not at 3 a.m. in a container)
- the web service runs the production server (gunicorn via `ecmo serve`), never Django's development server
- the Dockerfile's entry point and every file it copies exist in the repository, and the entry point hands its
  arguments to `ecmo`
- `/health/` answers "ok" without sign-in (GET only), for load balancers and container health checks
- services share the database and the broker through the environment, never an address baked into the image
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import get_commands, load_command_class

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
ECMO = [sys.executable, "-c", "from ecmo_web.cli import main; raise SystemExit(main())"]
OURS = {name: s for name, s in SERVICES.items() if s.get("build")}


def _dockerfile() -> list[tuple[str, str]]:
    lines = (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    return [
        (parts[0].upper(), parts[1] if len(parts) > 1 else "")
        for line in lines
        if line.strip() and not line.lstrip().startswith("#")
        for parts in [line.strip().split(None, 1)]
    ]


def test_it_has_every_service_of_the_platform() -> None:
    assert set(SERVICES) >= {"db", "redis", "migrate", "web", "mllp", "worker", "scheduler"}
    assert SERVICES["db"]["image"].startswith("postgres:")
    assert SERVICES["redis"]["image"].startswith("redis:")


@pytest.mark.parametrize("name", sorted(OURS))
def test_it_runs_an_ecmo_subcommand_that_exists_with_options_it_accepts(name: str) -> None:
    command = OURS[name]["command"]
    argv = command if isinstance(command, list) else shlex.split(command)
    subcommand = argv[0].replace("-", "_")
    commands = get_commands()
    assert subcommand in commands, f"{name}: `ecmo {argv[0]}` is not a command"
    parser = load_command_class(commands[subcommand], subcommand).create_parser("ecmo", subcommand)
    parser.parse_args(argv[1:])  # exits (SystemExit) on an unknown option


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_it_serves_pages_and_static_files_from_several_gunicorn_workers(tmp_path: Path) -> None:
    assert OURS["web"]["command"][0] == "serve"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ECMO_TEST_DB_SUFFIX"}}
    env["ECMO_VAR_DIR"] = str(tmp_path)
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [*ECMO, "serve", "--port", str(port), "--workers", "2"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        pages = {}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and server.poll() is None and len(pages) < 2:
            for path in ("/login/", "/static/vendor/uplot/uPlot.iife.min.js"):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
                        pages[path] = (response.status, response.headers.get("Server", ""))
                except OSError:
                    time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
    output = (tmp_path / "serve.log").read_text()
    assert pages == {
        "/login/": (200, "gunicorn"),
        "/static/vendor/uplot/uPlot.iife.min.js": (200, "gunicorn"),
    }, output
    assert output.count("Booting worker with pid") == 2, output
    assert f"http://127.0.0.1:{port}/ with 2 worker(s)" in output


def test_it_starts_every_service_through_an_entry_point_that_exists() -> None:
    instructions = _dockerfile()
    entrypoint = json.loads(next(arg for op, arg in instructions if op == "ENTRYPOINT"))
    copies = {
        dest: source
        for op, arg in instructions
        if op == "COPY"
        for *sources, dest in [arg.split()]
        for source in sources
    }
    assert copies[entrypoint[0]] == "docker/entrypoint.sh"
    script = ROOT / "docker/entrypoint.sh"
    assert script.stat().st_mode & 0o111, "the entry point must be executable"
    assert re.search(r'^exec ecmo "\$@"$', script.read_text(), re.MULTILINE)
    for op, arg in instructions:
        if op == "COPY":
            *sources, _dest = arg.split()
            for source in sources:
                assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"
    assert json.loads(next(arg for op, arg in instructions if op == "CMD"))[0] == "serve"


def test_it_shares_the_database_and_broker_through_the_environment() -> None:
    for name, service in OURS.items():
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@db:5432/" in env["DATABASE_URL"], name
        assert env["ECMO_BROKER_URL"].startswith("redis://redis:6379/"), name


def test_it_answers_the_health_check_without_sign_in(client: Any) -> None:
    response = client.get("/health/")
    assert response.status_code == 200 and response.content == b"ok\n"
    assert client.post("/health/").status_code == 405
