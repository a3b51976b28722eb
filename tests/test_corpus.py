"""Tests marked `corpus` need the real samples: skipped without them, failed in CI."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLES

ROOT = Path(__file__).resolve().parents[1]
ONE = "tests/alerts/parse/test_samples.py::test_the_windows_host_row_carries_strong_ids"
WHERE = "set SOC_SAMPLES_DIR or lay shared/samples beside the repository; CI has it"


def run_one(samples, **env):
    """Run one corpus test in a fresh pytest, with the corpus at `samples`."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("CI", "DATABASE_URL", "CELERY_BROKER_URL")}
    clean.update(SOC_SAMPLES_DIR=str(samples), COLUMNS="400", **env)
    return subprocess.run([sys.executable, "-m", "pytest", "-rs", ONE], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=120)


def test_it_skips_a_corpus_test_saying_where_the_corpus_comes_from(tmp_path):
    result = run_one(tmp_path / "absent")
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert f"the real sample corpus is not at {tmp_path / 'absent'}: {WHERE}" in result.stdout


def test_it_fails_a_corpus_test_in_ci_when_the_corpus_is_absent(tmp_path):
    result = run_one(tmp_path / "absent", CI="true")
    assert result.returncode != 0
    assert "1 error" in result.stdout and "skipped" not in result.stdout
    assert "CI must run the corpus tests, but the real sample corpus is not at" in result.stdout


@pytest.mark.corpus
def test_it_reads_the_corpus_from_soc_samples_dir(tmp_path):
    result = run_one(SAMPLES, CI="true")
    assert result.returncode == 0, result.stdout
    assert "1 passed" in result.stdout
