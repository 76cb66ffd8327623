"""Existing companies get the standard credit reasons (new ones get them when created)."""

from django.db import migrations

REASONS = ("Damaged", "Short", "Quality", "Wrong product", "Late delivery")


def seed(apps, schema_editor):
    Company = apps.get_model("core", "Company")
    CreditReason = apps.get_model("money", "CreditReason")
    for company in Company.objects.all():
        CreditReason.objects.bulk_create(
            [CreditReason(company=company, name=n) for n in REASONS], ignore_conflicts=True
        )


class Migration(migrations.Migration):
    dependencies = [("money", "0001_ledger")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
