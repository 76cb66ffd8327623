# Indexes on django-tasks-db's result table, which that package does not have: the finished
# rows pruning deletes (a range of them, however many millions there are), the running ones
# fail_abandoned_tasks looks at, and one task's rows the periodic scheduler looks at
# (sales.tasks._enqueue_once). Plain SQL both databases take.

from django.db import migrations

TABLE = "django_tasks_database_dbtaskresult"


class Migration(migrations.Migration):

    dependencies = [
        ("sales", "0008_prebook_void_reason"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS stemline_task_finished ON {TABLE} (finished_at) "
            "WHERE status IN ('FAILED', 'SUCCESSFUL')",
            "DROP INDEX IF EXISTS stemline_task_finished",
        ),
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS stemline_task_running ON {TABLE} (started_at) "
            "WHERE status = 'RUNNING'",
            "DROP INDEX IF EXISTS stemline_task_running",
        ),
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS stemline_task_path_enqueued ON {TABLE} "
            "(task_path, enqueued_at)",
            "DROP INDEX IF EXISTS stemline_task_path_enqueued",
        ),
    ]
