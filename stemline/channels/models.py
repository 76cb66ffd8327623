"""Marketplace channels, the webhook endpoints they and tokens register, and the outbox: every
event to push, written in the transaction of the change, with the log of its delivery."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from stemline.core.models import CompanyOwned


class Marketplace(models.TextChoices):
    DWF = "dwf", "DWF Wholesale"
    FTD = "ftd", "FTD"
    BLOOMNET = "bloomnet", "BloomNet"
    IBUYFLOWERS = "ibuyflowers", "iBuyFlowers"
    CUSTOM = "custom", "Custom"


class Endpoint(CompanyOwned):
    """Where events are pushed: a channel's endpoint, or one a token registered for its
    confirmInventory events. Holds the signing secret, the sequence and the delivery state."""

    url = models.URLField(max_length=500)
    # Standard Webhooks secret ("whsec_..."), encrypted with the token key like token copies.
    secret_encrypted = models.TextField()
    token = models.OneToOneField(
        "tokens.ApiToken", null=True, blank=True, on_delete=models.CASCADE, related_name="webhook"
    )
    active = models.BooleanField(default=True)
    # The last sequence number given to an event of this endpoint (numbers have no gaps).
    last_seq = models.PositiveBigIntegerField(default=0)
    # The number of the last snapshot read for this endpoint: a receiver applies snapshots in
    # this order, whatever order they arrive in (they are sent beside the deltas).
    snapshots = models.PositiveBigIntegerField(default=0)
    # A delivery task is queued and has not started: writers need not queue another.
    kicked = models.BooleanField(default=False)
    # One worker delivers an endpoint's events at a time, in order; a lease, not a held lock,
    # so a worker killed mid-delivery only delays the next one until the lease runs out.
    lease_holder = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    failures = models.PositiveIntegerField(default=0)  # consecutive
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url


SNAPSHOT = "inventory.snapshot"
# Several deltas in one message (Channel.deltas_per_message): at most this many.
BATCH = "inventory.batch"
MAX_BATCH = 500


class Channel(CompanyOwned):
    """A marketplace connected to the company: what it may buy, at which price, and where its
    feed goes."""

    marketplace = models.CharField(max_length=20, choices=Marketplace.choices)
    name = models.CharField(max_length=100)
    # The customer that represents the marketplace; its price level is the channel's.
    customer = models.ForeignKey("parties.Customer", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(
        "core.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tokens = models.ManyToManyField("tokens.ApiToken", blank=True, related_name="channels")
    sells_on_hand = models.BooleanField(default=True)
    sells_future = models.BooleanField(default=False)
    # Beside whole boxes (issue 14): bunches and stems of opened boxes, growers' offers
    # (vendor availability, origin 3) and hard goods (when the company offers them to channels).
    sells_units = models.BooleanField(default=True)
    sells_availability = models.BooleanField(default=False)
    sells_hard_goods = models.BooleanField(default=True)
    # At most this many boxes of one line are shown; `buffer` boxes of each line are kept back.
    line_cap = models.PositiveIntegerField(null=True, blank=True)
    buffer = models.PositiveIntegerField(default=0)
    fee_rate = models.DecimalField(max_digits=6, decimal_places=4, default="0.0150")
    endpoint = models.OneToOneField(
        Endpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="channel"
    )
    snapshot_every = models.PositiveIntegerField(default=300)  # seconds
    # Up to this many deltas in one signed message (`inventory.batch`, docs/channels.md) when
    # several are waiting; 1: one message per delta, for receivers that take only those.
    deltas_per_message = models.PositiveSmallIntegerField(default=1)
    checkout_on_add = models.BooleanField(default=False)
    # The hoarding limits of the marketplace's customer, in percent; empty: the company's.
    max_share_of_line = models.PositiveSmallIntegerField(null=True, blank=True)
    max_share_of_market = models.PositiveSmallIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "customer"], name="channel_one_per_customer"
            ),
            models.CheckConstraint(
                condition=Q(snapshot_every__gte=10), name="channel_snapshot_every_10s"
            ),
            models.CheckConstraint(
                condition=Q(fee_rate__gte=0) & Q(fee_rate__lt=1), name="channel_fee_rate"
            ),
            models.CheckConstraint(
                condition=Q(deltas_per_message__gte=1, deltas_per_message__lte=MAX_BATCH),
                name="channel_deltas_per_message",
            ),
            models.CheckConstraint(
                condition=Q(max_share_of_line__gte=1, max_share_of_line__lte=100),
                name="channel_max_share_of_line_percent",
            ),
            models.CheckConstraint(
                condition=Q(max_share_of_market__gte=1, max_share_of_market__lte=100),
                name="channel_max_share_of_market_percent",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Event(CompanyOwned):
    """One message to an endpoint (the outbox row) and the state of its delivery.

    Deltas (and confirmations) form the endpoint's ordered stream: numbered (`seq`) and sent
    one after the other. Snapshots (kind `inventory.snapshot`) are sent beside that stream and
    never numbered: a snapshot being built or sent never delays a delta."""

    class Status(models.IntegerChoices):
        PENDING = 0, "Pending"
        DELIVERED = 1, "Delivered"
        FAILED = 2, "Failed"  # retried for the whole retry window, then given up

    # No index of its own: every index of the table starts with the endpoint. Each index is
    # written at the insert, the numbering and the delivery of every event (issue 16).
    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    # Given by the endpoint's deliverer (outbox.number); None until then.
    seq = models.PositiveBigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=40)
    msg_id = models.CharField(max_length=40)  # unique: see Meta (never looked up by pattern)
    # Snapshots carry no payload here: the lines are read when the snapshot is sent.
    payload = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    line_id = models.BigIntegerField(null=True, blank=True)
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["endpoint_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "seq"], name="event_seq_per_endpoint"),
            # A constraint rather than unique=True: PostgreSQL then keeps no second,
            # pattern-matching index of the column.
            models.UniqueConstraint(fields=["msg_id"], name="event_msg_id_unique"),
        ]
        indexes = [
            models.Index(fields=["endpoint", "status", "seq"]),
            models.Index(
                fields=["endpoint", "id"],
                condition=models.Q(seq__isnull=True),
                name="event_unnumbered",
            ),
            # What the periodic tick reads: due events, and what pruning deletes. Partial, so
            # millions of delivered events cost the sweep nothing.
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(status=0), name="event_due"
            ),
            models.Index(
                fields=["delivered_at"], condition=models.Q(status=1), name="event_delivered"
            ),
            models.Index(fields=["created_at"], condition=models.Q(status=2), name="event_failed"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.seq}"


class Attempt(CompanyOwned):
    """One try at delivering an event: what the endpoint answered, or why it could not."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="attempts_log")
    at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    replay = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"attempt {self.pk}"


class SnapshotSlot(CompanyOwned):
    """The snapshot of one channel for one interval: the unique constraint lets only one of
    several schedulers queue it."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    slot = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "slot"], name="snapshot_once_per_slot"),
        ]

    def __str__(self) -> str:
        return f"snapshot {self.channel_id}@{self.slot}"
