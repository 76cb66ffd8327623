"""Sales documents: web orders (the cart), invoices (on-hand boxes) and prebooks (future boxes)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from stemline.core.models import CompanyOwned


class WebOrder(CompanyOwned):
    class Status(models.IntegerChoices):
        PENDING = 1, "Pending"
        CHECKED_OUT = 2, "Checked out"
        CANCELED = 3, "Canceled"
        EXPIRED = 4, "Expired"

    customer = models.ForeignKey("parties.Customer", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey("core.Location", on_delete=models.PROTECT, related_name="+")
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.PENDING)
    customer_po = models.CharField(max_length=50, blank=True)
    token = models.ForeignKey(
        "tokens.ApiToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Boxes in a pending order are held until then; a background task releases them after.
    hold_expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["status", "hold_expires_at"]),
            # A customer's pending order at a location, found by every add: without it the
            # look-up reads the company's orders, however old (core.shapes writes the status
            # into the statement's text, so its prepared plan can use this partial index).
            models.Index(
                fields=["company", "customer", "location", "id"],
                condition=Q(status=1),
                name="web_order_pending",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[1, 2, 3, 4]), name="web_order_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"web order {self.pk}"


class WebOrderItem(CompanyOwned):
    web_order = models.ForeignKey(WebOrder, on_delete=models.CASCADE, related_name="items")
    line = models.ForeignKey("inventory.InventoryLine", on_delete=models.PROTECT, related_name="+")
    origin = models.PositiveSmallIntegerField()
    quantity = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=10, decimal_places=3)
    carrier = models.ForeignKey(
        "parties.Carrier", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ship_to = models.ForeignKey(
        "parties.ShipTo", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ship_date = models.DateField(null=True, blank=True)
    mark_code = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="web_order_item_qty"),
            models.CheckConstraint(condition=Q(price__gte=0), name="web_order_item_price"),
        ]

    def __str__(self) -> str:
        return f"web order item {self.pk}"


class DocumentStatus(models.IntegerChoices):
    # Komet's codes (reference §3.3).
    PENDING_APPROVAL = 0, "Pending Approval"
    CONFIRMED = 1, "Confirmed"
    DRAFT = 2, "Draft"
    VOIDED = 4, "Voided"


class Document(CompanyOwned):
    """What an invoice and a prebook share: header, numbering, status and fee."""

    location = models.ForeignKey("core.Location", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()
    customer = models.ForeignKey("parties.Customer", on_delete=models.PROTECT, related_name="+")
    ship_to = models.ForeignKey(
        "parties.ShipTo", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    carrier = models.ForeignKey(
        "parties.Carrier", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ship_date = models.DateField(null=True, blank=True)
    customer_po = models.CharField(max_length=50, blank=True)
    status = models.PositiveSmallIntegerField(
        choices=DocumentStatus.choices, default=DocumentStatus.PENDING_APPROVAL
    )
    # Documents made through the API carry a fee (contract §3); the company's own do not.
    via_api = models.BooleanField(default=True)
    fee_rate = models.DecimalField(max_digits=6, decimal_places=4, default=0)
    transaction_fee = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    web_order = models.ForeignKey(
        WebOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True


class Invoice(Document):
    # The header fields of invoice.create / invoice.update (reference §2.E).
    reference = models.CharField(max_length=20, blank=True)
    warehouse_instructions = models.CharField(max_length=200, blank=True)
    invoice_notes = models.CharField(max_length=200, blank=True)
    # Accounting sync (reference §1.7): a synchronized invoice is locked for everyone until it
    # is marked with an error; `status_before_confirm` is where `unconfirm` takes it back.
    synced = models.BooleanField(default=False)
    synced_at = models.DateTimeField(null=True, blank=True)
    sync_error = models.CharField(max_length=50, blank=True)
    status_before_confirm = models.PositiveSmallIntegerField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    # The customer's additional charges (fuel surcharge, ...) and tax on the lines' amount,
    # set with the lines (sales.charges); `charges` holds them one by one.
    additional_charges = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    taxes = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    # When the PDF was last e-mailed to the customer (sendInvoiceVia Email), so a retried
    # task does not send one confirmation twice.
    emailed_at = models.DateTimeField(null=True, blank=True)
    # Shipping (invoice/print-status/update, invoice.pod.receive): when box labels and the bill
    # of lading were last printed, and when the proof of delivery came in.
    labels_printed_at = models.DateTimeField(null=True, blank=True)
    bol_printed_at = models.DateTimeField(null=True, blank=True)
    pod_received_at = models.DateTimeField(null=True, blank=True)
    # Why it waits for a sales rep although it came through the API (credit hold, over the
    # credit limit), shown on the Orders page when it is confirmed.
    hold_reason = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    @property
    def total(self):
        """What the customer owes: lines + additional charges + taxes."""
        return self.amount + self.additional_charges + self.taxes

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "location", "number"], name="invoice_number_per_location"
            ),
            models.CheckConstraint(condition=Q(status__in=[0, 1, 2, 4]), name="invoice_status"),
            models.CheckConstraint(condition=Q(transaction_fee__gte=0), name="invoice_fee"),
        ]
        indexes = [models.Index(fields=["company", "ship_date"], name="invoice_ship_date")]

    def __str__(self) -> str:
        return f"invoice {self.number}"


class Prebook(Document):
    class Kind(models.TextChoices):
        PREBOOK = "P", "Prebook"
        STANDING_ORDER = "S", "Standing order"

    kind = models.CharField(max_length=1, choices=Kind.choices, default=Kind.PREBOOK)
    ship_via = models.PositiveSmallIntegerField(default=0)  # 0 warehouse, 1 grower
    comments = models.CharField(max_length=200, blank=True)
    is_ecommerce = models.BooleanField(default=False)
    standing_order = models.ForeignKey(
        "StandingOrder", null=True, blank=True, on_delete=models.SET_NULL, related_name="prebooks"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A prebook voided or rejected (an API order the company refused) says why, as an
    # invoice's void does; prebook.list shows it.
    void_reason = models.CharField(max_length=300, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    # A deleted prebook stays (purchase orders may name its lines); lists no longer show it.
    deleted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "location", "number"], name="prebook_number_per_location"
            ),
            models.CheckConstraint(condition=Q(status__in=[0, 1, 2, 4]), name="prebook_status"),
            models.CheckConstraint(condition=Q(transaction_fee__gte=0), name="prebook_fee"),
            # One generated prebook per standing order and truck day, however many workers run.
            models.UniqueConstraint(
                fields=["standing_order", "ship_date"],
                condition=Q(standing_order__isnull=False),
                name="prebook_one_per_standing_order_day",
            ),
            models.CheckConstraint(condition=Q(kind__in=["P", "S"]), name="prebook_kind"),
        ]
        indexes = [models.Index(fields=["company", "ship_date"], name="prebook_ship_date")]

    def __str__(self) -> str:
        return f"prebook {self.number}"


class DocumentItem(CompanyOwned):
    line = models.ForeignKey(
        "inventory.InventoryLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    box_type = models.ForeignKey("catalog.BoxType", on_delete=models.PROTECT, related_name="+")
    boxes = models.PositiveIntegerField()
    unit_type = models.CharField(max_length=5)
    units_per_box = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=10, decimal_places=3)
    mark_code = models.CharField(max_length=20, blank=True)
    web_order_item = models.ForeignKey(
        WebOrderItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def amount(self):
        return self.boxes * self.units_per_box * self.price


class InvoiceItem(DocumentItem):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="items")
    product_alias = models.CharField(max_length=50, blank=True)
    notes = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(boxes__gte=1), name="invoice_item_boxes")]

    def __str__(self) -> str:
        return f"invoice item {self.pk}"


class InvoiceCharge(CompanyOwned):
    """One additional charge or tax on an invoice, as it was worked out for it: the charge's
    name and the customer's value are copied so a later change of either leaves it alone."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="charges")
    charge = models.ForeignKey(
        "parties.AdditionalCharge",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=100)
    purpose = models.CharField(max_length=10)
    amount_type = models.CharField(max_length=1)
    value = models.DecimalField(max_digits=10, decimal_places=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="invoice_charge_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.amount}"


def _pod_path(instance, filename: str) -> str:
    # Never the sender's name: a random one under the company, with the checked extension.
    return f"proofs-of-delivery/{instance.company_id}/{uuid.uuid4().hex}{filename}"


class ProofOfDelivery(CompanyOwned):
    """The proof-of-delivery file of an invoice (one per invoice: a new one replaces it)."""

    invoice = models.OneToOneField(Invoice, on_delete=models.CASCADE, related_name="pod")
    file = models.FileField(upload_to=_pod_path, max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    received_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"proof of delivery of invoice {self.invoice_id}"


class PrebookItem(DocumentItem):
    prebook = models.ForeignKey(Prebook, on_delete=models.CASCADE, related_name="items")
    vendor = models.ForeignKey(
        "parties.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    bunches = models.PositiveIntegerField(null=True, blank=True)
    stems_bunch = models.PositiveIntegerField(null=True, blank=True)
    cost = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    notes = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(boxes__gte=0), name="prebook_item_boxes")]

    def __str__(self) -> str:
        return f"prebook item {self.pk}"


class NumberCounter(CompanyOwned):
    """The last invoice or prebook number per location."""

    location = models.ForeignKey("core.Location", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10)
    value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "location", "kind"], name="number_counter_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}={self.value}"


class PrebookBreakdown(CompanyOwned):
    """One product packed in an assorted (mixed) box of a prebook line."""

    item = models.ForeignKey(PrebookItem, on_delete=models.CASCADE, related_name="breakdowns")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    stems_bunch = models.PositiveIntegerField()
    bunches = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=10, decimal_places=3, default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(bunches__gte=1), name="breakdown_bunches"),
            models.CheckConstraint(condition=Q(stems_bunch__gte=1), name="breakdown_stems"),
        ]

    def __str__(self) -> str:
        return f"breakdown {self.pk}"


class DocumentChange(CompanyOwned):
    """The change feeds `invoice.sync` and `prebook.sync`: one row per change of a document,
    numbered per company and feed after commit (inventory.feeds, as inventory.sync)."""

    feed = models.CharField(max_length=10)  # "invoices" or "prebooks"
    # Given after commit (inventory.feeds); readers number the feed before reading.
    seq = models.PositiveBigIntegerField(null=True, blank=True)
    document_id = models.BigIntegerField()
    kind = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "feed", "seq"], name="document_change_seq_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["company", "feed", "id"],
                condition=models.Q(seq__isnull=True),
                name="document_change_unnumbered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.feed} {self.seq} {self.kind} {self.document_id}"


class StandingOrder(CompanyOwned):
    """A recurring order: every `recurrence` weeks, on its truck days, it becomes a prebook
    (type S) made by a background task."""

    class Status(models.TextChoices):
        ACTIVE = "Active"
        CANCELLED = "Cancelled"

    number = models.PositiveIntegerField()
    location = models.ForeignKey("core.Location", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("parties.Customer", on_delete=models.PROTECT, related_name="+")
    carrier = models.ForeignKey(
        "parties.Carrier", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ship_to = models.ForeignKey(
        "parties.ShipTo", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    recurrence = models.PositiveSmallIntegerField(default=1)
    # Monday=0 ... Sunday=6, as date.weekday() counts them.
    truck_days = models.JSONField(default=list)
    ship_via = models.PositiveSmallIntegerField(default=0)
    customer_po = models.CharField(max_length=20, blank=True)
    comments = models.CharField(max_length=200, blank=True)
    invoice_notes = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    via_api = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "location", "number"], name="standing_order_number"
            ),
            models.CheckConstraint(
                condition=Q(recurrence__gte=1) & Q(recurrence__lte=4),
                name="standing_order_recurrence",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["Active", "Cancelled"]), name="standing_order_status"
            ),
        ]

    def __str__(self) -> str:
        return f"standing order {self.number}"


class StandingOrderItem(CompanyOwned):
    standing_order = models.ForeignKey(
        StandingOrder, on_delete=models.CASCADE, related_name="items"
    )
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    box_type = models.ForeignKey("catalog.BoxType", on_delete=models.PROTECT, related_name="+")
    vendor = models.ForeignKey(
        "parties.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit_type = models.CharField(max_length=5)
    boxes = models.PositiveIntegerField()
    bunches = models.PositiveIntegerField()
    stems_bunch = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=10, decimal_places=3)
    mark_code = models.CharField(max_length=20, blank=True)
    notes = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(boxes__gte=1), name="standing_item_boxes"),
            models.CheckConstraint(condition=Q(price__gte=0), name="standing_item_price"),
        ]

    @property
    def units_per_box(self) -> int:
        return self.bunches if self.unit_type == "Bunch" else self.bunches * self.stems_bunch

    def __str__(self) -> str:
        return f"standing order item {self.pk}"
