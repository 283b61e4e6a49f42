"""A GIN index over the two-character pieces of each name, on PostgreSQL, so a search for part of
a name ("秀英", "王芳") is an index lookup rather than a scan of every person. pg_trgm does not
serve it: a pattern of two characters yields no trigrams. SQLite keeps its LIKE scan (a street's
demo data, not a city)."""

from django.db import migrations

CREATE = """
CREATE FUNCTION people_name_bigrams(name text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT coalesce(array_agg(DISTINCT substr(name, i, 2)), '{}')
  FROM generate_series(1, char_length(name) - 1) AS i
$$;
CREATE INDEX person_name_bigrams ON people_person USING gin (people_name_bigrams(name));
"""
DROP = """
DROP INDEX IF EXISTS person_name_bigrams;
DROP FUNCTION IF EXISTS people_name_bigrams(text);
"""


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("people", "0002_change_requests_and_imports")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
