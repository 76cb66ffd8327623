"""Customers with their ship-tos, vendors (growers) and carriers of one company."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from stemline.core.models import CompanyOwned, Location


class CustomerType(models.IntegerChoices):
    # Komet's `type` is an integer id whose list the API does not expose; these are ours.
    RETAILER = 1, "Retailer"
    WHOLESALER = 2, "Wholesaler"
    FLORIST = 3, "Florist"
    SUPERMARKET = 4, "Supermarket"
    EVENT_PLANNER = 5, "Event Planner"
    MARKETPLACE = 6, "Marketplace"


class PriceLevel(models.TextChoices):
    A = "A", "Price A"
    B = "B", "Price B"


class Carrier(CompanyOwned):
    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    name = models.CharField(max_length=200)
    code = models.CharField(max_length=10)
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.OUTBOUND
    )
    capacity = models.PositiveIntegerField(null=True, blank=True)
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=50, blank=True)
    state = models.CharField(max_length=50, blank=True)
    zipcode = models.CharField(max_length=10, blank=True)
    country = models.CharField(max_length=50, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint("company", Upper("code"), name="carrier_code_unique"),
            models.CheckConstraint(condition=~Q(code=""), name="carrier_code_not_empty"),
            models.CheckConstraint(condition=~Q(name=""), name="carrier_name_not_empty"),
            models.CheckConstraint(
                condition=Q(direction__in=["inbound", "outbound"]), name="carrier_direction_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Customer(CompanyOwned):
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=10, blank=True)
    accounting_code = models.CharField(max_length=20, blank=True)
    customer_type = models.PositiveSmallIntegerField(
        choices=CustomerType.choices, default=CustomerType.RETAILER
    )
    default_price = models.CharField(max_length=1, choices=PriceLevel.choices, default="A")
    price_b_markup = models.DecimalField(max_digits=6, decimal_places=2, default=0)
    sales_person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    locations = models.ManyToManyField(Location, blank=True, related_name="+")
    active = models.BooleanField(default=True)
    bill_address = models.CharField(max_length=200, blank=True)
    bill_city = models.CharField(max_length=50, blank=True)
    bill_state = models.CharField(max_length=50, blank=True)
    bill_zipcode = models.CharField(max_length=10, blank=True)
    bill_country = models.CharField(max_length=50, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    fax = models.CharField(max_length=20, blank=True)
    website = models.CharField(max_length=50, blank=True)
    terms = models.CharField(max_length=50, blank=True)
    email_for_invoices = models.CharField(max_length=200, blank=True)
    email_for_statements = models.CharField(max_length=200, blank=True)
    credit_hold = models.BooleanField(default=False)
    credit_limit = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    updated_on = models.DateTimeField(auto_now=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                "company", Upper("code"), condition=~Q(code=""), name="customer_code_unique"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="customer_name_not_empty"),
            models.CheckConstraint(
                condition=Q(default_price__in=["A", "B"]), name="customer_price_level_valid"
            ),
            models.CheckConstraint(
                condition=Q(customer_type__in=CustomerType.values), name="customer_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(credit_limit__isnull=True) | Q(credit_limit__gte=0),
                name="customer_credit_limit_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ShipTo(CompanyOwned):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="ship_tos")
    name = models.CharField(max_length=200)
    ship_to_code = models.CharField(max_length=50, blank=True)
    address = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=50, blank=True)
    state = models.CharField(max_length=50, blank=True)
    zipcode = models.CharField(max_length=10, blank=True)
    country = models.CharField(max_length=50, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    fax = models.CharField(max_length=20, blank=True)
    carrier = models.ForeignKey(
        Carrier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    carrier_account = models.CharField(max_length=20, blank=True)
    sales_person_code_flowers = models.CharField(max_length=20, blank=True)
    sales_person_code_plants = models.CharField(max_length=20, blank=True)
    # A removed ship-to stays for the documents that name it; lists no longer show it.
    removed_at = models.DateTimeField(null=True, blank=True)
    updated_on = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="shipto_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class VendorType(models.IntegerChoices):
    FRESH_CUT = 1, "Fresh Cut"
    FREIGHT_HANDLING = 2, "Freight & Handling"
    HARD_GOODS = 3, "Hard Goods"


class Vendor(CompanyOwned):
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=10, blank=True)
    port_origin = models.CharField(max_length=5)
    vendor_type = models.PositiveSmallIntegerField(
        choices=VendorType.choices, default=VendorType.FRESH_CUT
    )
    phone1 = models.CharField(max_length=20, blank=True)
    phone2 = models.CharField(max_length=20, blank=True)
    phone3 = models.CharField(max_length=20, blank=True)
    fax = models.CharField(max_length=20, blank=True)
    web_page = models.CharField(max_length=100, blank=True)
    email_for_pos = models.CharField(max_length=200, blank=True)
    contact_name = models.CharField(max_length=100, blank=True)
    notes = models.TextField(blank=True)
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=50, blank=True)
    state = models.CharField(max_length=50, blank=True)
    zipcode = models.CharField(max_length=10, blank=True)
    country = models.CharField(max_length=50, blank=True)
    cargo_master_code = models.CharField(max_length=20, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                "company", Upper("code"), condition=~Q(code=""), name="vendor_code_unique"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="vendor_name_not_empty"),
            models.CheckConstraint(condition=~Q(port_origin=""), name="vendor_port_not_empty"),
            models.CheckConstraint(
                condition=Q(vendor_type__in=VendorType.values), name="vendor_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name
