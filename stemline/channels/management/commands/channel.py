"""`stemline channel connect|list|bundle|update|deliveries|replay|retry`: marketplace channels
from the shell."""

import json
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from stemline.channels import services
from stemline.channels.models import Channel, Event, Marketplace
from stemline.core.commandline import company_by_account, domain_error
from stemline.core.errors import DomainError

OPTION_OF_FIELD = {
    "marketplace": "--marketplace",
    "customerId": "--customer",
    "endpoint": "--endpoint",
    "locationId": "--location",
    "carrierId": "--marketplace",
    "channelId": "--id",
    "eventId": "--event",
}


def _domain_error(exc: DomainError) -> CommandError:
    return domain_error(exc, OPTION_OF_FIELD)


_company = company_by_account


def _channel(channel_id: int) -> Channel:
    channel = Channel.objects.select_related("company").filter(pk=channel_id).first()
    if channel is None:
        raise CommandError(f"--id: channel {channel_id} does not exist")
    return channel


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise CommandError(f"not a number: {value!r}") from None


class Command(BaseCommand):
    help = "Connect marketplaces (DWF, FTD, BloomNet, iBuyFlowers) and look after their feeds."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        connect = actions.add_parser("connect", help="connect a marketplace; print its bundle")
        connect.add_argument("--company", type=int, required=True, metavar="ID")
        connect.add_argument("--marketplace", required=True, choices=[m.value for m in Marketplace])
        connect.add_argument("--customer", type=int, metavar="ID", help="default: a new one")
        connect.add_argument("--endpoint", default="", metavar="URL", help="push feed here")
        connect.add_argument("--location", type=int, metavar="ID")
        connect.add_argument("--name", default="")
        connect.add_argument("--json", action="store_true", help="print the bundle as JSON")

        listing = actions.add_parser("list", help="the channels of a company and their health")
        listing.add_argument("--company", type=int, required=True, metavar="ID")

        show = actions.add_parser("bundle", help="print a channel's hand-off bundle (JSON)")
        show.add_argument("--id", type=int, required=True)

        update = actions.add_parser("update", help="change what a channel sells and how")
        update.add_argument("--id", type=int, required=True)
        update.add_argument("--endpoint", metavar="URL")
        update.add_argument("--on-hand", choices=["yes", "no"])
        update.add_argument("--future", choices=["yes", "no"])
        update.add_argument("--price-level", choices=["A", "B"])
        update.add_argument("--markup", metavar="PERCENT")
        update.add_argument("--cap", type=int, metavar="BOXES", help="0: no cap")
        update.add_argument("--buffer", type=int, metavar="BOXES")
        update.add_argument("--fee-rate", metavar="RATE", help="0.015 is 1.5%%")
        update.add_argument("--snapshot-every", type=int, metavar="SECONDS")
        update.add_argument(
            "--deltas-per-message", type=int, metavar="N", help="1: one message per change"
        )
        update.add_argument("--checkout-on-add", choices=["yes", "no"])
        update.add_argument("--active", choices=["yes", "no"], help="no: paused")

        deliveries = actions.add_parser("deliveries", help="the delivery log of a channel")
        deliveries.add_argument("--id", type=int, required=True)
        deliveries.add_argument("--limit", type=int, default=20)

        replay = actions.add_parser("replay", help="send one logged event again now")
        replay.add_argument("--event", type=int, required=True)

        retry = actions.add_parser("retry", help="make every waiting event of a channel due now")
        retry.add_argument("--id", type=int, required=True)

    def handle(self, *args, **options):
        try:
            getattr(self, "do_" + options["action"])(options)
        except DomainError as exc:
            raise _domain_error(exc) from exc

    def do_connect(self, o):
        bundle = services.connect(
            company=_company(o["company"]),
            marketplace=o["marketplace"],
            customer_id=o["customer"],
            endpoint_url=o["endpoint"],
            location_id=o["location"],
            name=o["name"],
        )
        if o["json"]:
            self.stdout.write(json.dumps(bundle.data, indent=2))
            return
        data = bundle.data
        self.stdout.write(f"Connected {data['marketplaceName']} as channel {data['channelId']}.")
        self.stdout.write("Send the marketplace this bundle (keep it secret):")
        self.stdout.write(f"  Company ID:  {data['companyId']}")
        self.stdout.write(f"  Customer ID: {data['customerId']}")
        for key, label in (("locationId", "Location ID"), ("carrierId", "Carrier ID")):
            if key in data:
                self.stdout.write(f"  {label}: {data[key]}")
        for token in data["tokens"]:
            self.stdout.write(f"  {token['type'].title()} token: {token['token']}")
        if "webhook" in data:
            self.stdout.write(f"  Feed endpoint: {data['webhook']['url']}")
            self.stdout.write(f"  Signing secret: {data['webhook']['signingSecret']}")

    def do_list(self, o):
        company = _company(o["company"])
        for channel in Channel.objects.filter(company=company).select_related("endpoint"):
            endpoint = channel.endpoint
            pending = (
                Event.objects.filter(endpoint=endpoint, status=Event.Status.PENDING).count()
                if endpoint
                else 0
            )
            health = "no endpoint"
            if endpoint:
                health = "failing: " + endpoint.last_error if endpoint.failures else "ok"
            self.stdout.write(
                f"{channel.pk}\t{channel.get_marketplace_display()}\t{channel.name}\t"
                f"{'active' if channel.active else 'paused'}\t{pending} pending\t{health}"
            )

    def do_bundle(self, o):
        self.stdout.write(json.dumps(services.bundle(_channel(o["id"])).data, indent=2))

    def do_update(self, o):
        channel = _channel(o["id"])
        yes = {"yes": True, "no": False, None: None}
        changes = {
            "sells_on_hand": yes[o["on_hand"]],
            "sells_future": yes[o["future"]],
            "price_level": o["price_level"],
            "markup": _decimal(o["markup"]) if o["markup"] else None,
            "buffer": o["buffer"],
            "fee_rate": _decimal(o["fee_rate"]) if o["fee_rate"] else None,
            "snapshot_every": o["snapshot_every"],
            "deltas_per_message": o["deltas_per_message"],
            "checkout_on_add": yes[o["checkout_on_add"]],
            "active": yes[o["active"]],
        }
        if o["cap"] is not None:
            changes["line_cap"] = o["cap"] or None
        channel = services.update(channel=channel, **changes)
        if o["endpoint"]:
            services.set_endpoint(channel=channel, url=o["endpoint"])
        self.stdout.write(f"Channel {channel.pk} updated.")

    def do_deliveries(self, o):
        channel = _channel(o["id"])
        if not channel.endpoint_id:
            raise CommandError("--id: this channel has no endpoint")
        events = Event.objects.filter(endpoint_id=channel.endpoint_id).order_by("-id")
        for event in events[: o["limit"]]:
            self.stdout.write(
                f"{event.pk}\t#{event.seq if event.seq is not None else '-'}\t{event.kind}\t{event.get_status_display()}\t"
                f"{event.attempts} attempts\t{event.last_status_code or ''}\t{event.last_error}"
            )

    def do_replay(self, o):
        from stemline.channels.models import Event as E

        event = E.objects.filter(pk=o["event"]).first()
        if event is None:
            raise CommandError(f"--event: event {o['event']} does not exist")
        attempt = services.send_again(company=event.company, event_id=event.pk)
        self.stdout.write(
            f"Event {event.pk}: {attempt.status_code or 'no answer'} {attempt.error}".strip()
        )

    def do_retry(self, o):
        channel = _channel(o["id"])
        if not channel.endpoint_id:
            raise CommandError("--id: this channel has no endpoint")
        count = services.retry_now(company=channel.company, endpoint_id=channel.endpoint_id)
        self.stdout.write(f"{count} events due now.")
