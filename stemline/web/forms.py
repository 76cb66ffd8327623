"""Forms of the web application. Services do the writing; a service's error lands beside the
field it names (the API's camelCase names map to the form's fields here)."""

from decimal import Decimal

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from stemline.catalog.models import UnitType
from stemline.core.errors import DomainError
from stemline.core.limits import INT_MAX
from stemline.core.models import STAFF_ROLES, Role, User
from stemline.core.services import TooManyAttempts, client_address, throttled_sign_in
from stemline.parties.models import (
    AmountType,
    Carrier,
    CustomerType,
    PaymentMethod,
    PriceLevel,
    SendInvoiceVia,
    VendorType,
)
from stemline.tokens.services import all_grants, may_grant

STRICT_PARAMETERS_LABEL = "Strict parameters: refuse unknown parameters instead of ignoring them"
FAILURES_AS_200_LABEL = (
    "Answer failures with HTTP 200 (status 0 in the body), for clients whose HTTP library "
    "throws on errors"
)

TOKEN_TYPES = [("company", "Company"), ("customer", "Customer"), ("vendor", "Vendor")]


def add_service_error(form: forms.Form, error: DomainError, fields: dict[str, str]) -> None:
    """Put a service's error beside the field it names (or above the form)."""
    name = fields.get(error.field or "", error.field)
    if name not in form.fields:
        name = None
    form.add_error(name, error.message)


class SignInForm(AuthenticationForm):
    """Django's sign-in form behind the throttle the API's `login` shares (same state), and
    closed to the users of a deactivated vendor."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "vendor_inactive": "The Vendor Portal access of %(vendor)s is closed.",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        # Every login is an e-mail address (staff and growers alike).
        self.fields["username"].label = "E-mail"
        self.fields["username"].widget.attrs.update({"autocomplete": "email", "type": "email"})
        self.throttled: TooManyAttempts | None = None

    def clean(self):
        username = self.cleaned_data.get("username")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()
        address = client_address(self.request) if self.request is not None else ""
        try:
            throttled_sign_in(username=username, address=address, attempt=self._attempt)
        except TooManyAttempts as refused:
            self.throttled = refused
            raise forms.ValidationError(
                refused.message[0].upper() + refused.message[1:] + ".", code="throttled"
            ) from None
        return self.cleaned_data

    def _attempt(self):
        super().clean()  # raises when the password is wrong or the login is not allowed
        return self.user_cache

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if user.role == Role.VENDOR and user.vendor_id and not user.vendor.active:
            raise forms.ValidationError(
                self.error_messages["vendor_inactive"],
                code="vendor_inactive",
                params={"vendor": user.vendor.name},
            )


class TokenForm(forms.Form):
    description = forms.CharField(max_length=200)
    token_type = forms.ChoiceField(label="Token Type", choices=TOKEN_TYPES, initial="company")
    customer = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    vendor = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    transactional = forms.BooleanField(label="Transactional API Access", required=False)
    strict_parameters = forms.BooleanField(label=STRICT_PARAMETERS_LABEL, required=False)
    failures_as_200 = forms.BooleanField(label=FAILURES_AS_200_LABEL, required=False)

    ERROR_FIELDS = {"tokenType": "token_type", "customerId": "customer", "vendorId": "vendor"}

    def __init__(self, *args, customers=(), vendors=(), user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The person creating the token: they may grant only what their own role may call.
        self.user = user
        # The choices offered are a short list the search narrows; any id of the company is
        # accepted (the service checks it belongs to the company).
        self.fields["customer"].choices = [("", "Choose a customer")] + list(customers)
        self.fields["vendor"].choices = [("", "Choose a vendor")] + list(vendors)
        self.fields["customer"].valid_value = lambda value: True
        self.fields["vendor"].valid_value = lambda value: True
        self.grants: list[str] = []
        self.grants_error = ""

    def clean(self):
        data = super().clean()
        token_type = data.get("token_type")
        if token_type == "customer" and not data.get("customer"):
            self.add_error("customer", "Choose the customer this token belongs to.")
        if token_type == "vendor" and not data.get("vendor"):
            self.add_error("vendor", "Choose the vendor this token belongs to.")
        if token_type:
            offered = set(all_grants(token_type))
            ticked = self.data.getlist(f"grants_{token_type}") if self.data else []
            unknown = [g for g in ticked if g not in offered]
            beyond = [g for g in ticked if g in offered and not may_grant(self.user, g)]
            if unknown:
                self.grants_error = f"Not a method of a {token_type} token: {', '.join(unknown)}"
            elif beyond:
                self.grants_error = beyond_role_message(self.user, beyond)
            elif not ticked:
                self.grants_error = "Tick at least one method the token may call."
            self.grants = sorted(set(ticked))
            if self.grants_error:
                raise forms.ValidationError(self.grants_error, code="grants")
        return data


def beyond_role_message(user, names) -> str:
    role = Role(user.role).label
    return (
        f"Your role ({role}) may not call these methods, so you may not grant them: "
        f"{', '.join(sorted(names))}"
    )


class CustomerForm(forms.Form):
    name = forms.CharField(max_length=200)
    code = forms.CharField(max_length=10, required=False)
    accounting_code = forms.CharField(max_length=20, required=False)
    customer_type = forms.TypedChoiceField(
        label="Type", coerce=int, choices=CustomerType.choices, initial=CustomerType.RETAILER
    )
    default_price = forms.ChoiceField(choices=PriceLevel.choices, initial="A")
    sales_person = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    credit_limit = forms.DecimalField(
        max_digits=12, decimal_places=2, required=False, help_text="Empty for no limit."
    )
    credit_hold = forms.BooleanField(required=False)
    active = forms.BooleanField(required=False, initial=True)
    phone = forms.CharField(max_length=20, required=False)
    email_for_invoices = forms.CharField(
        max_length=200, required=False, help_text="Several addresses separated by ;"
    )
    email_for_statements = forms.CharField(max_length=200, required=False)
    terms = forms.CharField(max_length=50, required=False)
    bill_address = forms.CharField(max_length=200, required=False)
    bill_city = forms.CharField(max_length=50, required=False)
    bill_state = forms.CharField(max_length=50, required=False)
    bill_zipcode = forms.CharField(label="Bill ZIP code", max_length=10, required=False)
    bill_country = forms.CharField(max_length=50, required=False)
    locations = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: the customer buys from every location.",
    )
    customer_group = forms.CharField(
        max_length=50, required=False, help_text="Filters the customer lists (e.g. a route)."
    )
    payment_method = forms.ChoiceField(required=False)
    send_invoice_via = forms.ChoiceField(
        choices=SendInvoiceVia.choices,
        required=False,
        help_text="E-mail: the invoice PDF goes to the invoice e-mails when it is confirmed.",
    )
    charge_tax = forms.BooleanField(
        required=False, help_text="Its invoices carry the company's sales tax."
    )
    charge_fuel_surcharge = forms.BooleanField(
        required=False, help_text="Its invoices carry the fuel surcharge."
    )
    ask_payment_upon_confirmation = forms.BooleanField(
        required=False,
        help_text="The sales rep who confirms its orders is asked to collect payment.",
    )
    finance_charge_percentage = forms.DecimalField(
        label="Finance charge %",
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
        help_text="On overdue balances; no % sign.",
    )

    ERROR_FIELDS = {
        "paymentMethod": "payment_method",
        "sendInvoiceVia": "send_invoice_via",
        "financeChargePercentage": "finance_charge_percentage",
        "customerGroup": "customer_group",
        "chargeTax": "charge_tax",
        "chargeFuelSurcharge": "charge_fuel_surcharge",
        "askPaymentUponConfirmation": "ask_payment_upon_confirmation",
        "type": "customer_type",
        "defaultPrice": "default_price",
        "creditLimit": "credit_limit",
        "salesPersonId": "sales_person",
        "locationCodes": "locations",
        "accountingCode": "accounting_code",
        "emailForInvoices": "email_for_invoices",
        "emailForStatements": "email_for_statements",
        "billAddress": "bill_address",
        "billCity": "bill_city",
        "billState": "bill_state",
        "billZipCode": "bill_zipcode",
        "billCountry": "bill_country",
    }

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        people = User.objects.filter(
            company=company, role__in=STAFF_ROLES, is_active=True
        ).order_by("first_name", "username")
        self.fields["sales_person"].choices = [("", "—")] + [
            (u.pk, u.get_full_name() or u.username) for u in people
        ]
        methods = PaymentMethod.objects.filter(company=company, active=True).order_by("name")
        self.fields["payment_method"].choices = [("", "—")] + [(m.name, m.name) for m in methods]
        if company.multi_location:
            from stemline.core.models import Location

            self.fields["locations"].choices = [
                (loc.code, loc.name) for loc in Location.objects.filter(company=company)
            ]
        else:
            del self.fields["locations"]

    def changes(self) -> dict:
        data = dict(self.cleaned_data)
        changes = {k: v for k, v in data.items() if k not in ("sales_person", "locations")}
        changes["sales_person_id"] = data.get("sales_person")
        changes["payment_method"] = data.get("payment_method") or ""
        if changes.get("finance_charge_percentage") is None:
            changes["finance_charge_percentage"] = 0
        if "locations" in self.fields:
            changes["location_codes"] = ":".join(data.get("locations") or [])
        return changes


class AdditionalChargeForm(forms.Form):
    code = forms.CharField(max_length=20)
    name = forms.CharField(max_length=100)
    amount_type = forms.ChoiceField(label="Type", choices=AmountType.choices)
    default_value = forms.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=0,
        help_text="A percentage (no % sign) or an amount per invoice, as the type says.",
    )
    active = forms.BooleanField(required=False, initial=True)

    ERROR_FIELDS = {"amountType": "amount_type", "defaultValue": "default_value"}


class ShipToForm(forms.Form):
    name = forms.CharField(max_length=200)
    ship_to_code = forms.CharField(max_length=50, required=False)
    address = forms.CharField(max_length=200, required=False)
    city = forms.CharField(max_length=50, required=False)
    state = forms.CharField(max_length=50, required=False)
    zipcode = forms.CharField(label="ZIP code", max_length=10, required=False)
    country = forms.CharField(max_length=50, required=False)
    phone = forms.CharField(max_length=20, required=False)
    carrier = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    carrier_account = forms.CharField(max_length=20, required=False)

    ERROR_FIELDS = {"shipToCode": "ship_to_code", "carrierId": "carrier"}

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carrier"].choices = [("", "—")] + [
            (c.pk, f"{c.code} {c.name}") for c in Carrier.objects.filter(company=company)
        ]

    def changes(self) -> dict:
        data = dict(self.cleaned_data)
        data["carrier_id"] = data.pop("carrier")
        return data


class CarrierForm(forms.Form):
    name = forms.CharField(max_length=200)
    code = forms.CharField(max_length=10)
    direction = forms.ChoiceField(choices=Carrier.Direction.choices, initial="outbound")
    capacity = forms.IntegerField(
        min_value=0, max_value=INT_MAX, required=False, help_text="Boxes; empty if none."
    )


class CarrierEditForm(CarrierForm):
    active = forms.BooleanField(required=False)


class VendorForm(forms.Form):
    name = forms.CharField(max_length=200)
    code = forms.CharField(max_length=10, required=False)
    port_origin = forms.CharField(label="Port of origin", max_length=5, help_text="e.g. BOG, UIO")
    vendor_type = forms.TypedChoiceField(
        coerce=int, choices=VendorType.choices, initial=VendorType.FRESH_CUT
    )
    contact_name = forms.CharField(max_length=100, required=False)
    email_for_pos = forms.CharField(label="E-mail for POs", max_length=200, required=False)
    phone1 = forms.CharField(label="Phone", max_length=20, required=False)
    city = forms.CharField(max_length=50, required=False)
    country = forms.CharField(max_length=50, required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    ERROR_FIELDS = {
        "portOrigin": "port_origin",
        "vendorType": "vendor_type",
        "emailForPOs": "email_for_pos",
        "contactName": "contact_name",
    }


class VendorInviteForm(forms.Form):
    email = forms.EmailField(label="E-mail (the login)")
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)


PRICE_HELP = "Per unit; inventory added without a price takes it. Empty for none."


class ProductForm(forms.Form):
    category = forms.CharField(max_length=200, help_text="A new name adds the category.")
    variety = forms.CharField(max_length=100, required=False)
    color = forms.CharField(max_length=100, required=False)
    grade = forms.CharField(max_length=100, required=False)
    legacy_code = forms.CharField(label="Code", max_length=20, required=False)
    description = forms.CharField(
        max_length=300, required=False, help_text="Empty: category, variety, color and grade."
    )
    default_unit_type = forms.ChoiceField(label="Unit", choices=UnitType.choices)
    price_a = forms.DecimalField(
        label="Price A",
        max_digits=10,
        decimal_places=3,
        min_value=0,
        required=False,
        help_text=PRICE_HELP,
    )
    price_b = forms.DecimalField(
        label="Price B",
        max_digits=10,
        decimal_places=3,
        min_value=0,
        required=False,
        help_text=PRICE_HELP,
    )
    tags = forms.CharField(max_length=200, required=False)
    active = forms.BooleanField(required=False, initial=True)

    ERROR_FIELDS = {
        "code": "legacy_code",
        "defaultUnitType": "default_unit_type",
        "priceA": "price_a",
        "priceB": "price_b",
    }


class BoxTypeForm(forms.Form):
    code = forms.CharField(max_length=3)
    name = forms.CharField(max_length=50, required=False)
    fbe = forms.DecimalField(
        label="FBE",
        max_digits=10,
        decimal_places=3,
        min_value=Decimal("0.001"),
        max_value=10,
        help_text="Full-box equivalents: 1 for a full box, 0.5 for a half.",
    )
    active = forms.BooleanField(required=False, initial=True)


class LocationForm(forms.Form):
    name = forms.CharField(max_length=100)
    short_name = forms.CharField(max_length=20, required=False)
    code = forms.CharField(max_length=10)
    address = forms.CharField(max_length=200, required=False)
    city = forms.CharField(max_length=50, required=False)
    state = forms.CharField(max_length=50, required=False)
    is_default = forms.BooleanField(label="Default location", required=False)
    active = forms.BooleanField(required=False, initial=True)


STAFF_ROLE_CHOICES = [(r.value, r.label) for r in STAFF_ROLES]


class StaffUserForm(forms.Form):
    email = forms.EmailField(label="E-mail (the login)")
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=STAFF_ROLE_CHOICES, initial=Role.SALES)


class StaffEditForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=STAFF_ROLE_CHOICES)
    active = forms.BooleanField(
        label="May sign in", required=False, help_text="Untick to deactivate (API keys stop too)."
    )


class OpenBoxForm(forms.Form):
    """Sales > Inventory > Open box: how many boxes, into bunches or stems (irreversible)."""

    boxes = forms.IntegerField(label="Boxes to open", min_value=1, max_value=INT_MAX)
    unit_type = forms.ChoiceField(
        label="Into", choices=[(UnitType.BUNCH, "Bunches"), (UnitType.STEM, "Stems")]
    )
    price_a = forms.DecimalField(
        label="Price A per unit",
        max_digits=10,
        decimal_places=3,
        min_value=0,
        required=False,
        help_text="Empty: the box's price, per bunch or per stem.",
    )
    price_b = forms.DecimalField(
        label="Price B per unit",
        max_digits=10,
        decimal_places=3,
        min_value=0,
        required=False,
        help_text="Empty: the box's price, per bunch or per stem.",
    )

    ERROR_FIELDS = {"unitType": "unit_type", "priceA": "price_a", "priceB": "price_b"}
