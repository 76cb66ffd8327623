"""Growers' offers (vendor availability), the company's markup over them, and the purchase
order lines their sold boxes went onto."""

from decimal import Decimal

from django.db import models
from django.db.models import F, Q

from stemline.core.models import CompanyOwned


class Settings(CompanyOwned):
    """How a company sells its growers' offers: at the grower's cost plus this markup."""

    markup_percent = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("30"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company"], name="availability_settings_unique"),
            models.CheckConstraint(
                condition=Q(markup_percent__gte=0), name="availability_markup_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"markup {self.markup_percent}%"


class Offer(CompanyOwned):
    """One grower's offer of a product and pack for a shipping window.

    It is backed by an inventory line with the same id (the vendor-availability item id of the
    API): the line's `total` is what is left of the offer to sell (`offered - bought`), and its
    held and committed boxes are what shops are selling of it right now, under the inventory's
    never-oversold constraint. `bought`: boxes sold and moved onto purchase orders to the
    grower; an upload never takes the offer below them.
    """

    line = models.OneToOneField(
        "inventory.InventoryLine", primary_key=True, on_delete=models.PROTECT, related_name="+"
    )
    vendor = models.ForeignKey("parties.Vendor", on_delete=models.PROTECT, related_name="+")
    available_from = models.DateField()
    available_to = models.DateField()
    offered = models.PositiveIntegerField()
    bought = models.PositiveIntegerField(default=0)
    # What the grower called the product (its own code or name), as the upload had it.
    vendor_product = models.CharField(max_length=100, blank=True)
    post_harvest = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["line_id"]
        indexes = [models.Index(fields=["company", "vendor", "available_to"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(bought__lte=F("offered")), name="offer_bought_within_offered"
            ),
            models.CheckConstraint(
                condition=Q(available_to__gte=F("available_from")), name="offer_window_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"offer {self.line_id}"


class Purchase(CompanyOwned):
    """Boxes of an offer, sold on a prebook line, bought on a purchase-order line."""

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="purchases")
    po_item = models.OneToOneField(
        "purchasing.PurchaseOrderItem", on_delete=models.CASCADE, related_name="+"
    )
    prebook_item = models.ForeignKey(
        "sales.PrebookItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    boxes = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(boxes__gte=1), name="purchase_boxes_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.boxes} boxes of offer {self.offer_id}"
