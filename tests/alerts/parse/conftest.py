import json

import pytest

from tests.conftest import FIXTURES


@pytest.fixture(scope="session")
def arm_alerts():
    return json.loads((FIXTURES / "defender-arm-list.json").read_text(encoding="utf-8"))["value"]


@pytest.fixture(scope="session")
def sentinel_body():
    return (FIXTURES / "sentinel-securityalert.jsonl").read_bytes()


@pytest.fixture(scope="session")
def export_alert():
    return json.loads((FIXTURES / "defender-export-alert.json").read_text(encoding="utf-8"))


@pytest.fixture
def make_native():
    def make(entities=None, **fields):
        alert = {"id": "a-1", "display_name": "Test alert", "severity": "High"}
        if entities is not None:
            alert["entities"] = entities
        alert.update(fields)
        return alert
    return make
