"""PostgreSQL: number a feed in one statement (inventory.feeds.sequence), a function whose
statements each see what committed before them, as the separate statements of a transaction
do."""

from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION stemline_number_feed(
    p_table regclass, p_company bigint, p_feed text, p_column text, p_value text,
    p_batch integer, p_wait boolean
) RETURNS integer LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_id bigint;
    v_value bigint;
    v_done integer;
    v_total integer := 0;
    v_filter text := CASE WHEN p_column IS NULL THEN '' ELSE format(' AND %I = $4', p_column) END;
BEGIN
    LOOP
        IF p_wait THEN
            SELECT id, value INTO v_id, v_value FROM inventory_changecounter
            WHERE company_id = p_company AND feed = p_feed FOR UPDATE;
        ELSE
            SELECT id, value INTO v_id, v_value FROM inventory_changecounter
            WHERE company_id = p_company AND feed = p_feed FOR UPDATE SKIP LOCKED;
        END IF;
        IF NOT FOUND THEN
            -- Being numbered by someone else (that one, or the next, numbers ours), or the
            -- feed has no counter yet: NULL asks the caller to make it.
            IF EXISTS (SELECT 1 FROM inventory_changecounter
                       WHERE company_id = p_company AND feed = p_feed) THEN
                RETURN v_total;
            END IF;
            RETURN NULL;
        END IF;
        -- A statement of its own, so it sees every row committed before the lock was taken.
        EXECUTE format(
            'UPDATE %1$s SET seq = $1 + n.rn FROM ('
            'SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS rn FROM %1$s '
            'WHERE company_id = $2%2$s AND seq IS NULL ORDER BY id LIMIT $3'
            ') AS n WHERE %1$s.id = n.id',
            p_table, v_filter
        ) USING v_value, p_company, p_batch, p_value;
        GET DIAGNOSTICS v_done = ROW_COUNT;
        IF v_done > 0 THEN
            UPDATE inventory_changecounter SET value = v_value + v_done WHERE id = v_id;
        END IF;
        v_total := v_total + v_done;
        IF v_done < p_batch THEN
            RETURN v_total;
        END IF;
    END LOOP;
END
$$;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(FUNCTION)  # no parameters: its % signs are format()'s


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP FUNCTION IF EXISTS stemline_number_feed(regclass, bigint, text, text, text, "
            "integer, boolean)"
        )


class Migration(migrations.Migration):
    dependencies = [("inventory", "0007_line_available_by_product")]

    operations = [migrations.RunPython(create, drop)]
