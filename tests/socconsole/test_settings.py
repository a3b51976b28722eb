"""Settings read strictly from the environment (socconsole/settings.py), each in a fresh
interpreter: a wrong value stops the start."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def settings_with(expression, **env):
    """(exit code, stdout, stderr) of printing `expression` of the settings under `env`."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("CORRELATION_SWEEP_SECONDS", "SITE_URL")}
    out = subprocess.run(
        [sys.executable, "-c", f"import json, socconsole.settings as s; print({expression})"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        env={**clean, "DEBUG": "true", **env})
    return out.returncode, out.stdout, out.stderr


@pytest.mark.parametrize("value", ["soc.example.com", "javascript:alert(1)",
                                   "https://soc.example.com/x y", "ftp://soc.example.com"])
def test_a_site_url_that_is_not_an_http_url_stops_the_start(value):
    code, _, err = settings_with("s.SITE_URL", SITE_URL=value)
    assert code != 0 and "SITE_URL must be an http(s) URL" in err


def test_the_site_url_loses_its_trailing_slash():
    code, out, err = settings_with("s.SITE_URL", SITE_URL="https://soc.example.com/console/")
    assert code == 0, err
    assert out.strip() == "https://soc.example.com/console"


SWEEP = "json.dumps(s.CELERY_BEAT_SCHEDULE['correlate-alerts']['schedule'])"


def test_it_sweeps_for_alerts_awaiting_correlation_every_minute_by_default():
    assert settings_with(SWEEP)[:2] == (0, "60\n")


def test_it_sweeps_as_often_as_correlation_sweep_seconds_says():
    code, out, _ = settings_with(SWEEP, CORRELATION_SWEEP_SECONDS="3")
    assert (code, json.loads(out)) == (0, 3)


def test_it_refuses_a_sweep_interval_below_a_second():
    code, _, err = settings_with(SWEEP, CORRELATION_SWEEP_SECONDS="0")
    assert code != 0 and "CORRELATION_SWEEP_SECONDS must be at least 1" in err


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


def test_an_events_cluster_needs_a_clickhouse_server():
    code, _, err = settings_with("s.EVENTS_CLUSTER", EVENTS_CLUSTER="soc",
                                 EVENTS_URL="chdb:///tmp/events")
    assert code != 0 and "EVENTS_CLUSTER needs a ClickHouse server" in err

    code, out, err = settings_with("s.EVENTS_CLUSTER", EVENTS_CLUSTER="soc",
                                   EVENTS_URL="clickhouse://u:p@clickhouse-s1:8123/soc_events")
    assert code == 0, err
    assert out.strip() == "soc"


def test_an_events_cluster_is_a_name():
    code, _, err = settings_with("s.EVENTS_CLUSTER", EVENTS_CLUSTER="soc; DROP",
                                 EVENTS_URL="clickhouse://u:p@clickhouse:8123/soc_events")
    assert code != 0 and "EVENTS_CLUSTER must be a cluster's name" in err
