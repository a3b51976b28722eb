"""The Kusto (KQL) query language, compiled to one parameterised SQL statement.

    compiled = compile_query(text, catalog=Catalog(ids), workspace_ids=ids,
                             vendor=connection.vendor)
    cursor.execute(compiled.sql, compiled.params)
    rows = [compiled.convert_row(row) for row in cursor.fetchall()]

The grammar (grammar.py) is parsed by lark into a tree, turned into plain objects
(ast.py), then compiled stage by stage (tabular.py, relation.py) with scalar
expressions (expressions.py, functions.py, aggregates.py) written for PostgreSQL or
SQLite (dialect.py).
"""

from .compiler import Compiled, compile_query, parse
from .errors import KqlError

__all__ = ["Compiled", "KqlError", "compile_query", "parse"]
