"""`stemline seed_demo`: the demo wholesaler, its logins and its Company token (idempotent)."""

from django.core.management.base import BaseCommand, CommandError

from stemline.core.errors import DomainError
from stemline.demo import data
from stemline.demo.seed import seed

SINGULAR = {"companies": "company", "categories": "category"}


class Command(BaseCommand):
    help = (
        "Create the demo wholesaler Sunrise Floral Imports (Miami) with its catalog, growers, "
        "carriers, customers and marketplaces. Running it again creates only what is missing."
    )

    def handle(self, *args, **options):
        try:
            demo = seed()
        except DomainError as exc:
            raise CommandError(f"the demo data cannot be written: {exc.message}") from exc

        if demo.created:
            made = ", ".join(
                f"{count} {what if count != 1 else SINGULAR.get(what, what.removesuffix('s'))}"
                for what, count in sorted(demo.created.items())
            )
            self.stdout.write(f"Demo data created: {made}.")
        else:
            self.stdout.write("Demo data already present; nothing to create.")
        self.stdout.write(f"Company: {demo.company.name}")
        self.stdout.write(f"Company ID: {demo.company.account_id}")
        self.stdout.write(f"Logins (password: {data.DEMO_PASSWORD}):")
        width = max(len(email) for email, _ in demo.logins)
        for email, role in demo.logins:
            self.stdout.write(f"  {email.ljust(width)}  {role}")
        self.stdout.write(
            "The application shows: "
            + ", ".join(f"{count} {what}" for what, count in demo.shown)
            + "."
        )
        self.stdout.write(f"Demo Company token (id {demo.token_id}, every Company method):")
        self.stdout.write(f"Token: {demo.secret}")
