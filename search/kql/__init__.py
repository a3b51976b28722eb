"""The Kusto (KQL) query language, compiled to one parameterised ClickHouse statement.

    compiled = compile_query(text, catalog=Catalog(ids), workspace_ids=ids)
    result = engine.query(compiled.sql, compiled.params, tenant=tenant)
    rows = [compiled.convert_row(row) for row in result.rows]

The grammar (grammar.py) is parsed by lark into a tree, turned into plain objects
(ast.py), then compiled stage by stage (tabular.py, relation.py) with scalar
expressions (expressions.py, functions.py, aggregates.py) written in ClickHouse's SQL
(clickhouse.py); constants are folded in Python (folding.py).
"""

from .compiler import Compiled, compile_query, parse
from .errors import KqlError

__all__ = ["Compiled", "KqlError", "compile_query", "parse"]
