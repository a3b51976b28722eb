"""The application's own PostgreSQL role: what the running console may do, and no more.

The migration role owns the tables (it runs `migrate`); the app role, which web, worker
and beat connect as, reads and writes rows. On the activity log it may only INSERT and
SELECT, and since it does not own the table it cannot disable the log's triggers either.
The database's events table (search_event, the events an install kept before they moved
to the events engine) is the exception: `migrate_events_to_clickhouse --drop-source`
drops its emptied daily partitions, which PostgreSQL allows only to the parent table's
owner."""

from django.db import connection, transaction

from inventory.subscriptions import InventoryError

APPEND_ONLY = "inventory_activity"
OWNED_AT_RUN_TIME = "search_event"


def grant_app_role(role: str, *, password: str | None = None) -> list[str]:
    """Create `role` if missing (LOGIN, with `password` if given) and grant it the rights
    the console needs on every table of the current schema. Idempotent: run it after every
    `migrate`, as the migration role, so that new tables are granted too. Returns what it
    did, one line each."""
    if connection.vendor != "postgresql":
        raise InventoryError("Database roles exist on PostgreSQL only.")
    name = connection.ops.quote_name(role)
    done = []
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT current_user, current_database(), current_schema()")
        me, database, schema = cur.fetchone()
        if role == me:
            raise InventoryError(f"{role} is the role running this command (the migration "
                                 "role); the app role must be another one.")
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cur.fetchone() is None:
            cur.execute(f"CREATE ROLE {name} LOGIN" + (" PASSWORD %s" if password else ""),
                        [password] if password else None)
            done.append(f"created role {role}")
        elif password:
            cur.execute(f"ALTER ROLE {name} LOGIN PASSWORD %s", [password])
            done.append(f"set the password of {role}")
        quoted_schema = connection.ops.quote_name(schema)
        for sql in (
            f"GRANT CONNECT ON DATABASE {connection.ops.quote_name(database)} TO {name}",
            # CREATE: the events table's partitions are made at run time.
            f"GRANT USAGE, CREATE ON SCHEMA {quoted_schema} TO {name}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {quoted_schema} "
            f"TO {name}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {quoted_schema} TO {name}",
            f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {APPEND_ONLY} "
            f"FROM {name}",
        ):
            cur.execute(sql)
        done.append(f"granted {role} rows of every table in {schema}; "
                    f"only INSERT and SELECT on {APPEND_ONLY}")
        cur.execute("SELECT tableowner FROM pg_tables WHERE tablename = %s", [APPEND_ONLY])
        owner = cur.fetchone()
        if owner and owner[0] == role:
            raise InventoryError(f"{role} owns {APPEND_ONLY}: it could disable the log's "
                                 f"triggers. Give the table to the migration role first "
                                 f"(ALTER TABLE {APPEND_ONLY} OWNER TO {me}).")
        cur.execute(
            "SELECT c.relname FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid "
            "LEFT JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE c.relkind IN ('r', 'p') AND c.relnamespace = "
            "(SELECT oid FROM pg_namespace WHERE nspname = current_schema()) "
            "AND (c.relname = %s OR p.relname = %s) AND pg_get_userbyid(c.relowner) <> %s",
            [OWNED_AT_RUN_TIME, OWNED_AT_RUN_TIME, role])
        for (table,) in cur.fetchall():
            cur.execute(f"ALTER TABLE {connection.ops.quote_name(table)} OWNER TO {name}")
            done.append(f"gave {table} to {role}")
    return done
