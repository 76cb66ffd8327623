"""Setup > Vendor availability (Admin): the markup the company sells growers' offers at, and
the offers open now with what is sold and left of them."""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render

from stemline.availability import queries, services
from stemline.core.errors import DomainError
from stemline.inventory import services as stock
from stemline.web.access import area_required
from stemline.web.forms import add_service_error


class MarkupForm(forms.Form):
    markup_percent = forms.DecimalField(
        label="Markup over the grower's cost (%)",
        min_value=Decimal("0"),
        max_value=Decimal("1000"),
        decimal_places=2,
        help_text="Open offers are repriced at once; what is sold keeps its price.",
    )


@area_required("company")
def availability_settings(request):
    company = request.user.company
    form = MarkupForm(request.POST or None, initial={"markup_percent": services.markup(company)})
    if request.method == "POST" and form.is_valid():
        try:
            services.set_markup(company=company, percent=form.cleaned_data["markup_percent"])
        except DomainError as error:
            add_service_error(form, error, {"markupPercent": "markup_percent"})
        else:
            messages.success(request, "Markup saved; open offers repriced.")
            return redirect("availability_settings")
    offers = queries.offers(company, today=stock.today())
    for found in offers:
        found.left = max(0, found.line.available)
        found.sold = found.offered - found.left
    return render(
        request,
        "web/setup/availability.html",
        {"section": "setup", "page": "availability", "form": form, "offers": offers},
    )
