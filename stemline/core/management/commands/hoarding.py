"""`stemline hoarding`: show or set a company's hoarding limits (the web app has no company
settings screen; a marketplace channel's own limits are on its settings page)."""

from django.core.management.base import BaseCommand, CommandError

from stemline.core.errors import DomainError
from stemline.core.models import Company
from stemline.core.services import set_hoarding_limits


def _percent(value: str | None) -> int | None:
    if value is None or value.lower() in ("off", "none", "", "100"):
        return None
    try:
        return int(value)
    except ValueError:
        raise CommandError(f"{value!r}: give a whole percentage or 'off'") from None


class Command(BaseCommand):
    help = (
        "Show or set the most one customer may hold at once (its pending web orders), as a "
        "percentage of a line's unsold boxes and of the open market; 'off' for no limit. "
        "Beyond it web-order-item.add answers 409."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int, required=True, help="the Company ID")
        parser.add_argument("--share-of-line", metavar="PERCENT|off", default=None)
        parser.add_argument("--share-of-market", metavar="PERCENT|off", default=None)

    def handle(self, *args, **options):
        company = Company.objects.filter(account_id=options["account"]).first()
        if company is None:
            raise CommandError(f"--account: no company {options['account']}")
        line, market = options["share_of_line"], options["share_of_market"]
        if line is not None or market is not None:
            try:
                company = set_hoarding_limits(
                    company=company,
                    share_of_line=company.max_share_of_line if line is None else _percent(line),
                    share_of_market=(
                        company.max_share_of_market if market is None else _percent(market)
                    ),
                )
            except DomainError as exc:
                option = {"shareOfLine": "--share-of-line", "shareOfMarket": "--share-of-market"}
                raise CommandError(f"{option.get(exc.field, '')}: {exc.message}") from exc

        def show(value):
            return "off" if value is None else f"{value}%"

        self.stdout.write(f"share of a line: {show(company.max_share_of_line)}")
        self.stdout.write(f"share of the open market: {show(company.max_share_of_market)}")
