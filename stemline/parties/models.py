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


class PaymentMethod(CompanyOwned):
    """How a customer pays (Check, Credit Card, Wire, ...): a company list that customers name
    as their usual method and payments (a later issue) name as theirs."""

    name = models.CharField(max_length=50)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint("company", Upper("name"), name="payment_method_name_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="payment_method_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


# Every new company starts with these (a data migration gave them to the existing ones).
STANDARD_PAYMENT_METHODS = ("Check", "Credit Card", "Wire", "ACH", "Cash")


class AmountType(models.TextChoices):
    # Komet's amountType characters.
    PERCENT = "%", "Percentage of the lines"
    AMOUNT = "$", "Amount per invoice"


class AdditionalCharge(CompanyOwned):
    """An extra invoice charge of the company's list (fuel surcharge, tax, delivery, ...).

    `purpose` ties two of them to the customer flags: the fuel surcharge is applied to the
    invoices of customers with chargeFuelSurcharge, the tax to those with chargeTax; other
    charges are applied to the customers that have them among their automatic charges."""

    class Purpose(models.TextChoices):
        FUEL = "fuel", "Fuel surcharge"
        TAX = "tax", "Tax"
        OTHER = "other", "Other"

    code = models.CharField(max_length=20)
    name = models.CharField(max_length=100)
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.OTHER)
    amount_type = models.CharField(max_length=1, choices=AmountType.choices)
    default_value = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint("company", Upper("code"), name="additional_charge_code_unique"),
            # One fuel surcharge and one tax per company: the flags must know which to apply.
            models.UniqueConstraint(
                fields=["company", "purpose"],
                condition=Q(purpose__in=["fuel", "tax"]),
                name="additional_charge_one_fuel_one_tax",
            ),
            models.CheckConstraint(condition=~Q(code=""), name="additional_charge_code_not_empty"),
            models.CheckConstraint(condition=~Q(name=""), name="additional_charge_name_not_empty"),
            models.CheckConstraint(
                condition=Q(amount_type__in=["%", "$"]), name="additional_charge_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(purpose__in=["fuel", "tax", "other"]),
                name="additional_charge_purpose_valid",
            ),
            models.CheckConstraint(
                condition=Q(default_value__gte=0), name="additional_charge_value_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


# (code, name, purpose, amount type, default value) every new company starts with; the
# company sets its own values (a tax rate of 0 charges nothing until it is set).
STANDARD_CHARGES = (
    ("FS", "Fuel Surcharge", "fuel", "$", "0.00"),
    ("TAX", "Sales Tax", "tax", "%", "0.00"),
)


class SendInvoiceVia(models.TextChoices):
    # "" = not sent by Stemline; Print = the company prints and mails it.
    NONE = "", "Not sent"
    EMAIL = "Email", "E-mail"
    PRINT = "Print", "Print"


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
    payment_method = models.ForeignKey(
        PaymentMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    charge_tax = models.BooleanField(default=False)
    charge_fuel_surcharge = models.BooleanField(default=False)
    send_invoice_via = models.CharField(
        max_length=10, choices=SendInvoiceVia.choices, blank=True, default=""
    )
    ask_payment_upon_confirmation = models.BooleanField(default=False)
    finance_charge_percentage = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    customer_group = models.CharField(max_length=50, blank=True)
    updated_on = models.DateTimeField(auto_now=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(finance_charge_percentage__gte=0)
                & Q(finance_charge_percentage__lte=100),
                name="customer_finance_charge_percentage",
            ),
            models.CheckConstraint(
                condition=Q(send_invoice_via__in=["", "Email", "Print"]),
                name="customer_send_invoice_via_valid",
            ),
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


class CustomerCharge(CompanyOwned):
    """An automatic additional charge of one customer, with the customer's own value."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="charges")
    charge = models.ForeignKey(AdditionalCharge, on_delete=models.CASCADE, related_name="+")
    amount_type = models.CharField(max_length=1, choices=AmountType.choices)
    amount_value = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "charge"], name="customer_charge_unique"),
            models.CheckConstraint(
                condition=Q(amount_type__in=["%", "$"]), name="customer_charge_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(amount_value__gte=0), name="customer_charge_value_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.charge_id} {self.amount_type}{self.amount_value}"


class ContactType(models.TextChoices):
    # The contact types customer.contact.add accepts ("an existing contact type").
    AP = "A/P", "A/P"
    AR = "A/R", "A/R"
    BUYER = "Buyer", "Buyer"
    OWNER = "Owner", "Owner"
    MANAGER = "Manager", "Manager"
    RECEIVING = "Receiving", "Receiving"
    SALES = "Sales", "Sales"
    OTHER = "Other", "Other"


class CustomerContact(CompanyOwned):
    """A person at a customer; `email_pod` contacts are the ones proofs of delivery go to."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=100)
    contact_type = models.CharField(max_length=20, choices=ContactType.choices)
    phone = models.CharField(max_length=20, blank=True)
    ext = models.CharField(max_length=10, blank=True)
    mobile = models.CharField(max_length=20, blank=True)
    fax = models.CharField(max_length=20, blank=True)
    email = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=200, blank=True)
    instant_messaging = models.CharField(max_length=100, blank=True)
    email_pod = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="contact_name_not_empty"),
            models.CheckConstraint(
                condition=Q(contact_type__in=ContactType.values), name="contact_type_valid"
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
