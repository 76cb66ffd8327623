"""Every write to customers (with their contacts and automatic charges), ship-tos, vendors,
carriers, payment methods and additional charges."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from stemline.core.errors import Conflict, Invalid, NotFound
from stemline.core.models import STAFF_ROLES, Company, Location, User

from .models import (
    STANDARD_CHARGES,
    STANDARD_PAYMENT_METHODS,
    AdditionalCharge,
    AmountType,
    Carrier,
    ContactType,
    Customer,
    CustomerCharge,
    CustomerContact,
    CustomerType,
    PaymentMethod,
    PriceLevel,
    SendInvoiceVia,
    ShipTo,
    Vendor,
    VendorType,
)

# ---------------------------------------------------------------- shared checks


def _text(value, field: str, max_length: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise Invalid("is required", field=field)
    if len(value) > max_length:
        raise Invalid(f"at most {max_length} characters", field=field)
    return value


def _emails(value, field: str) -> str:
    """A `;`-separated list of addresses, each one checked."""
    parts = [part.strip() for part in (value or "").split(";") if part.strip()]
    for part in parts:
        try:
            validate_email(part)
        except ValidationError as exc:
            raise Invalid(f"{part!r} is not an e-mail address", field=field) from exc
    joined = ";".join(parts)
    if len(joined) > 200:
        raise Invalid("at most 200 characters", field=field)
    return joined


def _code_taken(model, *, company: Company, code: str, exclude_pk: int | None = None) -> bool:
    # Codes are matched case-insensitively everywhere, so "ups" and "UPS" would be one code.
    qs = model.objects.filter(company=company, code__iexact=code)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _save_unique(obj, what: str) -> None:
    """Save; a concurrent insert of the same code becomes a 409 naming `code`."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise Conflict(f"another {what} already has the code {obj.code!r}", field="code") from exc


def _carrier_of(company: Company, carrier_id: int | None, field: str = "carrierId"):
    if carrier_id is None:
        return None
    carrier = Carrier.objects.filter(company=company, pk=carrier_id).first()
    if carrier is None:
        raise NotFound(f"carrier {carrier_id} does not exist", field=field)
    return carrier


# ---------------------------------------------------------------- company lists


@transaction.atomic
def seed_company(*, company: Company) -> None:
    """The standard payment methods and additional charges of a new company (idempotent)."""
    for name in STANDARD_PAYMENT_METHODS:
        if not PaymentMethod.objects.filter(company=company, name__iexact=name).exists():
            PaymentMethod.objects.create(company=company, name=name)
    for code, name, purpose, amount_type, value in STANDARD_CHARGES:
        if AdditionalCharge.objects.filter(company=company, code__iexact=code).exists():
            continue
        if AdditionalCharge.objects.filter(company=company, purpose=purpose).exists():
            continue
        AdditionalCharge.objects.create(
            company=company,
            code=code,
            name=name,
            purpose=purpose,
            amount_type=amount_type,
            default_value=Decimal(value),
        )


def _amount_type(value: str, field: str) -> str:
    value = (value or "").strip()
    if value not in AmountType.values:
        raise Invalid("must be % (a percentage of the lines) or $ (an amount)", field=field)
    return value


def _charge_value(value: Decimal, amount_type: str, field: str) -> Decimal:
    if value < 0:
        raise Invalid("must not be negative", field=field)
    if amount_type == AmountType.PERCENT and value > 100:
        raise Invalid("a percentage must be at most 100", field=field)
    return value


@transaction.atomic
def save_additional_charge(
    *,
    company: Company,
    charge_id: int | None = None,
    code: str,
    name: str,
    amount_type: str,
    default_value: Decimal,
    active: bool = True,
    purpose: str = AdditionalCharge.Purpose.OTHER,
) -> AdditionalCharge:
    """Add a charge to the company's list, or change one (its purpose stays as it was made)."""
    if charge_id is None:
        charge = AdditionalCharge(company=company, purpose=purpose)
    else:
        charge = (
            AdditionalCharge.objects.select_for_update()
            .filter(company=company, pk=charge_id)
            .first()
        )
        if charge is None:
            raise NotFound(f"additional charge {charge_id} does not exist", field="id")
    charge.code = _text(code, "code", 20, required=True).upper()
    charge.name = _text(name, "name", 100, required=True)
    charge.amount_type = _amount_type(amount_type, "amountType")
    charge.default_value = _charge_value(default_value, charge.amount_type, "defaultValue")
    charge.active = bool(active)
    if _code_taken(AdditionalCharge, company=company, code=charge.code, exclude_pk=charge.pk):
        raise Conflict(f"another additional charge already has the code {charge.code!r}", "code")
    _save_unique(charge, "additional charge")
    return charge


@transaction.atomic
def set_customer_charge(
    *,
    company: Company,
    customer_id: int,
    charge_code: str,
    amount_value: Decimal | None = None,
    amount_type: str | None = None,
) -> CustomerCharge:
    """Make a charge automatic for a customer, with the customer's own value and type (the
    charge's defaults where not given). For the fuel surcharge and the tax it also switches
    chargeFuelSurcharge / chargeTax on: asking for the charge means the customer pays it."""
    customer = Customer.objects.select_for_update().filter(company=company, pk=customer_id).first()
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist", field="customerId")
    charge = AdditionalCharge.objects.filter(company=company, code__iexact=charge_code).first()
    if charge is None:
        raise NotFound(
            f"additional charge code {charge_code!r} does not exist", field="additionalChargeCode"
        )
    if not charge.active:
        raise Conflict(f"additional charge {charge.code} is inactive", field="additionalChargeCode")
    kind = charge.amount_type if amount_type is None else _amount_type(amount_type, "amountType")
    value = charge.default_value if amount_value is None else amount_value
    value = _charge_value(value, kind, "amountValue")
    row, _ = CustomerCharge.objects.update_or_create(
        company=company,
        customer=customer,
        charge=charge,
        defaults={"amount_type": kind, "amount_value": value},
    )
    flag = {"fuel": "charge_fuel_surcharge", "tax": "charge_tax"}.get(charge.purpose)
    if flag and not getattr(customer, flag):
        setattr(customer, flag, True)
        customer.save(update_fields=[flag, "updated_on"])
    return row


@transaction.atomic
def remove_customer_charge(*, company: Company, customer_id: int, charge_id: int) -> None:
    CustomerCharge.objects.filter(
        company=company, customer_id=customer_id, charge_id=charge_id
    ).delete()


# ---------------------------------------------------------------- carriers

UNCHANGED_CAPACITY = object()


@transaction.atomic
def add_carrier(
    *,
    company: Company,
    name: str,
    code: str,
    capacity: int | None = None,
    direction: str = Carrier.Direction.OUTBOUND,
) -> Carrier:
    name = _text(name, "name", 200, required=True)
    code = _text(code, "code", 10, required=True)
    if direction not in Carrier.Direction.values:
        raise Invalid("must be inbound or outbound", field="direction")
    if capacity is not None and capacity < 0:
        raise Invalid("must not be negative", field="capacity")
    if _code_taken(Carrier, company=company, code=code):
        raise Conflict(f"another carrier already has the code {code!r}", field="code")
    carrier = Carrier(company=company, name=name, code=code, capacity=capacity, direction=direction)
    _save_unique(carrier, "carrier")
    return carrier


@transaction.atomic
def update_carrier(
    *,
    company: Company,
    carrier_id: int,
    name: str | None = None,
    code: str | None = None,
    capacity: int | None = UNCHANGED_CAPACITY,
    direction: str | None = None,
    active: bool | None = None,
) -> Carrier:
    """Change a carrier (only the fields given; capacity None means no capacity)."""
    carrier = Carrier.objects.select_for_update().filter(company=company, pk=carrier_id).first()
    if carrier is None:
        raise NotFound(f"carrier {carrier_id} does not exist", field="carrierId")
    if name is not None:
        carrier.name = _text(name, "name", 200, required=True)
    if code is not None:
        carrier.code = _text(code, "code", 10, required=True)
        if _code_taken(Carrier, company=company, code=carrier.code, exclude_pk=carrier.pk):
            raise Conflict(f"another carrier already has the code {carrier.code!r}", field="code")
    if direction is not None:
        if direction not in Carrier.Direction.values:
            raise Invalid("must be inbound or outbound", field="direction")
        carrier.direction = direction
    if capacity is not UNCHANGED_CAPACITY:
        if capacity is not None and capacity < 0:
            raise Invalid("must not be negative", field="capacity")
        carrier.capacity = capacity
    if active is not None:
        carrier.active = active
    _save_unique(carrier, "carrier")
    return carrier


# ---------------------------------------------------------------- customers

# Plain text fields of a customer: model field -> (API field, max length).
CUSTOMER_TEXT = {
    "accounting_code": ("accountingCode", 20),
    "phone": ("phone", 20),
    "fax": ("fax", 20),
    "website": ("website", 50),
    "terms": ("terms", 50),
    "bill_address": ("billAddress", 200),
    "bill_city": ("billCity", 50),
    "bill_state": ("billState", 50),
    "bill_zipcode": ("billZipCode", 10),
    "bill_country": ("billCountry", 50),
}
CUSTOMER_EMAILS = {
    "email_for_invoices": "emailForInvoices",
    "email_for_statements": "emailForStatements",
}
# Sentinel: "leave as it is", distinct from None, which for credit_limit means unlimited.
UNCHANGED = object()


def _locations_by_codes(company: Company, codes: str) -> list[Location]:
    """Colon-separated location codes; every one must be a location of the company."""
    wanted = [c.strip() for c in codes.split(":") if c.strip()]
    found = {loc.code.lower(): loc for loc in Location.objects.filter(company=company)}
    missing = [c for c in wanted if c.lower() not in found]
    if missing:
        raise Invalid(f"unknown location code {', '.join(missing)}", field="locationCodes")
    unique = {c.lower(): found[c.lower()] for c in wanted}
    return list(unique.values())


def _sales_person(company: Company, user_id: int) -> User:
    user = User.objects.filter(
        company=company, pk=user_id, role__in=STAFF_ROLES, is_active=True
    ).first()
    if user is None:
        raise NotFound(f"user {user_id} does not exist", field="salesPersonId")
    return user


# What clients send for sendInvoiceVia, as Stemline stores it.
SEND_VIA = {
    "": "",
    "none": "",
    "email": SendInvoiceVia.EMAIL,
    "e-mail": SendInvoiceVia.EMAIL,
    "mail": SendInvoiceVia.EMAIL,
    "print": SendInvoiceVia.PRINT,
}


def _send_invoice_via(value: str) -> str:
    key = (value or "").strip().lower()
    if key not in SEND_VIA:
        raise Invalid("must be Email, Print or empty (not sent)", field="sendInvoiceVia")
    return SEND_VIA[key]


def _payment_method(company: Company, name: str) -> PaymentMethod | None:
    """A payment method of the company by name (payment.method.list); empty clears it."""
    name = (name or "").strip()
    if not name:
        return None
    found = PaymentMethod.objects.filter(company=company, name__iexact=name, active=True).first()
    if found is None:
        # A name from a list, as locationCodes: not one of them is a bad value (422).
        raise Invalid(
            f"{name!r} is not a payment method of payment.method.list", field="paymentMethod"
        )
    return found


def _apply_customer(customer: Customer, company: Company, changes: dict) -> list | None:
    """Set the changed fields on the customer; returns the new locations, if they change."""
    if changes.get("name") is not None:
        customer.name = _text(changes["name"], "name", 200, required=True)
    if changes.get("code") is not None:
        code = _text(changes["code"], "code", 10)
        if code and _code_taken(Customer, company=company, code=code, exclude_pk=customer.pk):
            raise Conflict(f"another customer already has the code {code!r}", field="code")
        customer.code = code
    for model_field, (api_field, max_length) in CUSTOMER_TEXT.items():
        if changes.get(model_field) is not None:
            setattr(customer, model_field, _text(changes[model_field], api_field, max_length))
    for model_field, api_field in CUSTOMER_EMAILS.items():
        if changes.get(model_field) is not None:
            setattr(customer, model_field, _emails(changes[model_field], api_field))
    if changes.get("customer_type") is not None:
        if changes["customer_type"] not in CustomerType.values:
            choices = ", ".join(f"{c.value} {c.label}" for c in CustomerType)
            raise Invalid(f"must be one of {choices}", field="type")
        customer.customer_type = changes["customer_type"]
    if changes.get("default_price") is not None:
        level = changes["default_price"].strip().upper()
        if level not in PriceLevel.values:
            raise Invalid("must be A or B", field="defaultPrice")
        customer.default_price = level
    if changes.get("price_b_markup") is not None:
        customer.price_b_markup = changes["price_b_markup"]
    limit = changes.get("credit_limit", UNCHANGED)
    if limit is not UNCHANGED:
        if limit is not None and limit < 0:
            raise Invalid("must not be negative (leave it empty for no limit)", field="creditLimit")
        customer.credit_limit = limit
    for flag in ("credit_hold", "active"):
        if changes.get(flag) is not None:
            setattr(customer, flag, bool(changes[flag]))
    for flag in ("charge_tax", "charge_fuel_surcharge", "ask_payment_upon_confirmation"):
        if changes.get(flag) is not None:
            setattr(customer, flag, bool(changes[flag]))
    if changes.get("send_invoice_via") is not None:
        customer.send_invoice_via = _send_invoice_via(changes["send_invoice_via"])
    if changes.get("finance_charge_percentage") is not None:
        value = changes["finance_charge_percentage"]
        if not Decimal("0") <= value <= Decimal("100"):
            raise Invalid("must be between 0 and 100", field="financeChargePercentage")
        customer.finance_charge_percentage = value
    if changes.get("customer_group") is not None:
        customer.customer_group = _text(changes["customer_group"], "customerGroup", 50)
    if changes.get("payment_method") is not None:
        customer.payment_method = _payment_method(company, changes["payment_method"])
    sales_person_id = changes.get("sales_person_id", UNCHANGED)
    if sales_person_id is not UNCHANGED:
        customer.sales_person = (
            None if sales_person_id is None else _sales_person(company, sales_person_id)
        )
    if customer.send_invoice_via == SendInvoiceVia.EMAIL and not customer.email_for_invoices:
        # Confirmed invoices are e-mailed to emailForInvoices: without one nothing would go.
        raise Invalid("Email needs an address in emailForInvoices", field="sendInvoiceVia")
    if changes.get("location_codes") is not None:
        return _locations_by_codes(company, changes["location_codes"])
    return None


def _save_customer(customer: Customer, locations: list | None) -> Customer:
    _save_unique(customer, "customer")
    if locations is not None:
        customer.locations.set(locations)
    return customer


@transaction.atomic
def add_customer(*, company: Company, name: str, **changes) -> Customer:
    """Create a customer. `changes` holds model field names; `location_codes` is the
    colon-separated list of location codes, `sales_person_id` a user of the company."""
    customer = Customer(company=company)
    locations = _apply_customer(customer, company, {**changes, "name": name or ""})
    return _save_customer(customer, locations)


@transaction.atomic
def update_customer(*, company: Company, customer_id: int, **changes) -> Customer:
    """Change the fields given (None leaves a field as it is; for `credit_limit` and
    `sales_person_id` leave the key out instead, None clears them)."""
    customer = Customer.objects.select_for_update().filter(company=company, pk=customer_id).first()
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist", field="customerId")
    locations = _apply_customer(customer, company, changes)
    return _save_customer(customer, locations)


# ---------------------------------------------------------------- contacts

CONTACT_TEXT = {
    "phone": ("phone", 20),
    "ext": ("ext", 10),
    "mobile": ("mobile", 20),
    "fax": ("fax", 20),
    "description": ("description", 200),
    "instant_messaging": ("instantMessaging", 100),
}


def _contact_type(value: str) -> str:
    wanted = (value or "").strip().lower()
    for choice in ContactType.values:
        if choice.lower() == wanted:
            return choice
    raise Invalid(f"must be one of {', '.join(ContactType.values)}", field="type")


@transaction.atomic
def add_contact(
    *,
    company: Company,
    customer_id: int,
    name: str,
    contact_type: str,
    email: str = "",
    email_pod: bool = False,
    **changes,
) -> CustomerContact:
    customer = Customer.objects.filter(company=company, pk=customer_id).first()
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist", field="customerId")
    contact = CustomerContact(
        company=company,
        customer=customer,
        name=_text(name, "name", 100, required=True),
        contact_type=_contact_type(contact_type),
        email=_emails(email, "email"),
        email_pod=bool(email_pod),
    )
    if email_pod and not contact.email:
        raise Invalid("a contact who receives proofs of delivery needs an e-mail", field="email")
    for model_field, (api_field, max_length) in CONTACT_TEXT.items():
        if changes.get(model_field) is not None:
            setattr(contact, model_field, _text(changes[model_field], api_field, max_length))
    contact.save()
    return contact


# ---------------------------------------------------------------- ship-tos

SHIP_TO_TEXT = {
    "ship_to_code": ("shipToCode", 50),
    "address": ("address", 200),
    "city": ("city", 50),
    "state": ("state", 50),
    "zipcode": ("zipcode", 10),
    "country": ("country", 50),
    "phone": ("phone", 20),
    "fax": ("fax", 20),
    "carrier_account": ("carrierAccount", 20),
    "sales_person_code_flowers": ("salesPersonCodeForFlowers", 20),
    "sales_person_code_plants": ("salesPersonCodeForPlants", 20),
}


def _apply_ship_to(ship_to: ShipTo, company: Company, changes: dict) -> None:
    if changes.get("name") is not None:
        ship_to.name = _text(changes["name"], "name", 200, required=True)
    for model_field, (api_field, max_length) in SHIP_TO_TEXT.items():
        if changes.get(model_field) is not None:
            setattr(ship_to, model_field, _text(changes[model_field], api_field, max_length))
    carrier_id = changes.get("carrier_id", UNCHANGED)
    if carrier_id is not UNCHANGED:
        ship_to.carrier = _carrier_of(company, carrier_id)


@transaction.atomic
def add_ship_to(*, company: Company, customer_id: int, name: str, **changes) -> ShipTo:
    customer = Customer.objects.filter(company=company, pk=customer_id).first()
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist", field="customerId")
    ship_to = ShipTo(company=company, customer=customer)
    _apply_ship_to(ship_to, company, {**changes, "name": name or ""})
    ship_to.save()
    return ship_to


def _live_ship_to(company: Company, ship_to_id: int, customer_id: int | None) -> ShipTo:
    qs = ShipTo.objects.select_for_update().filter(
        company=company, pk=ship_to_id, removed_at__isnull=True
    )
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    ship_to = qs.first()
    if ship_to is None:
        raise NotFound(f"ship to {ship_to_id} does not exist", field="shipToId")
    return ship_to


@transaction.atomic
def update_ship_to(
    *, company: Company, ship_to_id: int, customer_id: int | None = None, **changes
) -> ShipTo:
    """Change the fields given. With `customer_id` the ship-to must belong to that customer:
    a ship-to is never moved to another customer."""
    ship_to = _live_ship_to(company, ship_to_id, customer_id)
    _apply_ship_to(ship_to, company, changes)
    ship_to.save()
    return ship_to


@transaction.atomic
def remove_ship_to(*, company: Company, ship_to_id: int) -> ShipTo:
    ship_to = _live_ship_to(company, ship_to_id, None)
    ship_to.removed_at = timezone.now()
    ship_to.save(update_fields=["removed_at", "updated_on"])
    return ship_to


# ---------------------------------------------------------------- vendors

VENDOR_TEXT = {
    "code": ("code", 10),
    "phone1": ("phone1", 20),
    "phone2": ("phone2", 20),
    "phone3": ("phone3", 20),
    "fax": ("fax", 20),
    "web_page": ("webPage", 100),
    "contact_name": ("contactName", 100),
    "street": ("street", 200),
    "city": ("city", 50),
    "state": ("state", 50),
    "zipcode": ("zipcode", 10),
    "country": ("country", 50),
}


def _apply_vendor(vendor: Vendor, company: Company, changes: dict) -> None:
    if changes.get("name") is not None:
        vendor.name = _text(changes["name"], "name", 200, required=True)
    if changes.get("port_origin") is not None:
        # Ports are IATA-style codes (MIA, BOG); one spelling keeps filters and reports clean.
        vendor.port_origin = _text(changes["port_origin"], "portOrigin", 5, required=True).upper()
    if changes.get("vendor_type") is not None:
        if changes["vendor_type"] not in VendorType.values:
            choices = ", ".join(f"{c.value} {c.label}" for c in VendorType)
            raise Invalid(f"must be one of {choices}", field="vendorType")
        vendor.vendor_type = changes["vendor_type"]
    for model_field, (api_field, max_length) in VENDOR_TEXT.items():
        if changes.get(model_field) is not None:
            setattr(vendor, model_field, _text(changes[model_field], api_field, max_length))
    if changes.get("email_for_pos") is not None:
        vendor.email_for_pos = _emails(changes["email_for_pos"], "emailForPOs")
    if changes.get("notes") is not None:
        vendor.notes = changes["notes"].strip()
    if vendor.code and _code_taken(Vendor, company=company, code=vendor.code, exclude_pk=vendor.pk):
        raise Conflict(f"another vendor already has the code {vendor.code!r}", field="code")
    _save_unique(vendor, "vendor")


@transaction.atomic
def add_vendor(
    *, company: Company, name: str, port_origin: str, vendor_type: int, **changes
) -> Vendor:
    vendor = Vendor(company=company, name=_text(name, "name", 200, required=True))
    _apply_vendor(
        vendor, company, {**changes, "port_origin": port_origin or "", "vendor_type": vendor_type}
    )
    return vendor


@transaction.atomic
def update_vendor(*, company: Company, vendor_id: int, **changes) -> Vendor:
    """Change a grower's details (only the fields given)."""
    vendor = Vendor.objects.select_for_update().filter(company=company, pk=vendor_id).first()
    if vendor is None:
        raise NotFound(f"vendor {vendor_id} does not exist", field="vendorId")
    _apply_vendor(vendor, company, changes)
    return vendor


def same_name(model, *, company: Company, name: str, exclude_pk: int | None = None) -> list:
    """Others of the company with this name (case and spaces aside): a duplicate is allowed
    (two florists may share a name) but a person creating one is warned."""
    qs = model.objects.filter(company=company, name__iexact=(name or "").strip())
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return list(qs.order_by("id")[:5])


@transaction.atomic
def set_vendor_active(*, company: Company, vendor_id: int, active: bool) -> Vendor:
    """Deactivate a grower (or bring it back). Deactivated, its people can no longer sign into
    the Vendor Portal and its Vendor token is refused, as an inactive customer's is."""
    vendor = Vendor.objects.select_for_update().filter(company=company, pk=vendor_id).first()
    if vendor is None:
        raise NotFound(f"vendor {vendor_id} does not exist", field="vendorId")
    if vendor.active != active:
        vendor.active = active
        vendor.save(update_fields=["active"])
    return vendor
