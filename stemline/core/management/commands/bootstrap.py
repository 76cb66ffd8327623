"""`stemline bootstrap`: a new company with its admin and a Company token, from the shell."""

from django.core.management.base import BaseCommand, CommandError

from stemline.core.errors import DomainError
from stemline.core.services import bootstrap


class Command(BaseCommand):
    help = (
        "Create a company (default location, standard box types), its admin user and a "
        "Company token holding every Company method. Prints the Company ID."
    )

    def add_arguments(self, parser):
        parser.add_argument("--company", required=True, metavar="NAME", help="company name")
        parser.add_argument("--admin", required=True, metavar="EMAIL", help="admin's e-mail")
        parser.add_argument(
            "--password",
            default=None,
            help="admin's password (without it the admin cannot log in until one is set)",
        )
        parser.add_argument(
            "--print-token", action="store_true", help="print the Company token's secret"
        )

    def handle(self, *args, **options):
        try:
            company, admin, issued = bootstrap(
                company_name=options["company"],
                admin_email=options["admin"],
                password=options["password"],
            )
        except DomainError as exc:
            option = {"name": "--company", "email": "--admin"}.get(exc.field or "")
            raise CommandError(f"{option}: {exc.message}" if option else exc.message) from exc

        self.stdout.write(f"Company ID: {company.account_id}")
        self.stdout.write(f"Company: {company.name}")
        self.stdout.write(f"Admin: {admin.username}")
        if not options["password"]:
            self.stdout.write(
                "The admin has no password yet: set one with "
                f"`stemline changepassword {admin.username}`."
            )
        if options["print_token"]:
            self.stdout.write(f"Token: {issued.secret}")
        else:
            self.stdout.write(
                f"Company token id {issued.token.pk} created; its secret is not shown "
                "(run with --print-token, or `stemline token reset --id "
                f"{issued.token.pk}` for a new one)."
            )
