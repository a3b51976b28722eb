"""The column catalog: which tables a workspace has and the Kusto type of each column."""

from .models import EventDay, TableColumn
from .schema import DOCUMENTED_COLUMNS, seeded_columns


class Catalog:
    """Tables and columns of a set of workspaces, loaded once per query."""

    def __init__(self, workspace_ids):
        self.workspace_ids = list(workspace_ids)
        self._columns = {}

    def tables(self):
        seen = set(EventDay.objects.filter(workspace_id__in=self.workspace_ids)
                   .values_list("table_name", flat=True).distinct())
        seen |= set(TableColumn.objects.filter(workspace_id__in=self.workspace_ids)
                    .values_list("table_name", flat=True).distinct())
        return sorted(seen | set(DOCUMENTED_COLUMNS))

    def columns(self, table):
        """{column: Kusto type} for `table`, or None when the workspace has no such table."""
        if table not in self._columns:
            self._columns[table] = self._load(table)
        return self._columns[table]

    def _load(self, table):
        extra = dict(TableColumn.objects.filter(workspace_id__in=self.workspace_ids,
                                                table_name=table)
                     .order_by("first_seen").values_list("name", "kusto_type"))
        if not extra and table not in DOCUMENTED_COLUMNS and not EventDay.objects.filter(
                workspace_id__in=self.workspace_ids, table_name=table).exists():
            return None
        columns = seeded_columns(table)
        for name, kind in extra.items():
            columns.setdefault(name, kind)
        return columns
