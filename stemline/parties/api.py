"""API methods of the parties: carriers, customers and their ship-tos, vendors."""

from datetime import datetime
from typing import Literal

from stemline.api.listing import Paged, listing, values_in_order
from stemline.api.registry import COMPANY, CUSTOMER, USER, VENDOR, api_method
from stemline.api.schemas import (
    Envelope,
    Id,
    Number,
    OptBool,
    OptCount,
    OptDateTime,
    OptId,
    OptInt,
    OptMoney,
    OptPage,
    OptRows,
    Out,
    Params,
    Required,
    Str,
    flag,
    stamp,
)
from stemline.core.errors import Invalid
from stemline.core.filters import icontains, iexact
from stemline.core.models import Company

from . import queries, services
from .models import Customer, CustomerType, ShipTo, Vendor

# An unpaged customer.list / vendor.list longer than this is streamed, 500 rows at a time.
STREAM_FROM = 1000


def _stamp(value: datetime) -> datetime:
    # Whole seconds, so a client can send a row's stamp back as `updateAsOf` unchanged.
    return value.replace(microsecond=0)


def _person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.email or user.username


def _changes(p: Params, mapping: dict[str, str]) -> dict:
    """Model field -> value for the API fields the caller actually sent."""
    return {model: getattr(p, api) for api, model in mapping.items() if api in p.model_fields_set}


# ---------------------------------------------------------------- carriers


class CarrierListIn(Params):
    id: OptId = None
    name: Str(200) | None = None
    code: Str(10) | None = None
    active: OptBool = None


class CarrierOut(Out):
    id: int
    code: str
    name: str
    active: int
    street: str
    city: str
    state: str
    zipCode: str
    country: str
    phone: str
    kometNetworkName: str
    kometNetworkId: int | None
    capacity: int | None
    direction: str


class CarrierListOut(Envelope):
    carriers: list[CarrierOut]


@api_method(
    "carrier.list",
    request=CarrierListIn,
    response=CarrierListOut,
    tokens=[COMPANY, VENDOR, USER],
    area="master",
    read=True,
)
def carrier_list(call, p: CarrierListIn):
    """Carriers sorted by name."""
    qs = queries.carriers(call.company)
    if p.id is not None:
        qs = qs.filter(pk=p.id)
    if p.active is not None:
        qs = qs.filter(active=p.active)
    qs = iexact(icontains(qs, "name", p.name), "code", p.code)
    return {
        "carriers": [
            {
                "id": c.pk,
                "code": c.code,
                "name": c.name,
                "active": flag(c.active),
                "street": c.street,
                "city": c.city,
                "state": c.state,
                "zipCode": c.zipcode,
                "country": c.country,
                "phone": c.phone,
                # Stemline carriers are the company's own, not Komet Network masters.
                "kometNetworkName": "",
                "kometNetworkId": None,
                "capacity": c.capacity,
                "direction": c.direction,
            }
            for c in qs
        ]
    }


class CarrierAddIn(Params):
    name: Required(200)
    code: Required(10)
    capacity: OptCount = None
    direction: Literal["inbound", "outbound"] = "outbound"


class CarrierSavedOut(Envelope):
    carrierId: int


@api_method(
    "carrier.add",
    request=CarrierAddIn,
    response=CarrierSavedOut,
    tokens=[COMPANY, USER],
    area="master",
    creates=True,
)
def carrier_add(call, p: CarrierAddIn):
    """Create a carrier (outbound unless `direction` says inbound)."""
    carrier = services.add_carrier(
        company=call.company,
        name=p.name,
        code=p.code,
        capacity=p.capacity,
        direction=p.direction,
    )
    return {"message": "The carrier was successfully saved.", "carrierId": carrier.pk}


# ---------------------------------------------------------------- customers


class CustomerListIn(Params):
    id: OptId = None
    name: Str(200) | None = None
    code: Str(10) | None = None
    salesPersonId: OptId = None
    includeInactive: bool = False
    locationId: OptId = None
    updateAsOf: OptDateTime = None
    customerGroup: Str(50) | None = None
    page: OptPage = None
    rows: OptRows = None


class CustomerOut(Out):
    id: int
    accountingCode: str
    name: str
    code: str
    active: int
    salesPerson: str
    salesPersonId: int | None
    customerType: str
    customerGroup: str
    updatedOn: datetime


class CustomerListOut(Paged):
    customers: list[CustomerOut]


@api_method(
    "customer.list",
    request=CustomerListIn,
    response=CustomerListOut,
    tokens=[COMPANY, VENDOR, USER],
    area="master",
    read=True,
)
def customer_list(call, p: CustomerListIn):
    """Customers sorted by name, then id (active ones unless includeInactive).

    `customerGroup` (a Stemline addition) keeps the customers of one group (exact, any
    case); each row says its `customerGroup`.

    A long answer is streamed as it is read. Paging: send `page` (from 1) and/or `rows`
    (1-1,000; 100 when only `page` is sent) for one page in the list's order, with `total`
    (how many match), `page` and `rows` in the answer; without them the whole list comes, as
    before."""
    qs = queries.customers(call.company)
    if p.id is not None:
        qs = qs.filter(pk=p.id)
    elif not p.includeInactive:
        qs = qs.filter(active=True)
    qs = iexact(icontains(qs, "name", p.name), "code", p.code)
    if p.salesPersonId is not None:
        qs = qs.filter(sales_person_id=p.salesPersonId)
    if p.locationId is not None:
        qs = queries.customers_buying_from(qs, queries.location_of(call.company, p.locationId))
    if p.updateAsOf is not None:
        qs = qs.filter(updated_on__gte=p.updateAsOf)
    qs = iexact(qs, "customer_group", p.customerGroup)
    return listing(
        p,
        qs,
        order=queries.BY_NAME,
        key="customers",
        rows=_customer_rows,
        method="customer.list",
        stream_from=STREAM_FROM,
    )


CUSTOMER_TYPES = dict(CustomerType.choices)
CUSTOMER_VALUES = (
    "accounting_code",
    "name",
    "code",
    "active",
    "sales_person_id",
    "sales_person__first_name",
    "sales_person__last_name",
    "sales_person__email",
    "sales_person__username",
    "customer_type",
    "customer_group",
    "updated_on",
)


def _customer_rows(ids: list[int]) -> list[dict]:
    """customer.list's rows of these customers, plain values: one query."""
    rows = []
    for (
        pk,
        accounting_code,
        name,
        code,
        active,
        person_id,
        first,
        last,
        email,
        username,
        customer_type,
        group,
        updated_on,
    ) in values_in_order(Customer, ids, CUSTOMER_VALUES):
        person = ""
        if person_id is not None:
            person = f"{first} {last}".strip() or email or username
        rows.append(
            {
                "id": pk,
                "accountingCode": accounting_code,
                "name": name,
                "code": code,
                "active": flag(active),
                "salesPerson": person,
                "salesPersonId": person_id,
                "customerType": CUSTOMER_TYPES.get(customer_type, str(customer_type)),
                "customerGroup": group,
                "updatedOn": stamp(_stamp(updated_on)),
            }
        )
    return rows


class CustomerDetailsIn(Params):
    customerId: Id


class CustomerChargeOut(Out):
    additionalChargeId: int
    additionalChargeCode: str
    name: str
    amountType: str
    amountValue: Number


class CustomerDetailOut(Out):
    id: int
    name: str
    code: str
    accountingCode: str
    active: int
    type: int
    customerType: str
    billAddress: str
    billCity: str
    billState: str
    billZipCode: str
    billCountry: str
    shipAddress: str
    shipCity: str
    shipState: str
    shipZipCode: str
    shipCountry: str
    emailForInvoices: str
    emailForStatements: str
    phone: str
    fax: str
    website: str
    terms: str
    defaultPrice: str
    priceBMarkup: Number
    priceSellFastMarkup: Number
    creditLimit: Number | None
    creditHold: int
    salesPerson: str
    salesPersonId: int | None
    locationCodes: str
    paymentMethod: str
    chargeTax: int
    chargeFuelSurcharge: int
    sendInvoiceVia: str
    askPaymentUponConfirmation: int
    financeChargePercentage: Number
    customerGroup: str
    additionalCharges: list[CustomerChargeOut]
    updatedOn: datetime


class CustomerDetailsOut(Envelope):
    customer: list[CustomerDetailOut]


def _customer_detail(c: Customer, ship_to: ShipTo | None) -> dict:
    return {
        "id": c.pk,
        "name": c.name,
        "code": c.code,
        "accountingCode": c.accounting_code,
        "active": flag(c.active),
        "type": c.customer_type,
        "customerType": c.get_customer_type_display(),
        "billAddress": c.bill_address,
        "billCity": c.bill_city,
        "billState": c.bill_state,
        "billZipCode": c.bill_zipcode,
        "billCountry": c.bill_country,
        # The customer's ship address is its first ship-to (by name): Stemline keeps
        # addresses on ship-tos rather than a second copy on the customer.
        "shipAddress": ship_to.address if ship_to else "",
        "shipCity": ship_to.city if ship_to else "",
        "shipState": ship_to.state if ship_to else "",
        "shipZipCode": ship_to.zipcode if ship_to else "",
        "shipCountry": ship_to.country if ship_to else "",
        "emailForInvoices": c.email_for_invoices,
        "emailForStatements": c.email_for_statements,
        "phone": c.phone,
        "fax": c.fax,
        "website": c.website,
        "terms": c.terms,
        "defaultPrice": c.default_price,
        "priceBMarkup": c.price_b_markup,
        "priceSellFastMarkup": 0,
        "creditLimit": c.credit_limit,
        "creditHold": flag(c.credit_hold),
        "salesPerson": _person(c.sales_person),
        "salesPersonId": c.sales_person_id,
        "locationCodes": ":".join(loc.code for loc in c.locations.order_by("code")),
        "paymentMethod": c.payment_method.name if c.payment_method else "",
        "chargeTax": flag(c.charge_tax),
        "chargeFuelSurcharge": flag(c.charge_fuel_surcharge),
        "sendInvoiceVia": c.send_invoice_via,
        "askPaymentUponConfirmation": flag(c.ask_payment_upon_confirmation),
        "financeChargePercentage": c.finance_charge_percentage,
        "customerGroup": c.customer_group,
        # What this customer's invoices carry: the flags' charges and its automatic ones.
        "additionalCharges": [
            {
                "additionalChargeId": a.charge_id,
                "additionalChargeCode": a.code,
                "name": a.name,
                "amountType": a.amount_type,
                "amountValue": a.value,
            }
            for a in queries.charges_for(c)
        ],
        "updatedOn": _stamp(c.updated_on),
    }


@api_method(
    "customer.details.get",
    request=CustomerDetailsIn,
    response=CustomerDetailsOut,
    tokens=[COMPANY, CUSTOMER, USER],
    area="master",
    read=True,
)
def customer_details_get(call, p: CustomerDetailsIn):
    """One customer's profile (a Customer token: its own only)."""
    customer_id = call.own_customer(p.customerId)
    customer = queries.customer_of(call.company, customer_id)
    ship_to = queries.live_ship_tos(call.company).filter(customer=customer).first()
    return {"customer": [_customer_detail(customer, ship_to)]}


# API field -> model field, shared by customer.add and customer.update.
CUSTOMER_FIELDS = {
    "code": "code",
    "accountingCode": "accounting_code",
    "locationCodes": "location_codes",
    "type": "customer_type",
    "defaultPrice": "default_price",
    "priceBMarkup": "price_b_markup",
    "phone": "phone",
    "fax": "fax",
    "website": "website",
    "terms": "terms",
    "emailForInvoices": "email_for_invoices",
    "emailForStatements": "email_for_statements",
    "creditHold": "credit_hold",
    "creditLimit": "credit_limit",
    "salesPersonId": "sales_person_id",
    "billAddress": "bill_address",
    "billCity": "bill_city",
    "billState": "bill_state",
    "billZipCode": "bill_zipcode",
    "billCountry": "bill_country",
    "paymentMethod": "payment_method",
    "chargeTax": "charge_tax",
    "chargeFuelSurcharge": "charge_fuel_surcharge",
    "sendInvoiceVia": "send_invoice_via",
    "askPaymentUponConfirmation": "ask_payment_upon_confirmation",
    "financeChargePercentage": "finance_charge_percentage",
    "customerGroup": "customer_group",
}


class CustomerFieldsIn(Params):
    code: Str(10) | None = None
    accountingCode: Str(20) | None = None
    locationCodes: Str(500) | None = None
    type: OptInt = None
    defaultPrice: Str(1) | None = None
    priceBMarkup: OptMoney(6, 2) = None
    phone: Str(20) | None = None
    fax: Str(20) | None = None
    website: Str(50) | None = None
    terms: Str(50) | None = None
    emailForInvoices: Str(200) | None = None
    emailForStatements: Str(200) | None = None
    creditHold: OptBool = None
    # Empty means no limit; 0 means no credit at all.
    creditLimit: OptMoney(10, 2) = None
    salesPersonId: OptId = None
    billAddress: Str(200) | None = None
    billCity: Str(50) | None = None
    billState: Str(50) | None = None
    billZipCode: Str(10) | None = None
    billCountry: Str(50) | None = None
    # A name from payment.method.list; empty clears it.
    paymentMethod: Str(50) | None = None
    chargeTax: OptBool = None
    chargeFuelSurcharge: OptBool = None
    sendInvoiceVia: Str(50) | None = None
    askPaymentUponConfirmation: OptBool = None
    financeChargePercentage: OptMoney(5, 2) = None
    customerGroup: Str(50) | None = None


class CustomerAddIn(CustomerFieldsIn):
    name: Required(200)


class CustomerUpdateIn(CustomerFieldsIn):
    customerId: Id
    name: Str(200) | None = None
    active: OptBool = None


class CustomerSavedOut(Envelope):
    customerId: int


@api_method(
    "customer.add",
    request=CustomerAddIn,
    response=CustomerSavedOut,
    tokens=[COMPANY, USER],
    area="master",
    creates=True,
)
def customer_add(call, p: CustomerAddIn):
    """Create a customer.

    Besides the reference's fields: `paymentMethod` names one of payment.method.list (any
    case; empty clears it). `chargeTax` / `chargeFuelSurcharge` put the company's tax (a
    percentage of the invoice lines) and fuel surcharge on this customer's invoices, as
    additional charges at the company's default value or the customer's own
    (customer.additional.charge.update). `sendInvoiceVia` is `Email` (also `E-mail`, `Mail`),
    `Print` or empty (not sent): with Email each invoice's PDF is e-mailed to
    `emailForInvoices` when the invoice is confirmed, so Email needs that address; Stemline
    sends no faxes, so `Fax` is refused. `askPaymentUponConfirmation` makes the Orders page
    ask the sales rep who confirms to collect the payment. `financeChargePercentage` (0 to
    100, no % sign) is kept for the accounts-receivable statements. `customerGroup` (free
    text, 50) filters customer.list, customer.by.company.list and Setup > Customers."""
    customer = services.add_customer(
        company=call.company, name=p.name, **_changes(p, CUSTOMER_FIELDS)
    )
    return {"message": "The customer was successfully saved.", "customerId": customer.pk}


@api_method(
    "customer.update",
    request=CustomerUpdateIn,
    response=CustomerSavedOut,
    tokens=[COMPANY, USER],
    area="master",
)
def customer_update(call, p: CustomerUpdateIn):
    """Update a customer (only the fields sent change; locationCodes replaces the list).

    The fields and their effects are customer.add's. A change of chargeTax,
    chargeFuelSurcharge or the charges' values reaches the invoices made, changed or
    confirmed after it; confirmed invoices keep the charges they were confirmed with."""
    changes = _changes(p, {**CUSTOMER_FIELDS, "name": "name", "active": "active"})
    if "name" in changes and not changes["name"]:
        raise Invalid("must not be empty", field="name")
    customer = services.update_customer(company=call.company, customer_id=p.customerId, **changes)
    return {"message": "The customer was successfully saved.", "customerId": customer.pk}


# ---------------------------------------------------------------- ship-tos


class ShipToListIn(Params):
    customerId: OptId = None
    name: Str(200) | None = None
    updatedAsOf: OptDateTime = None
    # The reference spells the date filter both ways; both mean "changed on or after".
    updateAsOf: OptDateTime = None
    id: OptId = None


class ShipToOut(Out):
    id: int
    customerId: int
    shipToCode: str
    name: str
    address: str
    city: str
    state: str
    zipcode: str
    country: str
    phone: str
    fax: str
    carrierId: int | None
    carrierName: str
    carrierAccount: str
    carrierCode: str
    salesPersonCodeForFlowers: str
    salesPersonCodeForPlants: str
    updatedAsOf: datetime


class ShipToListOut(Envelope):
    shiptos: list[ShipToOut]


def _ship_to_row(s: ShipTo) -> dict:
    return {
        "id": s.pk,
        "customerId": s.customer_id,
        "shipToCode": s.ship_to_code,
        "name": s.name,
        "address": s.address,
        "city": s.city,
        "state": s.state,
        "zipcode": s.zipcode,
        "country": s.country,
        "phone": s.phone,
        "fax": s.fax,
        "carrierId": s.carrier_id,
        "carrierName": s.carrier.name if s.carrier else "",
        "carrierAccount": s.carrier_account,
        "carrierCode": s.carrier.code if s.carrier else "",
        "salesPersonCodeForFlowers": s.sales_person_code_flowers,
        "salesPersonCodeForPlants": s.sales_person_code_plants,
        "updatedAsOf": _stamp(s.updated_on),
    }


@api_method(
    "customer.shipto.list",
    request=ShipToListIn,
    response=ShipToListOut,
    tokens=[COMPANY, VENDOR, CUSTOMER, USER],
    area="master",
    read=True,
)
def shipto_list(call, p: ShipToListIn):
    """Customers' ship-to addresses (give customerId, name or updatedAsOf)."""
    changed_since = p.updatedAsOf or p.updateAsOf
    # A Customer token is bound to one customer, which is filter enough.
    customer_id = call.own_customer(p.customerId)
    if customer_id is None and not p.name and changed_since is None:
        raise Invalid("give at least one of customerId, name, updatedAsOf", field="customerId")
    qs = queries.live_ship_tos(call.company)
    if customer_id is not None:
        qs = qs.filter(customer=queries.customer_of(call.company, customer_id))
    if p.id is not None:
        qs = qs.filter(pk=p.id)
    qs = icontains(qs, "name", p.name)
    if changed_since is not None:
        qs = qs.filter(updated_on__gte=changed_since)
    return {"shiptos": [_ship_to_row(s) for s in qs]}


SHIP_TO_FIELDS = {
    "shipToCode": "ship_to_code",
    "address": "address",
    "city": "city",
    "state": "state",
    "zipcode": "zipcode",
    "country": "country",
    "phone": "phone",
    "fax": "fax",
    "carrierId": "carrier_id",
    "carrierAccount": "carrier_account",
    "salesPersonCodeForFlowers": "sales_person_code_flowers",
    "salesPersonCodeForPlants": "sales_person_code_plants",
}


class ShipToFieldsIn(Params):
    shipToCode: Str(50) | None = None
    address: Str(200) | None = None
    city: Str(50) | None = None
    state: Str(50) | None = None
    zipcode: Str(10) | None = None
    country: Str(50) | None = None
    phone: Str(20) | None = None
    fax: Str(20) | None = None
    carrierId: OptId = None
    carrierAccount: Str(20) | None = None
    salesPersonCodeForFlowers: Str(20) | None = None
    salesPersonCodeForPlants: Str(20) | None = None


class ShipToAddIn(ShipToFieldsIn):
    customerId: Id
    name: Required(200)


class ShipToUpdateIn(ShipToFieldsIn):
    shipToId: Id
    customerId: OptId = None
    name: Str(200) | None = None


class ShipToSavedOut(Envelope):
    shipToId: int


@api_method(
    "customer.shipto.add",
    request=ShipToAddIn,
    response=ShipToSavedOut,
    tokens=[COMPANY, USER],
    area="master",
    creates=True,
)
def shipto_add(call, p: ShipToAddIn):
    """Add a ship-to address to a customer."""
    ship_to = services.add_ship_to(
        company=call.company,
        customer_id=p.customerId,
        name=p.name,
        **_changes(p, SHIP_TO_FIELDS),
    )
    return {"message": "Ship to was successfully saved", "shipToId": ship_to.pk}


@api_method(
    "customer.shipto.update",
    request=ShipToUpdateIn,
    response=ShipToSavedOut,
    tokens=[COMPANY, USER],
    area="master",
)
def shipto_update(call, p: ShipToUpdateIn):
    """Update a ship-to (only the fields sent change)."""
    changes = _changes(p, {**SHIP_TO_FIELDS, "name": "name"})
    if "name" in changes and not changes["name"]:
        raise Invalid("must not be empty", field="name")
    ship_to = services.update_ship_to(
        company=call.company, ship_to_id=p.shipToId, customer_id=p.customerId, **changes
    )
    return {"message": "Ship to was successfully saved", "shipToId": ship_to.pk}


class ShipToDeleteIn(Params):
    shipToId: Id


@api_method(
    "customer.shipto.delete",
    request=ShipToDeleteIn,
    response=Envelope,
    tokens=[COMPANY, USER],
    area="master",
)
def shipto_delete(call, p: ShipToDeleteIn):
    """Remove a ship-to (documents that name it keep it)."""
    services.remove_ship_to(company=call.company, ship_to_id=p.shipToId)
    return {"message": "Ship to removed."}


# ---------------------------------------------------------------- vendors


class VendorListIn(Params):
    id: OptId = None
    name: Str(200) | None = None
    code: Str(10) | None = None
    portOrigin: Str(5) | None = None
    includeInactive: bool = False
    page: OptPage = None
    rows: OptRows = None


class VendorOut(Out):
    id: int
    name: str
    code: str
    portOrigin: str
    vendorType: int
    cargoMasterCode: str
    active: int


class VendorListOut(Paged):
    vendors: list[VendorOut]


@api_method(
    "vendor.list",
    request=VendorListIn,
    response=VendorListOut,
    tokens=[COMPANY, USER],
    area="master",
    read=True,
)
def vendor_list(call, p: VendorListIn):
    """Vendors (growers) sorted by name, then id (active ones unless includeInactive).

    A long answer is streamed as it is read. Paging: send `page` (from 1) and/or `rows`
    (1-1,000; 100 when only `page` is sent) for one page in the list's order, with `total`
    (how many match), `page` and `rows` in the answer; without them the whole list comes, as
    before."""
    qs = queries.vendors(call.company)
    if p.id is not None:
        qs = qs.filter(pk=p.id)
    elif not p.includeInactive:
        qs = qs.filter(active=True)
    qs = iexact(icontains(qs, "name", p.name), "code", p.code)
    qs = iexact(qs, "port_origin", p.portOrigin)
    return listing(
        p,
        qs,
        order=queries.BY_NAME,
        key="vendors",
        rows=_vendor_rows,
        method="vendor.list",
        stream_from=STREAM_FROM,
    )


VENDOR_VALUES = ("name", "code", "port_origin", "vendor_type", "cargo_master_code", "active")


def _vendor_rows(ids: list[int]) -> list[dict]:
    """vendor.list's rows of these vendors, plain values: one query."""
    return [
        {
            "id": pk,
            "name": name,
            "code": code,
            "portOrigin": port_origin,
            "vendorType": vendor_type,
            "cargoMasterCode": cargo_master_code,
            "active": flag(active),
        }
        for pk, name, code, port_origin, vendor_type, cargo_master_code, active in values_in_order(
            Vendor, ids, VENDOR_VALUES
        )
    ]


VENDOR_FIELDS = {
    "code": "code",
    "phone1": "phone1",
    "phone2": "phone2",
    "phone3": "phone3",
    "fax": "fax",
    "webPage": "web_page",
    "emailForPOs": "email_for_pos",
    "contactName": "contact_name",
    "notes": "notes",
    "street": "street",
    "city": "city",
    "state": "state",
    "zipcode": "zipcode",
    "country": "country",
}


class VendorAddIn(Params):
    name: Required(200)
    portOrigin: Required(5)
    vendorType: int
    code: Str(10) | None = None
    phone1: Str(20) | None = None
    phone2: Str(20) | None = None
    phone3: Str(20) | None = None
    fax: Str(20) | None = None
    webPage: Str(100) | None = None
    emailForPOs: Str(200) | None = None
    contactName: Str(100) | None = None
    notes: Str(2000) | None = None
    street: Str(200) | None = None
    city: Str(50) | None = None
    state: Str(50) | None = None
    zipcode: Str(10) | None = None
    country: Str(50) | None = None


class VendorSavedOut(Envelope):
    vendorId: int


@api_method(
    "vendor.add",
    request=VendorAddIn,
    response=VendorSavedOut,
    tokens=[COMPANY, USER],
    area="master",
    creates=True,
)
def vendor_add(call, p: VendorAddIn):
    """Create a vendor (grower): vendorType 1 Fresh Cut, 2 Freight & Handling, 3 Hard Goods."""
    vendor = services.add_vendor(
        company=call.company,
        name=p.name,
        port_origin=p.portOrigin,
        vendor_type=p.vendorType,
        **_changes(p, VENDOR_FIELDS),
    )
    return {"message": "The Vendor was successfully saved.", "vendorId": vendor.pk}


# ---------------------------------------------------------------- contacts


class ContactAddIn(Params):
    customerId: Id
    name: Required(100)
    type: Required(20)
    phone: Str(20) | None = None
    ext: Str(10) | None = None
    mobile: Str(20) | None = None
    fax: Str(20) | None = None
    email: Str(200) | None = None
    description: Str(200) | None = None
    instantMessaging: Str(100) | None = None
    emailPOD: OptBool = None


class ContactSavedOut(Envelope):
    contactId: int


@api_method(
    "customer.contact.add",
    request=ContactAddIn,
    response=ContactSavedOut,
    tokens=[COMPANY, USER],
    area="master",
    creates=True,
)
def contact_add(call, p: ContactAddIn):
    """Add a contact person to a customer.

    `type` is one of A/P, A/R, Buyer, Owner, Manager, Receiving, Sales, Other (any case);
    another is refused with 422. `email` may hold several addresses separated by `;`, each
    checked. A contact with `emailPOD` needs an e-mail: those contacts are the customer's
    proof-of-delivery recipients (shown in Setup > Customers)."""
    contact = services.add_contact(
        company=call.company,
        customer_id=p.customerId,
        name=p.name,
        contact_type=p.type,
        email=p.email or "",
        email_pod=bool(p.emailPOD),
        phone=p.phone,
        ext=p.ext,
        mobile=p.mobile,
        fax=p.fax,
        description=p.description,
        instant_messaging=p.instantMessaging,
    )
    return {"message": "Contact was successfully saved", "contactId": contact.pk}


# ---------------------------------------------------------------- customers of a user

SALES_CHANNELS = ("WEB_APP", "MOBILE_APP", "K2K", "ECOMMERCE_LITE")


def _sales_channel(call) -> str:
    """X-SALES-CHANNEL, required where the reference requires it."""
    value = (call.request.headers.get("X-SALES-CHANNEL") or "").strip().upper()
    if not value:
        raise Invalid("this header is required", field="X-SALES-CHANNEL")
    if value not in SALES_CHANNELS:
        raise Invalid(f"must be one of {', '.join(SALES_CHANNELS)}", field="X-SALES-CHANNEL")
    return value


class ByCompanyIn(Params):
    showSalespersonCustomers: OptBool = None
    customerGroup: Str(50) | None = None


class ByCompanyRowOut(Out):
    customerId: int
    customerName: str


class ByCompanyOut(Envelope):
    customerResult: list[ByCompanyRowOut]


@api_method(
    "customer.by.company.list",
    request=ByCompanyIn,
    response=ByCompanyOut,
    tokens=[USER],
    area="master",
    read=True,
    account_required=True,
)
def customer_by_company_list(call, p: ByCompanyIn):
    """Active customers visible to the logged-in user (a User token), sorted by name.

    Headers `X-ACCOUNT` and `X-SALES-CHANNEL` (WEB_APP, MOBILE_APP, K2K, ECOMMERCE_LITE) are
    required. `showSalespersonCustomers=1` keeps the customers whose sales person is the
    caller; `customerGroup` (a Stemline addition) keeps one group (exact, any case). No
    customer: status 1, "Customers not found." and an empty list."""
    _sales_channel(call)
    qs = queries.customers(call.company).filter(active=True)
    if p.showSalespersonCustomers:
        qs = qs.filter(sales_person=call.user)
    qs = iexact(qs, "customer_group", p.customerGroup)
    rows = [{"customerId": c.pk, "customerName": c.name} for c in qs]
    return {"message": "OK" if rows else "Customers not found.", "customerResult": rows}


# ---------------------------------------------------------------- additional charges


class AdditionalChargeListIn(Params):
    id: OptId = None
    name: Str(100) | None = None
    code: Str(20) | None = None
    active: OptBool = None


class AdditionalChargeOut(Out):
    id: int
    name: str
    code: str
    active: int
    amountType: str
    defaultValue: Number
    purpose: str


class AdditionalChargeListOut(Envelope):
    additionalCharges: list[AdditionalChargeOut]


@api_method(
    "additional.charge.list",
    request=AdditionalChargeListIn,
    response=AdditionalChargeListOut,
    tokens=[COMPANY, USER],
    area="master",
    read=True,
)
def additional_charge_list(call, p: AdditionalChargeListIn):
    """The company's additional charges (fuel surcharge, tax, ...) sorted by name.

    Besides the reference's `id`, `name`, `code`, `active`, each row says `amountType`
    (`%` a percentage of the invoice lines, `$` an amount per invoice), `defaultValue` and
    `purpose`: `fuel` is applied to customers with chargeFuelSurcharge, `tax` to those with
    chargeTax (reported as the invoice's `taxes`), `other` to customers that have the charge
    among their automatic charges (customer.additional.charge.update)."""
    qs = queries.additional_charges(call.company)
    if p.id is not None:
        qs = qs.filter(pk=p.id)
    if p.active is not None:
        qs = qs.filter(active=p.active)
    qs = iexact(icontains(qs, "name", p.name), "code", p.code)
    rows = [
        {
            "id": c.pk,
            "name": c.name,
            "code": c.code,
            "active": flag(c.active),
            "amountType": c.amount_type,
            "defaultValue": c.default_value,
            "purpose": c.purpose,
        }
        for c in qs
    ]
    return {
        "message": "OK" if rows else "Additional charges not found.",
        "additionalCharges": rows,
    }


class CustomerChargeIn(Params):
    customerId: Id
    additionalChargeCode: Required(20)
    amountValue: OptMoney(10, 2) = None
    amountType: Literal["%", "$"] | None = None


class CustomerChargeSavedOut(Envelope):
    customerId: int
    additionalChargeId: int
    amountType: str
    amountValue: Number


@api_method(
    "customer.additional.charge.update",
    request=CustomerChargeIn,
    response=CustomerChargeSavedOut,
    tokens=[COMPANY, USER],
    area="master",
)
def customer_additional_charge_update(call, p: CustomerChargeIn):
    """Make an additional charge automatic on a customer's invoices, with its own value.

    `amountType` `%` is a percentage of the invoice lines (at most 100), `$` an amount per
    invoice; either left out takes the charge's default. Sending it again changes the value.
    For the fuel surcharge (FS) and the tax it also turns chargeFuelSurcharge / chargeTax on.
    The charge applies to invoices made, changed or confirmed from then on; invoices already
    confirmed keep theirs. Unknown charge code or customer: 404; an inactive charge: 409."""
    row = services.set_customer_charge(
        company=call.company,
        customer_id=p.customerId,
        charge_code=p.additionalChargeCode,
        amount_value=p.amountValue,
        amount_type=p.amountType,
    )
    return {
        "message": "The automatic additional charge was successfully saved.",
        "customerId": row.customer_id,
        "additionalChargeId": row.charge_id,
        "amountType": row.amount_type,
        "amountValue": row.amount_value,
    }


# ---------------------------------------------------------------- payment methods


class PaymentMethodListIn(Params):
    id: OptId = None
    name: Str(50) | None = None
    active: OptBool = None


class PaymentMethodOut(Out):
    id: int
    name: str
    active: int


class PaymentMethodListOut(Envelope):
    paymentMethods: list[PaymentMethodOut]


@api_method(
    "payment.method.list",
    request=PaymentMethodListIn,
    response=PaymentMethodListOut,
    tokens=[COMPANY, USER],
    area="master",
    read=True,
)
def payment_method_list(call, p: PaymentMethodListIn):
    """The company's payment methods sorted by name (`id` is payment.receive's `methodId`).

    Every company starts with Check, Credit Card, Wire, ACH and Cash. A customer's
    `paymentMethod` (customer.add / customer.update) names one of these, any case."""
    qs = queries.payment_methods(call.company)
    if p.id is not None:
        qs = qs.filter(pk=p.id)
    if p.active is not None:
        qs = qs.filter(active=p.active)
    qs = icontains(qs, "name", p.name)
    rows = [{"id": m.pk, "name": m.name, "active": flag(m.active)} for m in qs]
    return {"message": "OK" if rows else "Payment methods not found.", "paymentMethods": rows}


# ---------------------------------------------------------------- ecommerce-lite/settings


class LiteSettingsIn(Params):
    customerId: Id


class LiteUserInfoOut(Out):
    isMultilocation: int
    showArrivalDate: int
    chargeTax: int
    isMultiCompany: int
    isEcommerceLite: int
    isAdminSales: int
    showVendorCodeOrName: int
    companyName: str
    customerName: str
    username: str
    companyLogo: str
    enableAccessAppMobile: int


class LiteSettingsOut(Envelope):
    userInfo: list[LiteUserInfoOut]


@api_method(
    "ecommerce-lite/settings",
    request=LiteSettingsIn,
    response=LiteSettingsOut,
    tokens=[CUSTOMER],
    area="sales",
    read=True,
    account_required=True,
)
def ecommerce_lite_settings(call, p: LiteSettingsIn):
    """The shop's settings for a customer (a Customer token: its own only).

    `isMultilocation` is the company's, `chargeTax` the customer's (its invoices carry the
    tax), `companyName`/`customerName` theirs. A Customer token is no person, so `username`
    is the token's description and `isAdminSales`, `isMultiCompany` are 0. Stemline shows
    ship dates (`showArrivalDate` 0), hides vendors from buyers (`showVendorCodeOrName` 0),
    has one shop experience (`isEcommerceLite` 0), no mobile app
    (`enableAccessAppMobile` 0) and no logo (`companyLogo` empty, as Komet's)."""
    customer = queries.customer_of(call.company, call.own_customer(p.customerId))
    company = Company.objects.get(pk=call.company.pk)  # the settings as they are now
    return {
        "userInfo": [
            {
                "isMultilocation": flag(company.multi_location),
                "showArrivalDate": 0,
                "chargeTax": flag(customer.charge_tax),
                "isMultiCompany": 0,
                "isEcommerceLite": 0,
                "isAdminSales": 0,
                "showVendorCodeOrName": 0,
                "companyName": company.name,
                "customerName": customer.name,
                "username": call.token.description if call.token else "",
                "companyLogo": "",
                "enableAccessAppMobile": 0,
            }
        ]
    }
