"""Documents a checkout made before every document had a ship date get the day they were made
(in the server's time zone), so the date windows of invoice.list and prebook.list find them."""

from django.db import migrations
from django.utils import timezone


def backfill(apps, schema_editor):
    for name in ("Invoice", "Prebook"):
        model = apps.get_model("sales", name)
        rows = model.objects.filter(ship_date__isnull=True).only("pk", "created_at")
        for row in rows.iterator():
            model.objects.filter(pk=row.pk).update(ship_date=timezone.localdate(row.created_at))


class Migration(migrations.Migration):
    dependencies = [("sales", "0004_shipping_print_and_pod")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
