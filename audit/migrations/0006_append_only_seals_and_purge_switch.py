"""PostgreSQL guards, second version.

- audit_auditevent: UPDATE and TRUNCATE stay refused. DELETE is refused unless the
  transaction set `agc.audit_purge = 'on'` (SET LOCAL), which only the retention purge
  service does, for sealed events it has checked, and which it records.
- audit_auditseal and audit_auditpurge: UPDATE, DELETE and TRUNCATE refused."""

from django.db import migrations

FUNCTIONS = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('agc.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION audit_record_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

GUARDS = """
CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION audit_record_immutable();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_record_immutable();
"""

TABLES = ("audit_auditseal", "audit_auditpurge")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTIONS, params=None)
    for table in TABLES:
        schema_editor.execute(GUARDS.format(table=table), params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table};"
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
            params=None,
        )
    schema_editor.execute("DROP FUNCTION IF EXISTS audit_record_immutable();", params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_seals_purges_and_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]
