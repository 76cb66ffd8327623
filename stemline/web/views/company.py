"""Setup > Company (Admin): the company's name, address, logo, time zone, currency, fee rate and
auto-confirm. core.services.update_company does the writing and checks the logo's content."""

from decimal import Decimal

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone

from stemline.core import services as core_services
from stemline.core.errors import DomainError
from stemline.web.access import area_required
from stemline.web.desk_forms import CompanyForm
from stemline.web.forms import add_service_error

FIELDS = {"companyName": "name", "timeZone": "time_zone", "transaction_fee_rate": "fee_percent"}


@area_required("company")
def company_settings(request):
    company = request.user.company
    if request.method == "POST":
        form = CompanyForm(request.POST, request.FILES)
        if form.is_valid():
            data = dict(form.cleaned_data)
            upload, remove = data.pop("logo"), data.pop("remove_logo")
            rate = (data.pop("fee_percent") / Decimal(100)).quantize(Decimal("0.0001"))
            data["default_terms"] = data.get("default_terms") or "Net 30"
            try:
                core_services.update_company(
                    company=company,
                    logo=upload.read() if upload else None,
                    remove_logo=remove,
                    transaction_fee_rate=rate,
                    **data,
                )
            except DomainError as error:
                add_service_error(form, error, FIELDS)
            else:
                messages.success(request, "Company settings saved.")
                return redirect("company_settings")
    else:
        initial = {
            name: getattr(company, name)
            for name in CompanyForm.base_fields
            if name not in ("fee_percent", "logo", "remove_logo")
        }
        initial["fee_percent"] = (company.transaction_fee_rate * 100).quantize(Decimal("0.01"))
        form = CompanyForm(initial=initial)
    return render(
        request,
        "web/desk/company.html",
        {
            "section": "setup",
            "page": "company",
            "form": form,
            "company": company,
            "now": timezone.now(),
        },
    )


@area_required("company")
def company_logo(request):
    """The stored logo, for the settings page's preview (media files are not served)."""
    from django.http import FileResponse, Http404  # noqa: PLC0415

    company = request.user.company
    if not company.logo:
        raise Http404("no logo")
    try:
        handle = company.logo.open("rb")
    except OSError:
        raise Http404("no logo") from None
    kind = "image/png" if company.logo.name.endswith(".png") else "image/jpeg"
    return FileResponse(handle, content_type=kind)
