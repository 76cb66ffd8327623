"""`stemline token create|reset|revoke|list`: API tokens from the shell, for operators."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from stemline.core.commandline import company_by_account, domain_error
from stemline.core.errors import DomainError
from stemline.tokens import services
from stemline.tokens.models import ApiToken

# The services name fields the API's way; an operator typed the command's options.
OPTION_OF_FIELD = {
    "customerId": "--customer",
    "vendorId": "--vendor",
    "grants": "--grant",
    "description": "--description",
    "tokenType": "--type",
    "token": "--id",
    "tokenId": "--id",
}


def _domain_error(exc: DomainError) -> CommandError:
    return domain_error(exc, OPTION_OF_FIELD)


_company = company_by_account


def _token(token_id: int) -> ApiToken:
    token = ApiToken.objects.select_related("company").filter(pk=token_id).first()
    if token is None:
        raise CommandError(f"--id: token {token_id} does not exist")
    return token


def _bound_party(token: ApiToken) -> str:
    if token.customer_id:
        return f"customer {token.customer_id} {token.customer.name}"
    if token.vendor_id:
        return f"vendor {token.vendor_id} {token.vendor.name}"
    if token.user_id:
        return f"user {token.user.username}"
    return "-"


class Command(BaseCommand):
    help = "Create, reset, revoke and list API tokens."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        create = actions.add_parser("create", help="create a token and print its secret")
        create.add_argument(
            "--company", type=int, required=True, metavar="ID", help="the Company ID (X-ACCOUNT)"
        )
        create.add_argument(
            "--type",
            required=True,
            choices=["company", "customer", "vendor"],
            help="token type",
        )
        create.add_argument(
            "--customer", type=int, metavar="ID", help="customer of a Customer token"
        )
        create.add_argument("--vendor", type=int, metavar="ID", help="vendor of a Vendor token")
        create.add_argument(
            "--grant",
            action="extend",
            nargs="+",
            default=[],
            metavar="METHOD",
            help="an API method the token may call (repeatable)",
        )
        create.add_argument(
            "--all-grants", action="store_true", help="every method this token type may call"
        )
        create.add_argument(
            "--transactional",
            action="store_true",
            help="Transactional API Access (may send the fields that need it)",
        )
        create.add_argument(
            "--strict-parameters",
            action="store_true",
            help="refuse unknown parameters instead of ignoring them",
        )
        create.add_argument(
            "--failures-as-200",
            action="store_true",
            help="answer failures with HTTP 200 (status 0 in the body), for clients whose HTTP "
            "library throws on errors",
        )
        create.add_argument("--description", default="", metavar="TEXT")

        reset = actions.add_parser("reset", help="give a token a new secret and print it")
        reset.add_argument("--id", type=int, required=True, metavar="TOKEN_ID")

        revoke = actions.add_parser("revoke", help="revoke a token (its secret stops working)")
        revoke.add_argument("--id", type=int, required=True, metavar="TOKEN_ID")

        listing = actions.add_parser("list", help="the tokens of a company")
        listing.add_argument("--company", type=int, required=True, metavar="ID")

    def handle(self, *args, **options):
        handler = getattr(self, f"_{options['action']}")
        try:
            handler(options)
        except DomainError as exc:
            raise _domain_error(exc) from exc

    def _create(self, options):
        company = _company(options["company"])
        token_type = options["type"]
        if options["grant"] and options["all_grants"]:
            raise CommandError("give either --grant or --all-grants, not both")
        if not options["grant"] and not options["all_grants"]:
            raise CommandError(
                "a token without methods can call nothing: give --grant METHOD or --all-grants"
            )
        # "a,b" is accepted too: that is how people paste a list of methods.
        grants = [name.strip() for item in options["grant"] for name in item.split(",")]
        description = options["description"].strip() or (
            f"{token_type.capitalize()} token (command line)"
        )
        issued = services.create_token(
            company=company,
            token_type=token_type,
            description=description,
            grants=[g for g in grants if g],
            customer_id=options["customer"],
            vendor_id=options["vendor"],
            transactional=options["transactional"],
            strict_parameters=options["strict_parameters"],
            failures_as_200=options["failures_as_200"],
            all_methods=options["all_grants"],
        )
        self.stdout.write(f"Token ID: {issued.token.pk}")
        self.stdout.write(f"Grants: {len(issued.token.grants)}")
        self.stdout.write(f"Token: {issued.secret}")

    def _reset(self, options):
        issued = services.reset_token(token=_token(options["id"]))
        self.stdout.write(f"Token ID: {issued.token.pk}")
        self.stdout.write(f"Token: {issued.secret}")

    def _revoke(self, options):
        token = _token(options["id"])
        already = token.revoked_at is not None
        services.revoke_token(token=token)
        state = "was already revoked" if already else "is revoked; its secret no longer works"
        self.stdout.write(f"Token {token.pk} {state}.")

    def _list(self, options):
        company = _company(options["company"])
        tokens = (
            ApiToken.objects.filter(company=company)
            .select_related("customer", "vendor", "user")
            .order_by("id")
        )
        rows = [("ID", "TYPE", "BOUND TO", "GRANTS", "LAST USED", "STATUS", "DESCRIPTION")]
        for token in tokens:
            grants = f"role {token.user.role}" if token.user_id else str(len(token.grants))
            last_used = (
                timezone.localtime(token.last_used_at).strftime("%Y-%m-%d %H:%M")
                if token.last_used_at
                else "never"
            )
            rows.append(
                (
                    str(token.pk),
                    token.token_type,
                    _bound_party(token),
                    grants,
                    last_used,
                    "revoked" if token.revoked_at else "active",
                    token.description,
                )
            )
        if len(rows) == 1:
            self.stdout.write(f"{company.name} has no tokens.")
            return
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  ".join([*cells, row[-1]]).rstrip())
