"""Purchase orders to growers, their lines (each backed by an inventory line), AWBs with the
boxes shipped on them, prebook lines delivered onto invoices, and vendors' invoice files."""

import uuid

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from stemline.core.models import CompanyOwned
from stemline.inventory.models import AWB_MAX_LENGTH


class PurchaseOrder(CompanyOwned):
    class Status(models.TextChoices):
        # Komet's spelling (reference §3.5).
        PENDING_APPROVAL = "Pending Approval"
        APPROVED = "Approved"
        CONFIRMED = "Confirmed by Farm"
        CANCELLED = "Cancelled"

    number = models.CharField(max_length=10)
    location = models.ForeignKey("core.Location", on_delete=models.PROTECT, related_name="+")
    vendor = models.ForeignKey("parties.Vendor", on_delete=models.PROTECT, related_name="+")
    carrier = models.ForeignKey(
        "parties.Carrier", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ship_date = models.DateField()
    # When the boxes are expected; the backing inventory lines are future until received.
    arrival_date = models.DateField()
    awb_number = models.CharField(max_length=AWB_MAX_LENGTH, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.APPROVED)
    created_by_vendor = models.BooleanField(default=False)
    # The purchase-order feed (`purchase.order.sync`): the sequence number of the last change,
    # given after it commits (None until then: inventory.feeds).
    seq = models.PositiveBigIntegerField(default=0, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["company", "ship_date"]),
            models.Index(fields=["company", "seq"]),
        ]
        constraints = [
            models.UniqueConstraint("company", Upper("number"), name="po_number_unique"),
            models.CheckConstraint(
                condition=Q(
                    status__in=["Pending Approval", "Approved", "Confirmed by Farm", "Cancelled"]
                ),
                name="po_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class Awb(CompanyOwned):
    """An air waybill: the boxes growers shipped on it and how many were received."""

    number = models.CharField(max_length=AWB_MAX_LENGTH)
    house_awb = models.CharField(max_length=AWB_MAX_LENGTH, blank=True)
    origin = models.CharField(max_length=5, blank=True)
    location = models.ForeignKey("core.Location", on_delete=models.PROTECT, related_name="+")
    ship_date = models.DateField()
    arrival_date = models.DateField(null=True, blank=True)
    pieces = models.PositiveIntegerField(default=0)
    pieces_received = models.PositiveIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["company", "ship_date"])]
        constraints = [
            models.UniqueConstraint("company", Upper("number"), name="awb_number_unique"),
            models.CheckConstraint(
                condition=Q(pieces_received__lte=F("pieces")), name="awb_received_within_pieces"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class PurchaseOrderItem(CompanyOwned):
    """A PO line. It is backed by an inventory line and shares its id, so a PO item id is the
    future-inventory id customers buy ahead (`future.inventory.openmarket.list`)."""

    class Status(models.TextChoices):
        PENDING = "Pending"
        CONFIRMED = "Confirmed"
        CANCELLED = "Cancelled"
        PARTIAL = "Partially Confirmed"

    line = models.OneToOneField(
        "inventory.InventoryLine",
        primary_key=True,
        on_delete=models.PROTECT,
        related_name="po_item",
    )
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="items"
    )
    prebook_item = models.ForeignKey(
        "sales.PrebookItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # P prebook, S standing order, D double (reference); blank for the open market.
    order_type = models.CharField(max_length=1, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    boxes = models.PositiveIntegerField()
    confirmed_boxes = models.PositiveIntegerField(default=0)
    notes = models.CharField(max_length=200, blank=True)
    is_mixed = models.BooleanField(default=False)
    split_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    awb = models.ForeignKey(
        Awb, null=True, blank=True, on_delete=models.PROTECT, related_name="items"
    )
    shipped_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["line_id"]
        constraints = [
            models.CheckConstraint(condition=Q(boxes__gte=1), name="po_item_boxes_positive"),
            models.CheckConstraint(
                condition=Q(confirmed_boxes__lte=F("boxes")), name="po_item_confirmed_within"
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["Pending", "Confirmed", "Cancelled", "Partially Confirmed"]
                ),
                name="po_item_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"PO item {self.line_id}"


class Breakdown(CompanyOwned):
    """What an assorted (mixed) box holds."""

    item = models.ForeignKey(PurchaseOrderItem, on_delete=models.CASCADE, related_name="breakdowns")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    unit_type = models.CharField(max_length=5)
    bunches = models.PositiveIntegerField()
    stems_bunch = models.PositiveIntegerField()
    unit_cost = models.DecimalField(max_digits=10, decimal_places=3)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(bunches__gte=1), name="po_breakdown_bunches"),
            models.CheckConstraint(condition=Q(stems_bunch__gte=1), name="po_breakdown_stems"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="po_breakdown_cost"),
        ]

    def __str__(self) -> str:
        return f"breakdown {self.pk}"


class AwbBox(CompanyOwned):
    """A box a grower put on an AWB, and when the warehouse received it."""

    box = models.OneToOneField(
        "inventory.Box", primary_key=True, on_delete=models.CASCADE, related_name="awb_box"
    )
    awb = models.ForeignKey(Awb, on_delete=models.CASCADE, related_name="boxes")
    item = models.ForeignKey(
        PurchaseOrderItem, on_delete=models.CASCADE, related_name="shipped_boxes"
    )
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["box_id"]

    def __str__(self) -> str:
        return f"box {self.box_id} on {self.awb_id}"


class PrebookDelivery(CompanyOwned):
    """A prebook line whose boxes arrived and went onto an invoice line (the boxes stay
    committed on the inventory line, now to the invoice)."""

    prebook_item = models.OneToOneField(
        "sales.PrebookItem", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    invoice_item = models.OneToOneField(
        "sales.InvoiceItem", on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"prebook item {self.prebook_item_id} -> invoice item {self.invoice_item_id}"


def _invoice_path(instance, filename: str) -> str:
    # Never the uploader's name: a random one under the company, with the checked extension.
    return f"vendor-invoices/{instance.company_id}/{uuid.uuid4().hex}{filename}"


class VendorInvoice(CompanyOwned):
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.PROTECT, related_name="vendor_invoices"
    )
    vendor = models.ForeignKey("parties.Vendor", on_delete=models.PROTECT, related_name="+")
    invoice_number = models.CharField(max_length=200, blank=True)
    invoice_total = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    file = models.FileField(upload_to=_invoice_path, max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    # Set when it came by e-mail (vendor.invoice.mail.receive): the checked sender.
    mail_from = models.CharField(max_length=254, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"vendor invoice {self.invoice_number or self.pk}"
