"""SQL functions that compiled Kusto queries call on PostgreSQL.

None of them raises on a bad value: a field that does not read as a number, a bool
or a datetime is NULL, as in Kusto, so that one odd event cannot fail a search
("invalid input syntax"). The SQL-language ones are inlined by the planner. Their
SQLite twins are Python functions in search/kql/sqlite.py.
"""

from django.db import migrations

REAL = r"'^\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]{1,3})?\s*$'"

FORWARD = rf"""
CREATE OR REPLACE FUNCTION kql_toreal(v text) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN v ~ {REAL} THEN
    CASE WHEN v::numeric = 0 OR abs(v::numeric) BETWEEN 1e-300 AND 1e300
         THEN v::numeric::double precision END
  END
$$;

CREATE OR REPLACE FUNCTION kql_tolong(v text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN v ~ {REAL} THEN
    CASE WHEN abs(v::numeric) < 9.2e18 THEN trunc(v::numeric)::bigint END
  END
$$;

CREATE OR REPLACE FUNCTION kql_tobool(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE lower(btrim(v)) WHEN 'true' THEN true WHEN '1' THEN true
                              WHEN 'false' THEN false WHEN '0' THEN false END
$$;

CREATE OR REPLACE FUNCTION kql_todatetime(v text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF v IS NULL OR v !~ '^\s*[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}' THEN
    RETURN NULL;
  END IF;
  IF v ~ '[T ][0-9:.]+\s*([Zz]|[+-][0-9]{{2}}(:?[0-9]{{2}})?)\s*$' THEN
    RETURN v::timestamptz;
  END IF;
  RETURN v::timestamp AT TIME ZONE 'UTC';
EXCEPTION WHEN others THEN
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION kql_parse_json(v text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  RETURN v::jsonb;
EXCEPTION WHEN others THEN
  RETURN to_jsonb(v);
END
$$;

CREATE OR REPLACE FUNCTION kql_real_text(v double precision) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT v::text $$;

CREATE OR REPLACE FUNCTION kql_datetime_text(v timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT to_char(v AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
    || CASE WHEN date_part('microseconds', v)::bigint % 1000000 = 0 THEN ''
            ELSE '.' || to_char(v AT TIME ZONE 'UTC', 'US') || '0' END
    || 'Z'
$$;

CREATE OR REPLACE FUNCTION kql_datetime_diff(part text, a timestamptz, b timestamptz)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE part
    WHEN 'year' THEN date_part('year', a AT TIME ZONE 'UTC')
                     - date_part('year', b AT TIME ZONE 'UTC')
    WHEN 'quarter' THEN (date_part('year', a AT TIME ZONE 'UTC') * 4
                         + date_part('quarter', a AT TIME ZONE 'UTC'))
                      - (date_part('year', b AT TIME ZONE 'UTC') * 4
                         + date_part('quarter', b AT TIME ZONE 'UTC'))
    WHEN 'month' THEN (date_part('year', a AT TIME ZONE 'UTC') * 12
                       + date_part('month', a AT TIME ZONE 'UTC'))
                    - (date_part('year', b AT TIME ZONE 'UTC') * 12
                       + date_part('month', b AT TIME ZONE 'UTC'))
    WHEN 'week' THEN floor((floor(extract(epoch FROM a) / 86400) + 4) / 7)
                   - floor((floor(extract(epoch FROM b) / 86400) + 4) / 7)
    WHEN 'day' THEN floor(extract(epoch FROM a) / 86400) - floor(extract(epoch FROM b) / 86400)
    WHEN 'hour' THEN floor(extract(epoch FROM a) / 3600) - floor(extract(epoch FROM b) / 3600)
    WHEN 'minute' THEN floor(extract(epoch FROM a) / 60) - floor(extract(epoch FROM b) / 60)
    WHEN 'second' THEN floor(extract(epoch FROM a)) - floor(extract(epoch FROM b))
    WHEN 'millisecond' THEN floor(extract(epoch FROM a) * 1000)
                          - floor(extract(epoch FROM b) * 1000)
    WHEN 'microsecond' THEN floor(extract(epoch FROM a) * 1000000)
                          - floor(extract(epoch FROM b) * 1000000)
    WHEN 'nanosecond' THEN (floor(extract(epoch FROM a) * 1000000)
                           - floor(extract(epoch FROM b) * 1000000)) * 1000
  END::bigint
$$;
"""

BACKWARD = """
DROP FUNCTION IF EXISTS kql_toreal(text);
DROP FUNCTION IF EXISTS kql_tolong(text);
DROP FUNCTION IF EXISTS kql_tobool(text);
DROP FUNCTION IF EXISTS kql_todatetime(text);
DROP FUNCTION IF EXISTS kql_parse_json(text);
DROP FUNCTION IF EXISTS kql_real_text(double precision);
DROP FUNCTION IF EXISTS kql_datetime_text(timestamptz);
DROP FUNCTION IF EXISTS kql_datetime_diff(text, timestamptz, timestamptz);
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("search", "0002_partition_events")]
    operations = [migrations.RunPython(forward, backward)]
