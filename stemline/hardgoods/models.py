"""Hard-goods products, their stock in units per location, and the units sold on documents."""

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from stemline.core.models import CompanyOwned

SKU_MAX_LENGTH = 15
UPC_MAX_LENGTH = 20


class HardGoodCategory(CompanyOwned):
    """A category of supplies (Containers, Ribbon, ...): hard goods keep their own, apart from
    the flowers' catalogue categories."""

    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint("company", Upper("name"), name="hardgood_category_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="hardgood_category_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class HardGoodProduct(CompanyOwned):
    """One supply as one hard-goods vendor sells it (Komet's "hard-good vendor product")."""

    vendor = models.ForeignKey("parties.Vendor", on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(HardGoodCategory, on_delete=models.PROTECT, related_name="+")
    subcategory = models.CharField(max_length=100)
    description = models.CharField(max_length=200)
    sku = models.CharField(max_length=SKU_MAX_LENGTH)
    color = models.CharField(max_length=50, blank=True)
    # Units in one case (a case of 12 vases); stock and sales count units.
    pack_size = models.PositiveIntegerField()
    case_upc = models.CharField(max_length=UPC_MAX_LENGTH, blank=True)
    unit_upc = models.CharField(max_length=UPC_MAX_LENGTH, blank=True)
    unit_cost = models.DecimalField(max_digits=10, decimal_places=2)
    # The selling price per unit; without one, cost plus the markup.
    unit_price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    unit_price_markup = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    # A quantity discount: `discount` percent off when at least `qty_for_discount` cases
    # (of pack_size units) are bought at once.
    discount = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    qty_for_discount = models.PositiveIntegerField(default=0)
    active_per_item = models.BooleanField(default=True)
    active_per_vendor = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["description", "id"]
        constraints = [
            models.UniqueConstraint(
                "company", "vendor", Upper("sku"), name="hardgood_sku_unique_per_vendor"
            ),
            models.CheckConstraint(condition=~Q(sku=""), name="hardgood_sku_not_empty"),
            models.CheckConstraint(condition=Q(pack_size__gte=1), name="hardgood_pack_size"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="hardgood_cost"),
            models.CheckConstraint(
                condition=Q(unit_price__isnull=True) | Q(unit_price__gte=0),
                name="hardgood_price",
            ),
            models.CheckConstraint(
                condition=Q(discount__gte=0) & Q(discount__lte=100), name="hardgood_discount"
            ),
        ]

    @property
    def active(self) -> bool:
        return self.active_per_item and self.active_per_vendor

    @property
    def selling_price(self) -> Decimal:
        """The unit price a buyer pays before any quantity discount."""
        if self.unit_price is not None:
            return self.unit_price
        markup = self.unit_price_markup or Decimal("0")
        return (self.unit_cost * (1 + markup / 100)).quantize(Decimal("0.01"))

    def price_for(self, quantity: int, unit_price: Decimal | None = None) -> Decimal:
        """The unit price for `quantity` units, the quantity discount applied when it is met."""
        price = self.selling_price if unit_price is None else unit_price
        if (
            self.discount
            and self.qty_for_discount
            and quantity >= (self.qty_for_discount * self.pack_size)
        ):
            price = (price * (1 - self.discount / 100)).quantize(Decimal("0.01"))
        return price

    def __str__(self) -> str:
        return f"{self.sku} {self.description}"


class HardGoodInventory(CompanyOwned):
    """Units of one product received at one location (one per hardgood.inventory.add).

    total = units received; committed = on invoices; held = in pending web orders. What may
    still be sold is total - committed - held, never below zero (a database constraint).
    """

    product = models.ForeignKey(HardGoodProduct, on_delete=models.PROTECT, related_name="stock")
    location = models.ForeignKey("core.Location", on_delete=models.PROTECT, related_name="+")
    unit_cost = models.DecimalField(max_digits=10, decimal_places=2)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    total = models.PositiveIntegerField()
    committed = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["company", "product", "location"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(committed__lte=F("total") - F("held")),
                name="hardgood_never_oversold",
            ),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="hardgood_stock_cost"),
            models.CheckConstraint(
                condition=Q(unit_price__isnull=True) | Q(unit_price__gte=0),
                name="hardgood_stock_price",
            ),
        ]

    @property
    def available(self) -> int:
        return self.total - self.committed - self.held

    def __str__(self) -> str:
        return f"hard-goods inventory {self.pk}"


class HardGoodSale(CompanyOwned):
    """Units of a hard good on a sales document (an invoice or a pending web order).

    The document is named by kind and id, not by a foreign key: sales stands above this app
    and reaches down to it, never the other way.
    """

    class Document(models.TextChoices):
        INVOICE = "invoice"
        WEB_ORDER = "web_order"

    document_kind = models.CharField(max_length=10, choices=Document.choices)
    document_id = models.BigIntegerField()
    product = models.ForeignKey(HardGoodProduct, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey("core.Location", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    # Given back to stock (the invoice voided, the web order canceled or expired).
    released_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["company", "document_kind", "document_id"])]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="hardgood_sale_qty"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="hardgood_sale_price"),
        ]

    def __str__(self) -> str:
        return f"hard-goods sale {self.pk}"


class HardGoodTake(models.Model):
    """Which inventory rows a sale's units came from, so giving them back is exact."""

    sale = models.ForeignKey(HardGoodSale, on_delete=models.CASCADE, related_name="takes")
    inventory = models.ForeignKey(HardGoodInventory, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} units of hard-goods inventory {self.inventory_id}"
