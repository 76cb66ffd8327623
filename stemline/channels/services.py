"""Every write to channels: connecting a marketplace with its preset, changing what it sells,
pausing it, endpoints that tokens register, and replaying deliveries."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from stemline.core import netguard, shapes
from stemline.core.errors import Conflict, Invalid, NotFound
from stemline.core.models import Company, Location
from stemline.parties.models import Carrier, Customer, Vendor, VendorType
from stemline.parties.services import add_customer, add_vendor
from stemline.tokens import crypto
from stemline.tokens.models import ApiToken, TokenType
from stemline.tokens.services import create_token

from . import delivery, outbox
from .models import MAX_BATCH, Attempt, Channel, Endpoint, Event, Marketplace, SnapshotSlot

# What a marketplace calls with a Customer token: the web shop and the web-order methods.
SHOP_METHODS = (
    "ecommerce/inventory.list",
    "ecommerce/inventory.get",
    "ecommerce/inventory-available-dates.list",
    "ecommerce/customer-carriers.list",
    "inventory.sync",
    "web-order.create",
    "web-order-item.add",
    "web-order-item.delete",
    "web-order-details.list",
    "web-order.checkout",
    "web-order.delete",
)
# DWF also ships to the company as a grower: what a farm system does with a Vendor token.
GROWER_METHODS = (
    "boxtype.list",
    "carrier.list",
    "product.list",
    "purchase.order.list",
    "purchase.order.confirm",
    "purchase.order.item.awb.add",
    "purchase.order.items.awb.add",
    "box.code.change",
    "v2/vendor/invoice",
)
# BloomNet reads the company's open market with a Company token.
MARKET_READ_METHODS = (
    "inventory.openmarket.list",
    "future.inventory.openmarket.list",
    "inventory.sync",
    "product.list",
    "boxtype.list",
    "carrier.list",
)


@dataclass(frozen=True)
class Preset:
    marketplace: str
    name: str
    tokens: tuple[tuple[str, tuple[str, ...]], ...]  # (token type, methods)
    sells_future: bool
    sends_fedex: bool = False


PRESETS = {
    Marketplace.DWF: Preset(
        Marketplace.DWF,
        "DWF Wholesale",
        ((TokenType.CUSTOMER, SHOP_METHODS), (TokenType.VENDOR, GROWER_METHODS)),
        sells_future=True,
    ),
    Marketplace.FTD: Preset(
        Marketplace.FTD,
        "FTD",
        ((TokenType.CUSTOMER, SHOP_METHODS),),
        sells_future=False,
    ),
    Marketplace.BLOOMNET: Preset(
        Marketplace.BLOOMNET,
        "BloomNet",
        ((TokenType.COMPANY, MARKET_READ_METHODS), (TokenType.CUSTOMER, SHOP_METHODS)),
        sells_future=True,
    ),
    Marketplace.IBUYFLOWERS: Preset(
        Marketplace.IBUYFLOWERS,
        "iBuyFlowers",
        ((TokenType.CUSTOMER, SHOP_METHODS),),
        sells_future=True,
        sends_fedex=True,
    ),
    Marketplace.CUSTOM: Preset(
        Marketplace.CUSTOM, "Custom marketplace", ((TokenType.CUSTOMER, SHOP_METHODS),), True
    ),
}


def preset_grants(token_type: str, methods: tuple[str, ...]) -> list[str]:
    """The preset's methods that exist and that this token type may be granted."""
    from stemline.api.registry import registry

    granted = []
    for name in methods:
        method = registry.get(name)
        if method is not None and token_type in method.grantable_types and not method.deprecated:
            granted.append(name)
    return granted


def check_url(url: str, field: str = "endpoint") -> str:
    """A URL Stemline may push to: a public http(s) address (netguard says what is refused and
    why; the check runs again at every connection)."""
    try:
        return netguard.check_url(url)
    except netguard.Refused as exc:
        raise Invalid(exc.reason, field=field) from None


def new_endpoint(company: Company, url: str, token: ApiToken | None = None) -> Endpoint:
    return Endpoint.objects.create(
        company=company,
        url=url,
        token=token,
        secret_encrypted=crypto.encrypt(delivery.new_secret()),
    )


@dataclass
class Bundle:
    """What the company sends the marketplace so it can finish the set-up on its side."""

    channel: Channel
    data: dict = field(default_factory=dict)


def _fedex(company: Company) -> Carrier:
    carrier = (
        Carrier.objects.filter(company=company, direction=Carrier.Direction.OUTBOUND)
        .filter(Q(code__iexact="FDX") | Q(code__iexact="FEDEX") | Q(name__icontains="fedex"))
        .order_by("id")
        .first()
    )
    if carrier is None:
        raise Invalid(
            "iBuyFlowers needs the Carrier ID of FedEx: add an outbound carrier FedEx (code FDX) "
            "in Setup > Carriers first",
            field="carrierId",
        )
    return carrier


def _customer_for(company: Company, preset: Preset, customer_id: int | None) -> Customer:
    if customer_id is not None:
        customer = Customer.objects.filter(company=company, pk=customer_id, active=True).first()
        if customer is None:
            raise NotFound(f"customer {customer_id} does not exist", field="customerId")
        return customer
    existing = Customer.objects.filter(company=company, name__iexact=preset.name).first()
    if existing is not None:
        return existing
    return add_customer(company=company, name=preset.name)


def _vendor_for(company: Company, preset: Preset) -> Vendor:
    existing = Vendor.objects.filter(company=company, name__iexact=preset.name).first()
    if existing is not None:
        return existing
    return add_vendor(
        company=company, name=preset.name, port_origin="MIA", vendor_type=VendorType.FRESH_CUT
    )


@transaction.atomic
def connect(
    *,
    company: Company,
    marketplace: str,
    customer_id: int | None = None,
    endpoint_url: str = "",
    location_id: int | None = None,
    name: str = "",
    created_by=None,
) -> Bundle:
    """Connect a marketplace: its customer, the tokens of its preset, its endpoint. The bundle
    holds the secrets; they can be shown again later (`bundle`)."""
    try:
        preset = PRESETS[Marketplace(marketplace)]
    except ValueError:
        raise Invalid(
            f"must be one of {', '.join(m.value for m in Marketplace)}", field="marketplace"
        ) from None
    customer = _customer_for(company, preset, customer_id)
    if Channel.objects.filter(company=company, customer=customer).exists():
        raise Conflict(
            f"customer {customer.name} already represents a channel; pick another customer",
            field="customerId",
        )
    location = None
    if location_id is not None:
        location = Location.objects.filter(company=company, pk=location_id, active=True).first()
        if location is None:
            raise NotFound(f"location {location_id} does not exist", field="locationId")
    if preset.sends_fedex:
        _fedex(company)  # refused before anything is written
    if location is None and company.multi_location:
        # A multi-location company sells each location's boxes on their own: the channel
        # sells the default location's unless told otherwise.
        location = Location.objects.get(company=company, is_default=True)
    channel = Channel.objects.create(
        company=company,
        marketplace=preset.marketplace,
        name=(name or "").strip()[:100] or preset.name,
        customer=customer,
        location=location,
        sells_on_hand=True,
        sells_future=preset.sells_future,
        # Growers' offers are sold ahead, as future boxes are: a marketplace that takes those.
        sells_availability=preset.sells_future,
        fee_rate=company.transaction_fee_rate,
    )
    for token_type, methods in preset.tokens:
        kwargs = {}
        if token_type == TokenType.CUSTOMER:
            kwargs["customer_id"] = customer.pk
            taken = ApiToken.objects.filter(customer=customer, revoked_at__isnull=True).exists()
            if taken:
                raise Conflict(
                    f"customer {customer.name} already has a token (one per customer); revoke it "
                    "in Setup > Settings > Tokens or pick another customer",
                    field="customerId",
                )
        elif token_type == TokenType.VENDOR:
            vendor = _vendor_for(company, preset)
            kwargs["vendor_id"] = vendor.pk
            if ApiToken.objects.filter(vendor=vendor, revoked_at__isnull=True).exists():
                raise Conflict(
                    f"vendor {vendor.name} already has a token (one per vendor); revoke it first",
                    field="vendorId",
                )
        issued = create_token(
            company=company,
            token_type=token_type,
            description=f"{channel.name} ({TokenType(token_type).label.lower()} token)",
            grants=preset_grants(token_type, methods),
            created_by=created_by,
            **kwargs,
        )
        channel.tokens.add(issued.token)
    if endpoint_url:
        set_endpoint(channel=channel, url=endpoint_url)
    return bundle(channel)


def set_endpoint(*, channel: Channel, url: str) -> Channel:
    """Point the channel's feed at a URL (same secret when it already had one) and send it a
    snapshot, so the marketplace starts from the whole inventory."""
    url = check_url(url)
    if channel.endpoint_id is None:
        channel.endpoint = new_endpoint(channel.company, url)
        channel.save(update_fields=["endpoint"])
    else:
        Endpoint.objects.filter(pk=channel.endpoint_id).update(url=url, active=True)
    if channel.active:
        snapshot_now(channel)
    return channel


def snapshot_now(channel: Channel) -> None:
    """Send the channel a full snapshot now; it counts as this interval's, so the scheduler does
    not send another one right behind it."""
    slot = int(timezone.now().timestamp()) // channel.snapshot_every
    SnapshotSlot.objects.get_or_create(company_id=channel.company_id, channel=channel, slot=slot)
    # Read once every process's cached channels show the change (outbox.ChannelCache).
    outbox.queue_snapshot(channel, delay=settings.CHANNELS_CACHE_SECONDS)


def bundle(channel: Channel) -> Bundle:
    preset = PRESETS[Marketplace(channel.marketplace)]
    company = channel.company
    tokens = []
    for token in channel.tokens.filter(revoked_at__isnull=True).order_by("id"):
        tokens.append(
            {
                "type": token.token_type,
                "description": token.description,
                "token": crypto.decrypt(token.secret_encrypted) or "",
                "grants": sorted(token.grants),
                **({"vendorId": token.vendor_id} if token.vendor_id else {}),
            }
        )
    data = {
        "marketplace": channel.marketplace,
        "marketplaceName": preset.name,
        "channelId": channel.pk,
        "companyId": company.account_id,
        "customerId": channel.customer_id,
        "tokens": tokens,
        "sells": [
            *(["on hand"] if channel.sells_on_hand else []),
            *(["future"] if channel.sells_future else []),
        ],
        "transactionFeeRate": str(channel.fee_rate),
    }
    if company.multi_location:
        # The table of product.md lists the location ID for DWF; every marketplace of a
        # multi-location company needs it, as web-order.create does.
        location = channel.location or Location.objects.get(company=company, is_default=True)
        data["locationId"] = location.pk
    if preset.sends_fedex:
        data["carrierId"] = _fedex(company).pk
    if channel.endpoint_id:
        endpoint = channel.endpoint
        data["webhook"] = {
            "url": endpoint.url,
            "signingSecret": delivery.secret_of(endpoint) or "",
            "scheme": "Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)",
        }
    return Bundle(channel=channel, data=data)


@transaction.atomic
def update(
    *,
    channel: Channel,
    sells_on_hand: bool | None = None,
    sells_future: bool | None = None,
    sells_units: bool | None = None,
    sells_availability: bool | None = None,
    sells_hard_goods: bool | None = None,
    price_level: str | None = None,
    markup: Decimal | None = None,
    line_cap: int | None | type[Ellipsis] = ...,
    buffer: int | None = None,
    fee_rate: Decimal | None = None,
    snapshot_every: int | None = None,
    deltas_per_message: int | None = None,
    checkout_on_add: bool | None = None,
    max_share_of_line: int | None | type[Ellipsis] = ...,
    max_share_of_market: int | None | type[Ellipsis] = ...,
    active: bool | None = None,
) -> Channel:
    """Change what the channel sells and how; the marketplace gets a fresh snapshot."""
    if sells_on_hand is not None:
        channel.sells_on_hand = sells_on_hand
    if sells_future is not None:
        channel.sells_future = sells_future
    if not (channel.sells_on_hand or channel.sells_future):
        raise Invalid("a channel sells on-hand boxes, future ones or both", field="sells")
    for name, value in (
        ("sells_units", sells_units),
        ("sells_availability", sells_availability),
        ("sells_hard_goods", sells_hard_goods),
    ):
        if value is not None:
            setattr(channel, name, value)
    if line_cap is not ...:
        if line_cap is not None and line_cap < 1:
            raise Invalid("must be at least 1 box, or empty for no cap", field="lineCap")
        channel.line_cap = line_cap
    if buffer is not None:
        if buffer < 0:
            raise Invalid("must not be negative", field="buffer")
        channel.buffer = buffer
    if fee_rate is not None:
        if not Decimal("0") <= fee_rate < Decimal("1"):
            raise Invalid("must be between 0 and 1 (0.015 is 1.5%)", field="feeRate")
        channel.fee_rate = fee_rate
    if snapshot_every is not None:
        if snapshot_every < 10:
            raise Invalid("must be at least 10 seconds", field="snapshotEvery")
        channel.snapshot_every = snapshot_every
    if deltas_per_message is not None:
        if not 1 <= deltas_per_message <= MAX_BATCH:
            raise Invalid(f"must be from 1 to {MAX_BATCH}", field="deltasPerMessage")
        channel.deltas_per_message = deltas_per_message
    if checkout_on_add is not None:
        channel.checkout_on_add = checkout_on_add
    # Hoarding limits (percent) of the marketplace's customer; None: the company's.
    for name, api_field, value in (
        ("max_share_of_line", "maxShareOfLine", max_share_of_line),
        ("max_share_of_market", "maxShareOfMarket", max_share_of_market),
    ):
        if value is not ...:
            if value is not None and not 1 <= value <= 100:
                raise Invalid("must be a percentage from 1 to 100, or empty", field=api_field)
            setattr(channel, name, value)
    if active is not None:
        channel.active = active
    # The channel's prices are its customer's: one price level, shown and charged alike.
    customer = channel.customer
    if price_level is not None:
        if price_level not in ("A", "B"):
            raise Invalid("must be A or B", field="priceLevel")
        customer.default_price = price_level
    if markup is not None:
        if not Decimal("0") <= markup <= Decimal("1000"):
            raise Invalid("must be between 0 and 1000 percent", field="markup")
        customer.price_b_markup = markup
    if price_level is not None or markup is not None:
        customer.save(update_fields=["default_price", "price_b_markup"])
    channel.save()
    if channel.active and channel.endpoint_id:
        snapshot_now(channel)
    return channel


def channel_of(company: Company, channel_id: int) -> Channel:
    channel = (
        Channel.objects.filter(company=company, pk=channel_id)
        .select_related("customer", "endpoint", "company")
        .first()
    )
    if channel is None:
        raise NotFound(f"channel {channel_id} does not exist", field="channelId")
    return channel


_CUSTOMER_CHANNEL = shapes.Select(
    lambda company_id, customer_id: Channel.objects.filter(
        company_id=company_id, customer_id=customer_id
    ).order_by("pk")[:1]
)
_COMPANY_CHANNELS = shapes.Select(
    lambda company_id: Channel.objects.filter(company_id=company_id).order_by("pk")
)


def channel_for_customer(company_id: int, customer_id: int) -> Channel | None:
    """Asked twice by every order (add, checkout): from the process's channel cache
    (outbox.ChannelCache: a change made here is seen at once, one made in another process
    within `CHANNELS_CACHE_SECONDS`), else one statement compiled once."""
    if settings.CHANNELS_CACHE_SECONDS <= 0:
        return _CUSTOMER_CHANNEL.first(company_id, customer_id)
    return outbox.channel_cache.by_customer(company_id, _COMPANY_CHANNELS.all).get(customer_id)


def check_channel_quantities(channel: Channel | None, lines, totals) -> None:
    """A marketplace never takes more of a line than its feed shows: the buffer kept back and
    the cap per line hold for its orders too. `lines` are the held lines (as they are after the
    hold), `totals` the boxes held per line; a refusal undoes the hold (one transaction)."""
    if channel is None or not (channel.buffer or channel.line_cap):
        return
    from stemline.inventory.services import NotEnoughStock

    shortages = []
    for pk in sorted(totals):
        shown = outbox.channel_quantity(channel, lines[pk].available + totals[pk])
        if totals[pk] > shown:
            shortages.append({"inventoryId": pk, "requested": totals[pk], "available": shown})
    if shortages:
        raise NotEnoughStock(shortages)


# Endpoints that tokens register (confirmInventory) ------------------------------------------


@transaction.atomic
def register_token_endpoint(
    *, company: Company, token: ApiToken, url: str, rotate: bool = False
) -> Endpoint:
    url = check_url(url, field="url")
    endpoint = Endpoint.objects.select_for_update().filter(company=company, token=token).first()
    if endpoint is None:
        return new_endpoint(company, url, token=token)
    endpoint.url = url
    endpoint.active = True
    if rotate:
        endpoint.secret_encrypted = crypto.encrypt(delivery.new_secret())
    endpoint.save(update_fields=["url", "active", "secret_encrypted"])
    return endpoint


def remove_token_endpoint(*, token: ApiToken) -> bool:
    deleted, _ = Endpoint.objects.filter(token=token).delete()
    return bool(deleted)


# The delivery log ----------------------------------------------------------------------------


def replay(*, company: Company, event_id: int) -> Event:
    """Queue one logged event to be sent again, whatever its status (a person asked for it).
    The request answers at once; the attempt shows in the log when it is made."""
    from .tasks import replay_event  # the task module imports this one

    event = Event.objects.filter(company=company, pk=event_id).first()
    if event is None:
        raise NotFound(f"event {event_id} does not exist", field="eventId")
    try:
        replay_event.enqueue(event.pk)
    except Exception as exc:
        raise Conflict("the task queue cannot be reached; try again in a moment") from exc
    return event


def send_again(*, company: Company, event_id: int) -> Attempt:
    """Send one logged event again here and now, and wait for the answer: for the command
    line, where an operator waits knowingly (the web's Replay queues instead)."""
    event = Event.objects.filter(company=company, pk=event_id).select_related("endpoint").first()
    if event is None:
        raise NotFound(f"event {event_id} does not exist", field="eventId")
    endpoint = event.endpoint
    delivery.attempt(endpoint, delivery.secret_of(endpoint), event, replay=True)
    return Attempt.objects.filter(event=event).order_by("-id").first()


def retry_now(*, company: Company, endpoint_id: int) -> int:
    """Bring every waiting or given-up event of an endpoint due now (after an outage); a
    delivery is queued, none is made here."""
    count = Event.objects.filter(
        company=company, endpoint_id=endpoint_id, status__in=[0, 2]
    ).update(status=Event.Status.PENDING, next_attempt_at=timezone.now())
    # Robust: a queue that is down leaves the events due, and the sweep queues them.
    transaction.on_commit(lambda: outbox.kick(endpoint_id), robust=True)
    return count
