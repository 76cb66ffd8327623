"""Open Market inventory: lines of boxes on hand or coming, and what is sold or held of them."""

from django.db import models
from django.db.models import ExpressionWrapper, F, Q
from django.db.models.functions import Mod, Upper
from django.db.models.lookups import Exact

from stemline.catalog.models import UnitType
from stemline.core.models import CompanyOwned

# One length for an AWB number everywhere it is stored or accepted: the purchasing API takes
# 25 characters (`purchase.order.items.awb.add`, str25), and a received AWB's number is copied
# onto the inventory lines it fills, so their column must hold as much.
AWB_MAX_LENGTH = 25


class Origin(models.IntegerChoices):
    # The contract's inventoryOrigin values this platform offers.
    ON_HAND = 1, "On hand (Open Market)"
    FUTURE = 2, "Future Sales"
    # A grower's offer (stemline.availability): bought from the grower once a customer buys it.
    VENDOR_AVAILABILITY = 3, "Vendor Availability"


class InventoryLine(CompanyOwned):
    """Boxes of one product, pack and price from one vendor on one AWB.

    total = boxes on the line; committed = on invoices and prebooks; held = in pending web
    orders. What may still be sold is total - committed - held, never below zero (a database
    constraint, so no code path can oversell).
    """

    location = models.ForeignKey("core.Location", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    box_type = models.ForeignKey("catalog.BoxType", on_delete=models.PROTECT, related_name="+")
    vendor = models.ForeignKey(
        "parties.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reserved_for = models.ForeignKey(
        "parties.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    awb = models.CharField(max_length=AWB_MAX_LENGTH, blank=True)
    is_tmp_awb = models.BooleanField(default=False)
    reference = models.CharField(max_length=20, blank=True)
    lot_number = models.CharField(max_length=20, blank=True)
    mark_code = models.CharField(max_length=20, blank=True)
    ship_date = models.DateField(null=True, blank=True)
    # After today: future inventory (sold ahead as prebooks); today or before: on hand.
    arrival_date = models.DateField(null=True, blank=True)
    # Boxes of a purchase order not received yet: future whatever the date says (a late AWB
    # must not sell as on hand); receiving clears it.
    in_transit = models.BooleanField(default=False)
    # Set on a grower's offer (vendor availability, origin 3): the last day the grower can ship
    # it. Such a line is neither on hand nor future; its boxes are bought from the grower on a
    # purchase order once sold (stemline.availability). Null on every box line.
    offered_until = models.DateField(null=True, blank=True)
    unit_type = models.CharField(max_length=5, choices=UnitType.choices)
    bunches = models.PositiveIntegerField()
    stems_bunch = models.PositiveIntegerField()
    unit_cost = models.DecimalField(max_digits=10, decimal_places=3)
    price_a = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    price_b = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    total = models.PositiveIntegerField()
    committed = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)
    # Boxes left to sell, kept by the database. The index of lines to sell names this column,
    # not total, committed and held, so a hold or a sale that leaves a line with boxes changes
    # no indexed column and PostgreSQL can make it a HOT update (no new entry in any of the
    # table's indexes; the busiest lines are updated twice an order).
    has_stock = models.GeneratedField(
        expression=ExpressionWrapper(
            Q(total__gt=F("committed") + F("held")), output_field=models.BooleanField()
        ),
        output_field=models.BooleanField(),
        db_persist=True,
    )
    external_id = models.CharField(max_length=100, blank=True)
    # Units inventory (Komet's "Sell by Units"): a units line holds loose bunches or stems,
    # and its total, committed and held count units of its unit_type (bunches or stems), not
    # boxes; stems always in whole bunches. It comes from opening boxes of `opened_from`
    # (irreversibly: those boxes leave the box line's total and count in its `opened`) or
    # from inventory.units.add (a farm's block, bed, cutter and cut date).
    in_units = models.BooleanField(default=False)
    opened = models.PositiveIntegerField(default=0)
    opened_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="units_lines"
    )
    block = models.CharField(max_length=20, blank=True)
    bed = models.CharField(max_length=20, blank=True)
    cutter = models.PositiveIntegerField(null=True, blank=True)
    cut_date = models.DateField(null=True, blank=True)
    confirm_inventory = models.BooleanField(default=False)
    source_token = models.ForeignKey(
        "tokens.ApiToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["company", "arrival_date"]),
            # Lines with boxes to sell, by product: the web shop reads a page of them in
            # product-description order (walking product_by_desc) and counts them, from the
            # index alone, however many sold-out lines the table holds.
            models.Index(
                fields=["product", "id"],
                include=[
                    "company",
                    "location",
                    "reserved_for",
                    "price_a",
                    "price_b",
                    "in_transit",
                    "arrival_date",
                ],
                condition=Q(has_stock=True),
                name="line_available_by_product",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(committed__lte=F("total") - F("held")),
                name="inventory_never_oversold",
            ),
            models.CheckConstraint(condition=Q(bunches__gte=1), name="inventory_bunches_positive"),
            models.CheckConstraint(
                condition=Q(stems_bunch__gte=1), name="inventory_stems_bunch_positive"
            ),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="inventory_cost_positive"),
            models.CheckConstraint(
                condition=Q(price_a__isnull=True) | Q(price_a__gte=0), name="inventory_price_a"
            ),
            models.CheckConstraint(
                condition=Q(price_b__isnull=True) | Q(price_b__gte=0), name="inventory_price_b"
            ),
            models.CheckConstraint(
                condition=Q(unit_type__in=UnitType.values), name="inventory_unit_type_valid"
            ),
            # A units line is never opened again; stems are kept in whole bunches.
            models.CheckConstraint(
                condition=Q(in_units=False) | Q(opened=0), name="inventory_units_not_opened"
            ),
            models.CheckConstraint(
                condition=Q(in_units=False)
                | Q(unit_type=UnitType.BUNCH)
                | Exact(Mod("total", "stems_bunch"), 0),
                name="inventory_units_whole_bunches",
            ),
        ]

    @property
    def available(self) -> int:
        return self.total - self.committed - self.held

    @property
    def units_per_box(self) -> int:
        # A units line counts units: each one is a unit (its amount is units x price).
        if self.in_units:
            return 1
        return self.bunches if self.unit_type == UnitType.BUNCH else self.bunches * self.stems_bunch

    def origin_on(self, today) -> int:
        if self.offered_until is not None:
            return Origin.VENDOR_AVAILABILITY
        if self.in_transit or (self.arrival_date and self.arrival_date > today):
            return Origin.FUTURE
        return Origin.ON_HAND

    def __str__(self) -> str:
        return f"inventory line {self.pk}"


class Box(CompanyOwned):
    """One physical box of a line, labelled with a code unique in the company."""

    line = models.ForeignKey(InventoryLine, on_delete=models.CASCADE, related_name="boxes")
    code = models.CharField(max_length=30)
    removed_at = models.DateTimeField(null=True, blank=True)
    # Opened into the units inventory (irreversible); an opened box is no longer a box.
    opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint("company", Upper("code"), name="box_code_unique"),
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True) | Q(opened_at__isnull=True),
                name="box_removed_or_opened",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class InventoryChange(CompanyOwned):
    """The change feed (`inventory.sync`): one row per change of what can be bought.

    `seq` is per company, given after the change commits (inventory.feeds): a reader numbers
    the feed before reading, so one that saw seq N has seen every change numbered before it.
    No writer waits on a company-wide counter.
    """

    class Kind(models.TextChoices):
        ADDED = "added"
        UPDATED = "updated"
        HELD = "held"
        RELEASED = "released"
        SOLD = "sold"
        DELETED = "deleted"

    seq = models.PositiveBigIntegerField(null=True, blank=True)
    line_id = models.BigIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    available = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["company", "seq"], name="inventory_change_seq_unique"),
        ]
        indexes = [
            # The rows still to be numbered, found without reading the numbered ones.
            models.Index(
                fields=["company", "id"],
                condition=models.Q(seq__isnull=True),
                name="inventory_change_unnumbered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.seq} {self.kind} {self.line_id}"


class ChangeCounter(CompanyOwned):
    """The last sequence number handed out per company and feed."""

    feed = models.CharField(max_length=30)
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "feed"], name="change_counter_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.feed}={self.value}"


class Confirmation(CompanyOwned):
    """An `inventory.sold` / `inventory.deleted` event for the token whose boxes they were."""

    seq = models.PositiveBigIntegerField()
    token = models.ForeignKey("tokens.ApiToken", on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=20)
    line_id = models.BigIntegerField()
    external_id = models.CharField(max_length=100, blank=True)
    quantity = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["company", "seq"], name="confirmation_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.line_id}"
