"""Setup: customers with their ship-tos, carriers, vendors (and their portal users), products,
box types and locations. Writes go through parties.services, so the rules match the API."""

from django.contrib import messages
from django.db.models import Count, F, Q
from django.db.models.functions import Lower
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from stemline.catalog import services as catalog
from stemline.catalog.models import BoxType, Product
from stemline.core.errors import DomainError
from stemline.core.limits import parse_id
from stemline.core.models import Location, Role, User
from stemline.core.services import create_user, save_location
from stemline.parties import queries
from stemline.parties import services as parties
from stemline.parties.models import (
    AdditionalCharge,
    Carrier,
    Customer,
    CustomerType,
    SendInvoiceVia,
    ShipTo,
    Vendor,
)
from stemline.web.access import area_required, listing, paginate, sorted_by
from stemline.web.exports import xlsx_response
from stemline.web.forms import (
    AdditionalChargeForm,
    BoxTypeForm,
    CarrierEditForm,
    CarrierForm,
    CustomerForm,
    LocationForm,
    ProductForm,
    ShipToForm,
    VendorForm,
    VendorInviteForm,
    add_service_error,
)
from stemline.web.views.people import send_set_password_mail


def _ctx(page: str, **extra) -> dict:
    return {"section": "setup", "page": page, **extra}


@area_required("setup")
def setup_home(request):
    return redirect("customers")


# ---------------------------------------------------------------- customers


CUSTOMER_SORTS = {
    "name": [Lower("name")],
    "code": [Lower("code")],
    "type": ["customer_type"],
    "group": [Lower("customer_group")],
    "price": ["default_price"],
    "id": ["id"],
}


def _customer_filters(request, company, annotate=None):
    """The customers the filters ask for, in the order asked (the list and its export use the
    same)."""
    qs = queries.customers(company)
    if annotate:
        qs = qs.annotate(**annotate)
    f = {
        "q": request.GET.get("q", "").strip(),
        "status": request.GET.get("status", "active"),
        "type": request.GET.get("type", ""),
        "group": request.GET.get("group", "").strip(),
    }
    if f["q"]:
        qs = qs.filter(
            Q(name__icontains=f["q"]) | Q(code__iexact=f["q"]) | Q(accounting_code__iexact=f["q"])
        )
    if f["status"] == "active":
        qs = qs.filter(active=True)
    elif f["status"] == "inactive":
        qs = qs.filter(active=False)
    if parse_id(f["type"]):
        qs = qs.filter(customer_type=parse_id(f["type"]))
    if f["group"]:
        qs = qs.filter(customer_group__iexact=f["group"])
    qs, f["sort"] = sorted_by(request, qs, CUSTOMER_SORTS, "name")
    return qs, f


@area_required("setup")
def customer_list(request):
    company = request.user.company
    qs, filters = _customer_filters(
        request,
        company,
        annotate={"ship_to_count": Count("ship_tos", filter=Q(ship_tos__removed_at__isnull=True))},
    )
    return render(
        request,
        "web/setup/customers.html",
        _ctx(
            "customers",
            page_obj=paginate(request, qs),
            filters=filters,
            types=CustomerType.choices,
            groups=queries.customer_groups(company),
            query=request.GET.urlencode(),
            sort=filters["sort"],
        ),
    )


@area_required("setup")
def customer_export(request):
    qs, _ = _customer_filters(request, request.user.company)
    headers = [
        "Id",
        "Name",
        "Code",
        "Accounting Code",
        "Type",
        "Default Price",
        "Active",
        "Sales Person",
        "Phone",
        "Bill Address",
        "Bill City",
        "Bill State",
        "Bill ZIP Code",
        "Bill Country",
        "Credit Limit",
        "Credit Hold",
        "Group",
        "Payment Method",
        "Charge Tax",
        "Charge Fuel Surcharge",
        "Send Invoice Via",
    ]
    types = dict(CustomerType.choices)
    vias = dict(SendInvoiceVia.choices)
    yes = {True: "Yes", False: "No"}
    # Plain values, read from the database a chunk at a time while the file is sent.
    values = qs.values_list(
        "pk",
        "name",
        "code",
        "accounting_code",
        "customer_type",
        "default_price",
        "active",
        "sales_person_id",
        "sales_person__first_name",
        "sales_person__last_name",
        "sales_person__username",
        "phone",
        "bill_address",
        "bill_city",
        "bill_state",
        "bill_zipcode",
        "bill_country",
        "credit_limit",
        "credit_hold",
        "customer_group",
        "payment_method__name",
        "charge_tax",
        "charge_fuel_surcharge",
        "send_invoice_via",
    )
    rows = (
        [
            pk,
            name,
            code,
            accounting,
            types.get(kind, kind),
            price,
            yes[active],
            (f"{first} {last}".strip() or username) if person else "",
            phone,
            address,
            city,
            state,
            zipcode,
            country,
            credit_limit,
            yes[hold],
            group,
            method or "",
            yes[tax],
            yes[fuel],
            vias.get(via, via) if via else "",
        ]
        for (
            pk,
            name,
            code,
            accounting,
            kind,
            price,
            active,
            person,
            first,
            last,
            username,
            phone,
            address,
            city,
            state,
            zipcode,
            country,
            credit_limit,
            hold,
            group,
            method,
            tax,
            fuel,
            via,
        ) in values.iterator(chunk_size=2000)
    )
    return xlsx_response("customers", headers, rows)


def _customer_of(request, customer_id: int) -> Customer:
    customer = Customer.objects.filter(company_id=request.user.company_id, pk=customer_id).first()
    if customer is None:
        raise Http404("no such customer")
    return customer


@area_required("setup")
def customer_edit(request, customer_id: int | None = None):
    company = request.user.company
    customer = _customer_of(request, customer_id) if customer_id else None
    initial = {}
    if customer is not None:
        initial = {
            name: getattr(customer, name)
            for name in CustomerForm.base_fields
            if name not in ("sales_person", "locations", "payment_method")
        }
        initial["sales_person"] = customer.sales_person_id
        initial["payment_method"] = customer.payment_method.name if customer.payment_method else ""
        initial["locations"] = [loc.code for loc in customer.locations.all()]
    form = CustomerForm(
        request.POST if request.method == "POST" else None, company=company, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            if customer is None:
                changes = form.changes()
                customer = parties.add_customer(company=company, **changes)
                messages.success(request, f"Customer {customer.name} created (ID {customer.pk}).")
                _warn_same_name(request, Customer, company, customer, "customer")
            else:
                customer = parties.update_customer(
                    company=company, customer_id=customer.pk, **form.changes()
                )
                messages.success(request, f"Customer {customer.name} saved.")
                _warn_same_name(request, Customer, company, customer, "customer")
        except DomainError as error:
            add_service_error(form, error, CustomerForm.ERROR_FIELDS)
        else:
            return redirect("customer_edit", customer_id=customer.pk)
    ship_tos, contacts, charges = [], [], []
    if customer is not None:
        ship_tos = (
            ShipTo.objects.filter(company=company, customer=customer, removed_at__isnull=True)
            .select_related("carrier")
            .order_by(Lower("name"), "id")
        )
        contacts = customer.contacts.order_by(Lower("name"), "id")
        charges = queries.charges_for(customer)
    return render(
        request,
        "web/setup/customer_edit.html",
        _ctx(
            "customers",
            form=form,
            customer=customer,
            ship_tos=ship_tos,
            contacts=contacts,
            charges=charges,
        ),
    )


@area_required("setup")
def ship_to_edit(request, customer_id: int, ship_to_id: int | None = None):
    company = request.user.company
    customer = _customer_of(request, customer_id)
    ship_to = None
    initial = {}
    if ship_to_id is not None:
        ship_to = ShipTo.objects.filter(
            company=company, customer=customer, pk=ship_to_id, removed_at__isnull=True
        ).first()
        if ship_to is None:
            raise Http404("no such ship-to")
        initial = {name: getattr(ship_to, name) for name in ShipToForm.base_fields}
        initial["carrier"] = ship_to.carrier_id
    form = ShipToForm(
        request.POST if request.method == "POST" else None, company=company, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            if ship_to is None:
                changes = form.changes()
                parties.add_ship_to(company=company, customer_id=customer.pk, **changes)
            else:
                parties.update_ship_to(
                    company=company,
                    ship_to_id=ship_to.pk,
                    customer_id=customer.pk,
                    **form.changes(),
                )
        except DomainError as error:
            add_service_error(form, error, ShipToForm.ERROR_FIELDS)
        else:
            messages.success(request, "Ship-to saved.")
            return redirect("customer_edit", customer_id=customer.pk)
    return render(
        request,
        "web/setup/ship_to_edit.html",
        _ctx("customers", form=form, customer=customer, ship_to=ship_to),
    )


@require_POST
@area_required("setup")
def ship_to_remove(request, customer_id: int, ship_to_id: int):
    customer = _customer_of(request, customer_id)
    if not ShipTo.objects.filter(
        company_id=request.user.company_id, customer=customer, pk=ship_to_id
    ).exists():
        raise Http404("no such ship-to")
    try:
        parties.remove_ship_to(company=request.user.company, ship_to_id=ship_to_id)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Ship-to removed.")
    return redirect("customer_edit", customer_id=customer.pk)


# ---------------------------------------------------------------- additional charges


@area_required("setup")
def additional_charge_list(request):
    return render(
        request,
        "web/setup/additional_charges.html",
        _ctx("additional_charges", charges=queries.additional_charges(request.user.company)),
    )


@area_required("setup")
def additional_charge_edit(request, charge_id: int | None = None):
    company = request.user.company
    charge = None
    initial = {}
    if charge_id is not None:
        charge = AdditionalCharge.objects.filter(company=company, pk=charge_id).first()
        if charge is None:
            raise Http404("no such additional charge")
        initial = {name: getattr(charge, name) for name in AdditionalChargeForm.base_fields}
    form = AdditionalChargeForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = parties.save_additional_charge(
                company=company, charge_id=charge_id, **form.cleaned_data
            )
        except DomainError as error:
            add_service_error(form, error, AdditionalChargeForm.ERROR_FIELDS)
        else:
            messages.success(request, f"Additional charge {saved.code} saved.")
            return redirect("additional_charges")
    heading = f"{charge.code} {charge.name}" if charge else "New additional charge"
    return render(
        request,
        "web/setup/form.html",
        _ctx("additional_charges", form=form, heading=heading, back=reverse("additional_charges")),
    )


# ---------------------------------------------------------------- carriers


CARRIER_SORTS = {
    "code": [Lower("code")],
    "name": [Lower("name")],
    "direction": ["direction"],
    "capacity": [F("capacity").asc(nulls_first=True)],
    "active": ["active"],
    "id": ["id"],
}


def _carrier_search(qs, q):
    return qs.filter(Q(name__icontains=q) | Q(code__iexact=q))


def _carriers(request):
    """The carriers the list shows, with its search and order (the export takes the same)."""
    return listing(
        request,
        queries.carriers(request.user.company),
        sorts=CARRIER_SORTS,
        default="name",
        search=_carrier_search,
    )


@area_required("setup")
def carrier_list(request):
    view = _carriers(request)
    return render(
        request,
        "web/setup/carriers.html",
        _ctx("carriers", **view, query=request.GET.urlencode()),
    )


@area_required("setup")
def carrier_export(request):
    # The whole filtered set in the list's order, not just the page shown.
    qs = _carriers(request)["page_obj"].paginator.object_list
    headers = ["Id", "Code", "Name", "Direction", "Capacity", "Active", "City", "Country"]
    rows = (
        [
            c.pk,
            c.code,
            c.name,
            c.get_direction_display(),
            c.capacity,
            "Yes" if c.active else "No",
            c.city,
            c.country,
        ]
        for c in qs.iterator(chunk_size=2000)
    )
    return xlsx_response("carriers", headers, rows)


@area_required("setup")
def carrier_edit(request, carrier_id: int):
    carrier = Carrier.objects.filter(company_id=request.user.company_id, pk=carrier_id).first()
    if carrier is None:
        raise Http404("no such carrier")
    initial = {name: getattr(carrier, name) for name in CarrierEditForm.base_fields}
    form = CarrierEditForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            carrier = parties.update_carrier(
                company=request.user.company, carrier_id=carrier.pk, **form.cleaned_data
            )
        except DomainError as error:
            add_service_error(form, error, {})
        else:
            messages.success(request, f"Carrier {carrier.name} saved.")
            return redirect("carriers")
    return render(
        request,
        "web/setup/form.html",
        _ctx(
            "carriers",
            form=form,
            heading=f"Carrier {carrier.code} {carrier.name}",
            back=reverse("carriers"),
        ),
    )


@area_required("setup")
def carrier_new(request):
    form = CarrierForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            carrier = parties.add_carrier(company=request.user.company, **form.cleaned_data)
        except DomainError as error:
            add_service_error(form, error, {})
        else:
            messages.success(request, f"Carrier {carrier.name} created (ID {carrier.pk}).")
            return redirect("carriers")
    return render(
        request,
        "web/setup/form.html",
        _ctx("carriers", form=form, heading="New carrier", back=reverse("carriers")),
    )


# ---------------------------------------------------------------- vendors


VENDOR_SORTS = {
    "name": [Lower("name")],
    "code": [Lower("code")],
    "port": ["port_origin"],
    "users": ["portal_users"],
    "active": ["active"],
    "id": ["id"],
}


@area_required("setup")
def vendor_list(request):
    qs = queries.vendors(request.user.company).annotate(
        portal_users=Count("users", filter=Q(users__is_active=True))
    )
    view = listing(
        request,
        qs,
        sorts=VENDOR_SORTS,
        default="name",
        search=lambda qs, q: qs.filter(Q(name__icontains=q) | Q(code__iexact=q)),
    )
    return render(request, "web/setup/vendors.html", _ctx("vendors", **view))


def _warn_same_name(request, model, company, obj, what: str) -> None:
    """A second customer or vendor of the same name is allowed but usually a mistake."""
    others = parties.same_name(model, company=company, name=obj.name, exclude_pk=obj.pk)
    if others:
        ids = ", ".join(str(o.pk) for o in others)
        messages.warning(
            request,
            f"Another {what} is also named {obj.name} (ID {ids}): check it is not the same one.",
        )


@area_required("setup")
def vendor_new(request):
    form = VendorForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            vendor = parties.add_vendor(company=request.user.company, **form.cleaned_data)
        except DomainError as error:
            add_service_error(form, error, VendorForm.ERROR_FIELDS)
        else:
            messages.success(request, f"Vendor {vendor.name} created (ID {vendor.pk}).")
            _warn_same_name(request, Vendor, request.user.company, vendor, "vendor")
            return redirect("vendor_detail", vendor_id=vendor.pk)
    return render(
        request,
        "web/setup/form.html",
        _ctx("vendors", form=form, heading="New vendor", back=reverse("vendors")),
    )


@area_required("setup")
def vendor_detail(request, vendor_id: int):
    company = request.user.company
    vendor = Vendor.objects.filter(company=company, pk=vendor_id).first()
    if vendor is None:
        raise Http404("no such vendor")
    form = VendorInviteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            # No password is made up and mailed: the person chooses one from a one-time link
            # (the password-reset link), so nothing usable sits in a mailbox.
            user = create_user(
                company=company,
                email=form.cleaned_data["email"],
                role=Role.VENDOR,
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                vendor=vendor,
            )
        except DomainError as error:
            add_service_error(form, error, {"vendorId": None})
        else:
            send_set_password_mail(
                request,
                user,
                subject=f"{company.name} invites you to its Vendor Portal",
                template="web/email/vendor_invite.txt",
                vendor=vendor,
            )
            messages.success(
                request, f"Invitation sent to {user.email} with a link to choose a password."
            )
            return redirect("vendor_detail", vendor_id=vendor.pk)
    users = User.objects.filter(company=company, vendor=vendor).order_by("username")
    return render(
        request,
        "web/setup/vendor_detail.html",
        _ctx("vendors", vendor=vendor, form=form, users=users),
    )


@area_required("setup")
def vendor_edit(request, vendor_id: int):
    company = request.user.company
    vendor = Vendor.objects.filter(company=company, pk=vendor_id).first()
    if vendor is None:
        raise Http404("no such vendor")
    initial = {name: getattr(vendor, name) for name in VendorForm.base_fields}
    form = VendorForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            vendor = parties.update_vendor(
                company=company, vendor_id=vendor.pk, **form.cleaned_data
            )
        except DomainError as error:
            add_service_error(form, error, VendorForm.ERROR_FIELDS)
        else:
            messages.success(request, f"Vendor {vendor.name} saved.")
            _warn_same_name(request, Vendor, company, vendor, "vendor")
            return redirect("vendor_detail", vendor_id=vendor.pk)
    return render(
        request,
        "web/setup/form.html",
        _ctx(
            "vendors",
            form=form,
            heading=f"Edit {vendor.name}",
            back=reverse("vendor_detail", args=[vendor.pk]),
        ),
    )


@require_POST
@area_required("setup")
def vendor_active(request, vendor_id: int):
    """Deactivate a grower (its portal users and its Vendor token stop) or bring it back."""
    active = request.POST.get("active") == "1"
    try:
        vendor = parties.set_vendor_active(
            company=request.user.company, vendor_id=vendor_id, active=active
        )
    except DomainError as error:
        raise Http404(error.message) from error
    if active:
        messages.success(request, f"{vendor.name} is active again.")
    else:
        messages.success(
            request,
            f"{vendor.name} deactivated: its people can no longer sign into the Vendor Portal "
            "and its Vendor token stopped working.",
        )
    return redirect("vendor_detail", vendor_id=vendor.pk)


# ---------------------------------------------------------------- catalog and locations


PRODUCT_SORTS = {
    "description": [Lower("description")],
    "category": [Lower("category__name")],
    "variety": [Lower("variety")],
    "color": [Lower("color")],
    "grade": [Lower("grade")],
    "code": [Lower("legacy_code")],
    "price_a": [F("price_a").asc(nulls_first=True)],
    "price_b": [F("price_b").asc(nulls_first=True)],
    "id": ["id"],
}


@area_required("setup")
def product_list(request):
    qs = Product.objects.filter(company_id=request.user.company_id).select_related("category")
    view = listing(
        request,
        qs,
        sorts=PRODUCT_SORTS,
        default="description",
        search=lambda qs, q: qs.filter(Q(description__icontains=q) | Q(legacy_code__iexact=q)),
    )
    return render(request, "web/setup/products.html", _ctx("products", **view))


@area_required("setup")
def product_edit(request, product_id: int | None = None):
    company = request.user.company
    product = None
    initial = {}
    if product_id is not None:
        product = (
            Product.objects.select_related("category")
            .filter(company=company, pk=product_id)
            .first()
        )
        if product is None:
            raise Http404("no such product")
        initial = {
            name: getattr(product, name) for name in ProductForm.base_fields if name != "category"
        }
        initial["category"] = product.category.name
    form = ProductForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = dict(form.cleaned_data)
        category = changes.pop("category")
        for level in ("price_a", "price_b"):
            # An emptied price field clears the default (None alone would mean unchanged).
            if changes[level] is None:
                changes[level] = catalog.CLEAR
        try:
            if product is None:
                product = catalog.add_product(company=company, category=category, **changes)
                messages.success(request, f"Product {product.description} created.")
            else:
                product = catalog.update_product(
                    company=company, product_id=product.pk, category=category, **changes
                )
                messages.success(request, f"Product {product.description} saved.")
        except DomainError as error:
            add_service_error(form, error, ProductForm.ERROR_FIELDS)
        else:
            return redirect("products")
    heading = f"Product {product.description}" if product else "New product"
    return render(
        request,
        "web/setup/form.html",
        _ctx("products", form=form, heading=heading, back=reverse("products")),
    )


BOX_TYPE_SORTS = {"code": [Lower("code")], "name": [Lower("name")], "fbe": ["fbe"], "id": ["id"]}


@area_required("setup")
def box_type_list(request):
    view = listing(
        request,
        BoxType.objects.filter(company_id=request.user.company_id),
        sorts=BOX_TYPE_SORTS,
        default="code",
        search=lambda qs, q: qs.filter(Q(code__iexact=q) | Q(name__icontains=q)),
    )
    return render(request, "web/setup/box_types.html", _ctx("box_types", **view))


@area_required("setup")
def box_type_edit(request, box_type_id: int | None = None):
    company = request.user.company
    box = None
    initial = {}
    if box_type_id is not None:
        box = BoxType.objects.filter(company=company, pk=box_type_id).first()
        if box is None:
            raise Http404("no such box type")
        initial = {name: getattr(box, name) for name in BoxTypeForm.base_fields}
    form = BoxTypeForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            box = catalog.save_box_type(
                company=company, box_type_id=box_type_id, **form.cleaned_data
            )
        except DomainError as error:
            add_service_error(form, error, {})
        else:
            messages.success(request, f"Box type {box.code} saved.")
            return redirect("box_types")
    heading = f"Box type {box.code}" if box else "New box type"
    return render(
        request,
        "web/setup/form.html",
        _ctx("box_types", form=form, heading=heading, back=reverse("box_types")),
    )


LOCATION_SORTS = {"name": [Lower("name")], "code": [Lower("code")], "id": ["id"]}


def _multi_location(request):
    if not request.user.company.multi_location:
        raise Http404("single-location company")


@area_required("setup")
def location_list(request):
    _multi_location(request)
    view = listing(
        request,
        Location.objects.filter(company_id=request.user.company_id),
        sorts=LOCATION_SORTS,
        default="name",
        search=lambda qs, q: qs.filter(Q(name__icontains=q) | Q(code__iexact=q)),
    )
    return render(request, "web/setup/locations.html", _ctx("locations", **view))


@area_required("setup")
def location_edit(request, location_id: int | None = None):
    _multi_location(request)
    company = request.user.company
    location = None
    initial = {}
    if location_id is not None:
        location = Location.objects.filter(company=company, pk=location_id).first()
        if location is None:
            raise Http404("no such location")
        initial = {name: getattr(location, name) for name in LocationForm.base_fields}
    form = LocationForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            location = save_location(company=company, location_id=location_id, **form.cleaned_data)
        except DomainError as error:
            add_service_error(form, error, {})
        else:
            messages.success(request, f"Location {location.name} saved.")
            return redirect("locations")
    heading = f"Location {location.name}" if location else "New location"
    return render(
        request,
        "web/setup/form.html",
        _ctx("locations", form=form, heading=heading, back=reverse("locations")),
    )
