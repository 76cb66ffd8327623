"""Hard goods in the web application: Setup > Hard goods (products, receiving stock, where
they are shown), Sales > Inventory's hard-goods tab, and hard goods on an invoice. Writes go
through hardgoods.services and sales.hardgood_lines, the services the API uses."""

from django import forms
from django.contrib import messages
from django.db.models.functions import Lower
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from stemline.core.errors import DomainError
from stemline.core.limits import parse_id
from stemline.core.models import Location
from stemline.hardgoods import queries, services
from stemline.hardgoods.models import SKU_MAX_LENGTH, UPC_MAX_LENGTH
from stemline.inventory import queries as stock_queries
from stemline.parties.models import Vendor, VendorType
from stemline.sales import hardgood_lines
from stemline.sales.models import Invoice
from stemline.web.access import area_required, listing
from stemline.web.forms import add_service_error

MONEY = {"max_digits": 10, "decimal_places": 2, "min_value": 0}


class HardGoodProductForm(forms.Form):
    vendor = forms.ModelChoiceField(
        queryset=Vendor.objects.none(), help_text="Vendors of type Hard Goods."
    )
    sku = forms.CharField(label="SKU", max_length=SKU_MAX_LENGTH)
    description = forms.CharField(max_length=200)
    category = forms.CharField(max_length=100, help_text="A new name adds the category.")
    subcategory = forms.CharField(max_length=100)
    color = forms.CharField(max_length=50, required=False)
    pack_size = forms.IntegerField(
        label="Pack size", min_value=1, max_value=99_999, help_text="Units in one case."
    )
    unit_upc = forms.CharField(label="Unit UPC", max_length=UPC_MAX_LENGTH, required=False)
    case_upc = forms.CharField(label="Case UPC", max_length=UPC_MAX_LENGTH, required=False)
    unit_cost = forms.DecimalField(label="Unit cost", **MONEY)
    unit_price = forms.DecimalField(
        label="Unit price", required=False, help_text="Empty: cost plus the markup.", **MONEY
    )
    unit_price_markup = forms.DecimalField(
        label="Markup %", max_digits=6, decimal_places=2, min_value=0, required=False
    )
    discount = forms.DecimalField(
        label="Quantity discount %",
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
    )
    qty_for_discount = forms.IntegerField(
        label="Discount from (cases)", min_value=0, max_value=99_999, required=False
    )
    active_per_item = forms.BooleanField(label="Active", required=False, initial=True)

    ERROR_FIELDS = {"vendorId": "vendor", "packSize": "pack_size", "productId": None}

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vendor"].queryset = Vendor.objects.filter(
            company=company, vendor_type=VendorType.HARD_GOODS, active=True
        ).order_by(Lower("name"))


class ReceiveForm(forms.Form):
    quantity = forms.IntegerField(label="Units", min_value=1, max_value=services.MAX_UNITS_PER_CALL)
    unit_cost = forms.DecimalField(label="Unit cost", **MONEY)
    unit_price = forms.DecimalField(label="Unit price", required=False, **MONEY)
    location = forms.ModelChoiceField(queryset=Location.objects.none())

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.filter(company=company, active=True)
        self.fields["location"].initial = stock_queries.default_location(company).pk


class ShownForm(forms.Form):
    in_ecommerce = forms.BooleanField(
        label="Show hard goods in the e-commerce catalogue", required=False
    )
    in_channels = forms.BooleanField(
        label="Offer hard goods to marketplace channels", required=False
    )


PRODUCT_SORTS = {
    "description": [Lower("description")],
    "sku": [Lower("sku")],
    "category": [Lower("category__name"), Lower("subcategory")],
    "vendor": [Lower("vendor__name")],
    "cost": ["unit_cost"],
    "id": ["id"],
}


def _ctx(**extra) -> dict:
    return {"section": "setup", "page": "hard_goods", **extra}


@area_required("setup")
def product_list(request):
    company = request.user.company
    view = listing(
        request,
        queries.products(company),
        sorts=PRODUCT_SORTS,
        default="description",
        search=lambda qs, q: queries.search_products(company, q).filter(pk__in=qs.values("pk")),
    )
    shown = ShownForm(
        initial={
            "in_ecommerce": company.hard_goods_in_shop,
            "in_channels": company.hard_goods_in_channels,
        }
    )
    units = {
        row.product.pk: row.available
        for row in queries.stock(company, available_only=False, active_only=False)
    }
    for product in view["page_obj"]:
        product.units = units.get(product.pk, 0)
    return render(request, "web/setup/hard_goods.html", _ctx(shown=shown, **view))


@require_POST
@area_required("setup")
def shown_in(request):
    form = ShownForm(request.POST)
    if form.is_valid():
        services.set_settings(company=request.user.company, **form.cleaned_data)
        messages.success(request, "Where hard goods are shown was saved.")
    return redirect("hard_goods")


def _product_fields(data: dict) -> dict:
    fields = dict(data)
    fields.pop("vendor")
    fields.pop("category")
    fields["discount"] = fields["discount"] or 0
    fields["qty_for_discount"] = fields["qty_for_discount"] or 0
    return fields


@area_required("setup")
def product_edit(request, product_id: int | None = None):
    company = request.user.company
    product = None
    initial = {}
    if product_id is not None:
        product = queries.products(company).filter(pk=product_id).first()
        if product is None:
            raise Http404("no such hard-goods product")
        initial = {
            name: getattr(product, name)
            for name in HardGoodProductForm.base_fields
            if name not in ("vendor", "category")
        }
        initial.update(vendor=product.vendor_id, category=product.category.name)
    form = HardGoodProductForm(
        request.POST if request.method == "POST" else None, initial=initial, company=company
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if product is None:
                product = services.add_product(
                    company=company,
                    vendor=data["vendor"],
                    category=data["category"],
                    **_product_fields(data),
                )
                messages.success(request, f"Hard good {product.sku} created.")
            else:
                fields = _product_fields(data)
                for name in ("unit_price", "unit_price_markup"):
                    if fields[name] is None:
                        fields[name] = services.CLEAR
                product = services.update_product(
                    company=company,
                    product_id=product.pk,
                    vendor=data["vendor"],
                    category=data["category"],
                    **fields,
                )
                messages.success(request, f"Hard good {product.sku} saved.")
        except DomainError as error:
            add_service_error(form, error, HardGoodProductForm.ERROR_FIELDS)
        else:
            return redirect("hard_good_edit", product.pk)
    receive = ReceiveForm(
        company=company, initial={"unit_cost": getattr(product, "unit_cost", None)}
    )
    stock = queries.stock(company, available_only=False, active_only=False) if product else []
    return render(
        request,
        "web/setup/hard_good_edit.html",
        _ctx(
            form=form,
            product=product,
            receive=receive,
            stock=[row for row in stock if row.product.pk == product.pk] if product else [],
            heading=f"Hard good {product.sku}" if product else "New hard good",
            multi_location=company.multi_location,
        ),
    )


@require_POST
@area_required("inventory")
def receive(request, product_id: int):
    company = request.user.company
    form = ReceiveForm(request.POST, company=company)
    if not form.is_valid():
        errors = "; ".join(f"{form.fields[k].label}: {' '.join(v)}" for k, v in form.errors.items())
        messages.error(request, f"Not received: {errors}")
        return redirect("hard_good_edit", product_id)
    data = form.cleaned_data
    try:
        services.add_inventory(
            company=company,
            product_id=product_id,
            location=data["location"],
            quantity=data["quantity"],
            unit_cost=data["unit_cost"],
            unit_price=data["unit_price"],
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{data['quantity']} units received at {data['location'].name}.")
    return redirect("hard_good_edit", product_id)


# ---------------------------------------------------------------- Sales > Inventory


@area_required("inventory")
def inventory(request):
    company = request.user.company
    q = request.GET.get("q", "").strip()[:200]
    rows = queries.stock(company, search=q, available_only=False)
    return render(
        request,
        "web/sales/hard_goods.html",
        {
            "section": "sales",
            "rows": rows,
            "q": q,
            "multi_location": company.multi_location,
            "totals": {
                "available": sum(r.available for r in rows),
                "held": sum(r.held for r in rows),
                "committed": sum(r.committed for r in rows),
            },
        },
    )


# ---------------------------------------------------------------- on an invoice


@require_POST
@area_required("orders")
def invoice_add(request, invoice_id: int):
    company = request.user.company
    product_id = parse_id(request.POST.get("product"))
    quantity = parse_id(request.POST.get("quantity"))
    back = reverse("sales_invoice", args=[invoice_id])
    if product_id is None or quantity is None:
        messages.error(request, "Choose a hard good and how many units.")
        return redirect(back)
    if not Invoice.objects.filter(company=company, pk=invoice_id).exists():
        raise Http404("no such invoice")
    try:
        sale = hardgood_lines.add_to_invoice(
            company=company, invoice_id=invoice_id, product_id=product_id, quantity=quantity
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{sale.quantity} units of {sale.product.sku} added.")
    return redirect(back)


@require_POST
@area_required("orders")
def invoice_remove(request, invoice_id: int, sale_id: int):
    company = request.user.company
    if not Invoice.objects.filter(company=company, pk=invoice_id).exists():
        raise Http404("no such invoice")
    try:
        hardgood_lines.remove_from_invoice(company=company, invoice_id=invoice_id, sale_id=sale_id)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Hard-goods line removed; its units are available again.")
    return redirect("sales_invoice", invoice_id)
