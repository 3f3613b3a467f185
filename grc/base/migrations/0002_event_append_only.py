from django.db import migrations

SQL = """
CREATE FUNCTION base_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail (base_event) is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER base_event_append_only
    BEFORE UPDATE OR DELETE ON base_event
    FOR EACH ROW EXECUTE FUNCTION base_event_refuse_change();
"""

REVERSE_SQL = """
DROP TRIGGER base_event_append_only ON base_event;
DROP FUNCTION base_event_refuse_change();
"""


class Migration(migrations.Migration):
    """The audit trail can only grow: the database itself refuses UPDATE and DELETE, whatever
    the code path (ORM, admin, raw SQL, a careless script)."""

    dependencies = [("base", "0001_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE_SQL)]
