import json

import pytest

from tests.conftest import SAMPLES  # noqa: E402


@pytest.fixture(scope="session")
def arm_alerts():
    doc = json.loads((SAMPLES / "defender-arm-alerts.json").read_text(encoding="utf-8"))
    return doc["responses"]["200"]["body"]["value"]


@pytest.fixture(scope="session")
def sentinel_body():
    return (SAMPLES / "sentinel-securityalert.jsonl").read_bytes()


@pytest.fixture
def make_native():
    def make(entities=None, **fields):
        alert = {"id": "a-1", "display_name": "Test alert", "severity": "High"}
        if entities is not None:
            alert["entities"] = entities
        alert.update(fields)
        return alert
    return make
