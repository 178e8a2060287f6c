"""PostgreSQL: only the purge role may delete audit events, and only sealed ones.

Before this, the trigger let any DELETE through when the transaction had set
`agc.audit_purge = 'on'`, which any role with DELETE rights can do. Now:

- a role `agc_audit_purger` (NOLOGIN) is created if missing; an operator makes a login
  role a member of it for `manage.py purge_audit` (README, "Database roles");
- `audit_purge_through_seal(...)`, SECURITY DEFINER and owned by that role, deletes the
  events up to a seal (refusing a seal that does not exist, one already purged, events not
  older than the date given, or a count other than the one sealed) and writes the signed
  purge record; EXECUTE is revoked from PUBLIC, so only members of the role may call it;
- the events' trigger lets a DELETE through only when the current role is
  `agc_audit_purger` (true inside that function, never for the application's role) and
  the event lies inside a seal;
- only that role may insert a purge record (whose signature verification checks anyway).

The migrating role must be a superuser (tests, CI, `make demo` on PostgreSQL), or a member
of `agc_audit_purger` with the role already created by a superuser (README)."""

from django.db import migrations

ROLE = "agc_audit_purger"

CREATE_ROLE = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'agc_audit_purger') THEN
        CREATE ROLE agc_audit_purger NOLOGIN;
    END IF;
EXCEPTION
    WHEN duplicate_object THEN NULL;
    WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'The role agc_audit_purger does not exist and % may not create it.',
            current_user
            USING HINT = 'As a superuser run: CREATE ROLE agc_audit_purger NOLOGIN; '
                'GRANT agc_audit_purger TO ' || current_user || '; GRANT CREATE ON SCHEMA '
                || current_schema() || ' TO agc_audit_purger; then migrate again '
                '(README, "Database roles").';
END $$;
"""

EVENT_TRIGGER = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_user = 'agc_audit_purger' THEN
        IF EXISTS (
            SELECT 1 FROM {schema}.audit_auditseal seal
            WHERE seal.last_event_id >= OLD.id AND seal.first_event_id <= OLD.id
        ) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit event % is not sealed: only sealed events can be purged', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION audit_purge_insert_guard() RETURNS trigger AS $$
BEGIN
    IF current_user = 'agc_audit_purger' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'only the audit purge role may record a purge'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_auditpurge_insert_guard BEFORE INSERT ON audit_auditpurge
    FOR EACH ROW EXECUTE FUNCTION audit_purge_insert_guard();
"""

SIGNATURE = "bigint, timestamptz, bigint, text, timestamptz, text"

PURGE_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_purge_through_seal(
    p_seal_id bigint, p_before timestamptz, p_expected bigint, p_actor text,
    p_created_at timestamptz, p_signature text
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
    v_last bigint;
    v_deleted bigint;
BEGIN
    SELECT last_event_id INTO v_last FROM audit_auditseal WHERE id = p_seal_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'seal % does not exist: only sealed events can be purged', p_seal_id;
    END IF;
    IF EXISTS (SELECT 1 FROM audit_auditpurge WHERE through_seal_id >= p_seal_id) THEN
        RAISE EXCEPTION 'the events up to seal % are already purged', p_seal_id;
    END IF;
    IF EXISTS (
        SELECT 1 FROM audit_auditevent WHERE id <= v_last AND "timestamp" >= p_before
    ) THEN
        RAISE EXCEPTION 'events up to seal % are not all older than %', p_seal_id, p_before;
    END IF;
    DELETE FROM audit_auditevent WHERE id <= v_last;
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    IF v_deleted <> p_expected THEN
        RAISE EXCEPTION 'found % events up to seal % where % were sealed',
            v_deleted, p_seal_id, p_expected;
    END IF;
    INSERT INTO audit_auditpurge
        (through_seal_id, "before", deleted, actor, created_at, signature)
        VALUES (p_seal_id, p_before, v_deleted, p_actor, p_created_at, p_signature);
    RETURN v_deleted;
END;
$$;
ALTER FUNCTION audit_purge_through_seal({signature}) OWNER TO agc_audit_purger;
REVOKE ALL ON FUNCTION audit_purge_through_seal({signature}) FROM PUBLIC;
"""

# What the function (running as agc_audit_purger) and the trigger it fires need.
GRANTS = """
GRANT USAGE ON SCHEMA {schema} TO agc_audit_purger;
GRANT SELECT, DELETE ON audit_auditevent TO agc_audit_purger;
GRANT SELECT ON audit_auditseal TO agc_audit_purger;
GRANT SELECT, INSERT ON audit_auditpurge TO agc_audit_purger;
"""

# The version of migration 0006, for going back.
PREVIOUS_EVENT_TRIGGER = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('agc.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _schema(schema_editor) -> str:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(current_schema())")
        return cursor.fetchone()[0]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema = _schema(schema_editor)
    schema_editor.execute(CREATE_ROLE, params=None)
    schema_editor.execute(GRANTS.format(schema=schema), params=None)
    schema_editor.execute(EVENT_TRIGGER.format(schema=schema), params=None)
    schema_editor.execute(PURGE_FUNCTION.format(schema=schema, signature=SIGNATURE), params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"DROP FUNCTION IF EXISTS audit_purge_through_seal({SIGNATURE});"
        "DROP TRIGGER IF EXISTS audit_auditpurge_insert_guard ON audit_auditpurge;"
        "DROP FUNCTION IF EXISTS audit_purge_insert_guard();"
        "REVOKE ALL ON audit_auditevent, audit_auditseal, audit_auditpurge "
        "FROM agc_audit_purger;" + PREVIOUS_EVENT_TRIGGER,
        params=None,
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0010_hash_version_and_purge_signature")]

    operations = [migrations.RunPython(forwards, backwards)]
