"""Reads of parties that several callers share, each a constant number of queries."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Lower

from stemline.core import shapes
from stemline.core.errors import NotFound
from stemline.core.models import Company, Location

from .models import (
    AdditionalCharge,
    Carrier,
    Customer,
    CustomerCharge,
    CustomerContact,
    PaymentMethod,
    ShipTo,
    Vendor,
)

# Lists sort by name the way people read it, whatever the database's collation.
BY_NAME = (Lower("name"), "id")


def carriers(company: Company) -> QuerySet[Carrier]:
    return Carrier.objects.filter(company=company).order_by(*BY_NAME)


def vendors(company: Company) -> QuerySet[Vendor]:
    return Vendor.objects.filter(company=company).order_by(*BY_NAME)


def customers(company: Company) -> QuerySet[Customer]:
    return (
        Customer.objects.filter(company=company)
        .select_related("sales_person", "payment_method")
        .order_by(*BY_NAME)
    )


def customer_groups(company: Company) -> list[str]:
    """The customer groups in use, for the filters' choices."""
    names = (
        Customer.objects.filter(company=company)
        .exclude(customer_group="")
        .values_list("customer_group", flat=True)
        .distinct()
    )
    return sorted(set(names), key=str.lower)


def customer_of(company: Company, customer_id: int, field: str = "customerId") -> Customer:
    customer = customers(company).filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist", field=field)
    return customer


def location_of(company: Company, location_id: int, field: str = "locationId") -> Location:
    location = Location.objects.filter(company=company, pk=location_id).first()
    if location is None:
        raise NotFound(f"location {location_id} does not exist", field=field)
    return location


def customers_buying_from(qs: QuerySet[Customer], location: Location) -> QuerySet[Customer]:
    """Customers that buy from a location: those assigned to it and, as
    company.location.list has it, those assigned to none (they buy from every location)."""
    links = Customer.locations.through.objects.filter(customer_id=OuterRef("pk"))
    return qs.filter(Exists(links.filter(location_id=location.pk)) | ~Exists(links))


def live_ship_tos(company: Company) -> QuerySet[ShipTo]:
    """Ship-tos not removed; removed ones stay only for the documents that name them."""
    return (
        ShipTo.objects.filter(company=company, removed_at__isnull=True)
        .select_related("carrier")
        .order_by(*BY_NAME)
    )


def payment_methods(company: Company) -> QuerySet[PaymentMethod]:
    return PaymentMethod.objects.filter(company=company).order_by(*BY_NAME)


def additional_charges(company: Company) -> QuerySet[AdditionalCharge]:
    return AdditionalCharge.objects.filter(company=company).order_by(*BY_NAME)


@dataclass(frozen=True)
class AppliedCharge:
    """One additional charge a customer's invoices carry, with the customer's value."""

    charge_id: int
    code: str
    name: str
    purpose: str
    amount_type: str
    value: Decimal


_ACTIVE_CHARGES = shapes.Select(
    lambda company_id: AdditionalCharge.objects.filter(company_id=company_id, active=True)
)


def _active_charge(purpose: str | None = None) -> Exists:
    found = AdditionalCharge.objects.filter(company_id=OuterRef("company_id"), active=True)
    if purpose is None:
        found = found.exclude(
            purpose__in=[AdditionalCharge.Purpose.FUEL, AdditionalCharge.Purpose.TAX]
        )
    else:
        found = found.filter(purpose=purpose)
    return Exists(found)


def with_charge_hints(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """Customers annotated with which kinds of the company's active charges exist, so that
    `charges_may_apply` answers without a query of its own (checkout reads them with the
    customer: one statement fewer for every order of a customer no charge applies to)."""
    return customers.annotate(
        has_fuel_charge=_active_charge(AdditionalCharge.Purpose.FUEL),
        has_tax_charge=_active_charge(AdditionalCharge.Purpose.TAX),
        has_other_charge=_active_charge(),
    )


def _could_apply(customer: Customer, fuel: bool, tax: bool, other: bool) -> bool:
    """Whether a customer pays any of the company's active charges, given which kinds exist:
    the fuel surcharge and the tax by its flags, any other charge perhaps (as an automatic
    charge of its own)."""
    return bool((fuel and customer.charge_fuel_surcharge) or (tax and customer.charge_tax) or other)


def charges_may_apply(customer: Customer) -> bool:
    """Whether charges_for could find a charge for this customer (read from the annotations
    of `with_charge_hints`; True when the customer was read without them)."""
    try:
        kinds = (customer.has_fuel_charge, customer.has_tax_charge, customer.has_other_charge)
    except AttributeError:
        return True
    return _could_apply(customer, *kinds)


def charges_for(customer: Customer) -> list[AppliedCharge]:
    """The additional charges applied on this customer's invoices, in code order: the fuel
    surcharge when chargeFuelSurcharge, the tax when chargeTax (both at the customer's own
    value if it has one, else the company's default), and every other active charge the
    customer has as an automatic charge. At most two queries: the customer's own charges are
    not read when none of the company's could apply (checkout works this out for every order)."""
    active = _ACTIVE_CHARGES.all(customer.company_id)
    fuel, tax = AdditionalCharge.Purpose.FUEL, AdditionalCharge.Purpose.TAX
    purposes = {c.purpose for c in active}
    if not _could_apply(customer, fuel in purposes, tax in purposes, bool(purposes - {fuel, tax})):
        return []
    own = {
        row.charge_id: row
        for row in CustomerCharge.objects.filter(customer_id=customer.pk).only(
            "charge_id", "amount_type", "amount_value"
        )
    }
    applied = []
    for charge in active:
        if charge.purpose == AdditionalCharge.Purpose.FUEL:
            wanted = customer.charge_fuel_surcharge
        elif charge.purpose == AdditionalCharge.Purpose.TAX:
            wanted = customer.charge_tax
        else:
            wanted = charge.pk in own
        if not wanted:
            continue
        row = own.get(charge.pk)
        applied.append(
            AppliedCharge(
                charge_id=charge.pk,
                code=charge.code,
                name=charge.name,
                purpose=charge.purpose,
                amount_type=row.amount_type if row else charge.amount_type,
                value=row.amount_value if row else charge.default_value,
            )
        )
    return sorted(applied, key=lambda c: (c.purpose == "tax", c.code))


def pod_recipients(customer: Customer) -> list[str]:
    """The e-mail addresses of the customer's contacts who receive proofs of delivery."""
    addresses = []
    for email in CustomerContact.objects.filter(customer=customer, email_pod=True).values_list(
        "email", flat=True
    ):
        addresses.extend(part for part in email.split(";") if part)
    return addresses
