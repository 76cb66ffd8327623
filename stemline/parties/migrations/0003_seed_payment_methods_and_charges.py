"""Existing companies get the standard payment methods and additional charges that new
companies get when they are created (parties.services.seed_company)."""

from decimal import Decimal

from django.db import migrations

PAYMENT_METHODS = ("Check", "Credit Card", "Wire", "ACH", "Cash")
CHARGES = (
    ("FS", "Fuel Surcharge", "fuel", "$", "0.00"),
    ("TAX", "Sales Tax", "tax", "%", "0.00"),
)


def seed(apps, schema_editor):
    Company = apps.get_model("core", "Company")
    PaymentMethod = apps.get_model("parties", "PaymentMethod")
    AdditionalCharge = apps.get_model("parties", "AdditionalCharge")
    for company in Company.objects.all().iterator():
        for name in PAYMENT_METHODS:
            if not PaymentMethod.objects.filter(company=company, name__iexact=name).exists():
                PaymentMethod.objects.create(company=company, name=name)
        for code, name, purpose, amount_type, value in CHARGES:
            taken = AdditionalCharge.objects.filter(company=company, code__iexact=code).exists()
            if not taken and not AdditionalCharge.objects.filter(
                company=company, purpose=purpose
            ).exists():
                AdditionalCharge.objects.create(
                    company=company,
                    code=code,
                    name=name,
                    purpose=purpose,
                    amount_type=amount_type,
                    default_value=Decimal(value),
                )


class Migration(migrations.Migration):
    dependencies = [("parties", "0002_charges_payment_methods_contacts")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
