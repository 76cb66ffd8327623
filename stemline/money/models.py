"""The receivables ledger: each confirmed invoice's open amount, customer payments and their
applications, credits (credit memos) with their lines, reasons and comments, vendor credits
passed on to growers, opening balances, and the payment/credit change feeds."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Upper

from stemline.core.models import CompanyOwned

SLACK = Value(Decimal("0.001"))


class Receivable(CompanyOwned):
    """A confirmed invoice as the ledger sees it. `open_amount` is kept equal to what is owed
    (total less payments, discounts and approved credits applied) by a database check, so
    the aging report and the statements read one row per invoice."""

    invoice = models.OneToOneField(
        "sales.Invoice", on_delete=models.CASCADE, related_name="receivable"
    )
    customer = models.ForeignKey("parties.Customer", on_delete=models.PROTECT, related_name="+")
    invoice_date = models.DateField()
    due_date = models.DateField()
    total = models.DecimalField(max_digits=14, decimal_places=2)
    paid = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    credited = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    open_amount = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            # Within a tenth of a cent: SQLite evaluates the arithmetic in floating point.
            models.CheckConstraint(
                condition=Q(open_amount__gte=F("total") - F("paid") - F("credited") - SLACK)
                & Q(open_amount__lte=F("total") - F("paid") - F("credited") + SLACK),
                name="receivable_open_is_total_less_settled",
            ),
            models.CheckConstraint(condition=Q(open_amount__gte=0), name="receivable_open_gte0"),
            models.CheckConstraint(condition=Q(paid__gte=0), name="receivable_paid_gte0"),
            models.CheckConstraint(condition=Q(credited__gte=0), name="receivable_credited_gte0"),
        ]
        indexes = [
            models.Index(
                fields=["company", "customer", "due_date"],
                condition=Q(open_amount__gt=0),
                name="receivable_open_by_customer",
            ),
        ]

    def __str__(self) -> str:
        return f"receivable {self.invoice_id} open {self.open_amount}"


class Payment(CompanyOwned):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        VOIDED = "voided", "Voided"

    location = models.ForeignKey("core.Location", on_delete=models.PROTECT, related_name="+")
    control_number = models.PositiveIntegerField()
    customer = models.ForeignKey("parties.Customer", on_delete=models.PROTECT, related_name="+")
    method = models.ForeignKey("parties.PaymentMethod", on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    reference_number = models.CharField(max_length=100, blank=True)
    notes = models.CharField(max_length=200, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    # The part of `amount` applied to invoices (discounts do not use the payment's money);
    # the rest is the overpayment left on account.
    applied = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    void_reason = models.CharField(max_length=200, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    via_api = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Accounting sync (export once): a synced payment is locked like a synced invoice.
    synced = models.BooleanField(default=False)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "location", "control_number"], name="payment_control_number"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_gt0"),
            models.CheckConstraint(
                condition=Q(applied__gte=0) & Q(applied__lte=F("amount")),
                name="payment_applied_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "voided"]), name="payment_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["company", "customer", "date"], name="payment_customer_date"),
            models.Index(fields=["company", "date"], name="payment_date"),
        ]

    @property
    def unapplied(self):
        return self.amount - self.applied if self.status == self.Status.ACTIVE else 0

    def __str__(self) -> str:
        return f"payment {self.control_number}"


class CreditReason(CompanyOwned):
    """Why a credit is given (Damaged, Short, ...): a company list, seeded for every company."""

    name = models.CharField(max_length=50)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint("company", Upper("name"), name="credit_reason_name_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="credit_reason_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


STANDARD_REASONS = ("Damaged", "Short", "Quality", "Wrong product", "Late delivery")


class CreditStatus(models.IntegerChoices):
    # Komet's codes (reference §3.7).
    NEW = 1, "New"
    PENDING_REVIEW = 2, "Pending Review"
    APPROVED = 3, "Approved"
    REJECTED = 4, "Rejected"
    RESUBMITTED = 5, "Resubmitted"


class Credit(CompanyOwned):
    """A credit memo on an invoice (its lines, or one of its additional charges), or an opening
    balance loaded from a previous system. Only an approved one changes balances: its amount
    goes to its invoice's open amount as far as that reaches, the rest stays on account as an
    open credit (`amount - applied`) that later invoices can take."""

    class Kind(models.TextChoices):
        MEMO = "memo", "Credit memo"
        OPENING = "opening", "Opening balance"

    location = models.ForeignKey("core.Location", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MEMO)
    customer = models.ForeignKey("parties.Customer", on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(
        "sales.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A standalone credit against one of the invoice's additional charges.
    charge = models.ForeignKey(
        "sales.InvoiceCharge", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField()
    status = models.PositiveSmallIntegerField(
        choices=CreditStatus.choices, default=CreditStatus.NEW
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    applied = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    synced = models.BooleanField(default=False)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "location", "number"], name="credit_number_per_location"
            ),
            models.CheckConstraint(condition=Q(status__in=[1, 2, 3, 4, 5]), name="credit_status"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="credit_amount_gte0"),
            models.CheckConstraint(
                condition=Q(applied__gte=0) & Q(applied__lte=F("amount")),
                name="credit_applied_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["memo", "opening"]), name="credit_kind_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["company", "date"], name="credit_date"),
            models.Index(fields=["company", "customer", "status"], name="credit_customer_status"),
        ]

    @property
    def open_amount(self):
        return self.amount - self.applied if self.status == CreditStatus.APPROVED else 0

    def __str__(self) -> str:
        return f"credit {self.number}"


class CreditLine(CompanyOwned):
    class ItemType(models.TextChoices):
        BOX = "box", "Boxes"
        UNIT = "UN", "Units"

    credit = models.ForeignKey(Credit, on_delete=models.CASCADE, related_name="lines")
    invoice_item = models.ForeignKey(
        "sales.InvoiceItem", on_delete=models.PROTECT, related_name="+"
    )
    item_type = models.CharField(max_length=3, choices=ItemType.choices)
    quantity = models.PositiveIntegerField()
    # The quantity in units (boxes x units per box for a box credit): what the line's
    # invoiced units cap across all its credits.
    units = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.ForeignKey(CreditReason, on_delete=models.PROTECT, related_name="+")
    photo = models.FileField(upload_to="credit-photos/", blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="credit_line_quantity"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="credit_line_amount"),
            models.CheckConstraint(
                condition=Q(item_type__in=["box", "UN"]), name="credit_line_item_type"
            ),
        ]

    def __str__(self) -> str:
        return f"credit line {self.pk}"


class CreditComment(CompanyOwned):
    credit = models.ForeignKey(Credit, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=150)
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"comment {self.pk}"


class Application(CompanyOwned):
    """Money of a payment (or an open credit) put against one invoice; `discount` reduces the
    invoice without using the payment's money. A voided application no longer counts."""

    receivable = models.ForeignKey(Receivable, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="applications"
    )
    credit = models.ForeignKey(
        Credit, null=True, blank=True, on_delete=models.PROTECT, related_name="applications"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(payment__isnull=False) & Q(credit__isnull=True))
                | (Q(payment__isnull=True) & Q(credit__isnull=False)),
                name="application_one_source",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="application_amount"),
            models.CheckConstraint(condition=Q(discount__gte=0), name="application_discount"),
        ]

    def __str__(self) -> str:
        return f"application {self.pk}"


class VendorCredit(CompanyOwned):
    """An approved customer credit on boxes of a vendor's AWB passed on to that vendor: what
    the company claims back, at the boxes' cost."""

    vendor = models.ForeignKey("parties.Vendor", on_delete=models.PROTECT, related_name="+")
    credit_line = models.OneToOneField(
        CreditLine, on_delete=models.CASCADE, related_name="vendor_credit"
    )
    awb = models.CharField(max_length=25, blank=True)
    units = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"vendor credit {self.pk}"


class MoneyChange(CompanyOwned):
    """The feeds `payment.sync` and `credit.sync`: one row per change of a payment or credit."""

    feed = models.CharField(max_length=10)  # "payments" or "credits"
    seq = models.PositiveBigIntegerField()
    object_id = models.BigIntegerField()
    kind = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["company", "feed", "seq"], name="money_change_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.feed} {self.seq} {self.kind} {self.object_id}"
