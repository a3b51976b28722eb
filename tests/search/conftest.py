import pytest

from tests.search import chdb_events, kql_factories


@pytest.fixture(params=["database", "clickhouse"])
def kql_vendor(request):
    """Runs a test on the Django database's dialect, then on ClickHouse (chDB)."""
    if request.param == "clickhouse":
        request.getfixturevalue("events_engine")  # emptied after the test, for the next
        chdb_events.reset()
        kql_factories.ENGINE["vendor"] = "clickhouse"
    yield request.param
    kql_factories.ENGINE["vendor"] = None
