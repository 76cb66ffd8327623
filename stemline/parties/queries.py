"""Reads of parties that several callers share, each a constant number of queries."""

from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Lower

from stemline.core.errors import NotFound
from stemline.core.models import Company, Location

from .models import Carrier, Customer, ShipTo, Vendor

# Lists sort by name the way people read it, whatever the database's collation.
BY_NAME = (Lower("name"), "id")


def carriers(company: Company) -> QuerySet[Carrier]:
    return Carrier.objects.filter(company=company).order_by(*BY_NAME)


def vendors(company: Company) -> QuerySet[Vendor]:
    return Vendor.objects.filter(company=company).order_by(*BY_NAME)


def customers(company: Company) -> QuerySet[Customer]:
    return (
        Customer.objects.filter(company=company).select_related("sales_person").order_by(*BY_NAME)
    )


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
