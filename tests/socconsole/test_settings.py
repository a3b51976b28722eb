"""Settings read from the environment (socconsole/settings.py), in a fresh interpreter."""

import json
import os
import subprocess
import sys

from django.conf import settings


def settings_with(**env):
    script = ("import json, socconsole.settings as s; print(json.dumps("
              "s.CELERY_BEAT_SCHEDULE['correlate-alerts']['schedule']))")
    clean = {k: v for k, v in os.environ.items() if k != "CORRELATION_SWEEP_SECONDS"}
    out = subprocess.run([sys.executable, "-c", script], env={**clean, "DEBUG": "true", **env},
                         cwd=settings.BASE_DIR, capture_output=True, text=True, check=False)
    return out.returncode, out.stdout, out.stderr


def test_it_sweeps_for_alerts_awaiting_correlation_every_minute_by_default():
    assert settings_with()[:2] == (0, "60\n")


def test_it_sweeps_as_often_as_correlation_sweep_seconds_says():
    code, out, _ = settings_with(CORRELATION_SWEEP_SECONDS="3")
    assert (code, json.loads(out)) == (0, 3)


def test_it_refuses_a_sweep_interval_below_a_second():
    code, _, err = settings_with(CORRELATION_SWEEP_SECONDS="0")
    assert code != 0 and "CORRELATION_SWEEP_SECONDS must be at least 1" in err
