"""chDB in a child process, for tests that need a data path or a config of their own."""

import json
import os
import subprocess
import sys

# Runs in a child process: chDB lets a process hold one data path at a time, and the
# engine's own tests may hold one in this process.
CHILD = r"""
import json, sys
import chdb
from chdb import session

job = json.load(sys.stdin)
if job["config"]:
    conn = chdb.connect(f":memory:?config-file={job['config']}")
    cursor = conn.cursor()
    def run(sql):
        cursor.execute(sql)
        return [list(row) for row in cursor.fetchall()]
else:
    sess = session.Session(job["path"])
    def run(sql):
        text = sess.query(sql, "JSONCompact").bytes().decode()
        return json.loads(text)["data"] if text.strip() else []
for statement in job["statements"]:
    run(statement)
print(json.dumps({name: run(sql) for name, sql in job["queries"].items()}, default=str))
"""


def in_chdb(statements, queries, *, path=None, config=None, env=None):
    """Runs `statements`, then returns {name: rows} of `queries`.

    On a chDB session at `path`, or in memory with the server config file `config`
    (which chDB reads as a server does, config.d and users_config included).
    """
    job = {"statements": statements, "queries": queries, "path": str(path or ""),
           "config": str(config or "")}
    done = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps(job),
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
