"""Settings read strictly from the environment: a wrong value stops the start."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def settings_with(**env):
    return subprocess.run(
        [sys.executable, "-c", "import socconsole.settings as s; print(s.SITE_URL)"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "DEBUG": "true", **env})


@pytest.mark.parametrize("value", ["soc.example.com", "javascript:alert(1)",
                                   "https://soc.example.com/x y", "ftp://soc.example.com"])
def test_a_site_url_that_is_not_an_http_url_stops_the_start(value):
    result = settings_with(SITE_URL=value)
    assert result.returncode != 0 and "SITE_URL must be an http(s) URL" in result.stderr


def test_the_site_url_loses_its_trailing_slash():
    result = settings_with(SITE_URL="https://soc.example.com/console/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "https://soc.example.com/console"


def make_run_commands(*args, **env):
    environ = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "PORT", "HOST")}
    result = subprocess.run(["make", "-n", "run", *args], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env={**environ, **env})
    assert result.returncode == 0, result.stderr
    return next(line for line in result.stdout.splitlines() if "runserver" in line)


def test_make_run_on_another_port_links_its_emails_to_that_port():
    assert "SITE_URL=http://127.0.0.1:8001 " in make_run_commands("PORT=8001")
    assert "SITE_URL=http://127.0.0.1:8000 " in make_run_commands()
    assert "SITE_URL=https://soc.example.com " in make_run_commands(
        "PORT=8001", SITE_URL="https://soc.example.com")
