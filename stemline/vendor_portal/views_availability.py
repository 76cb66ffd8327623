"""Vendor Portal pages of availability: what the grower offers, a form to offer more, and a
CSV upload previewed row by row before it is confirmed."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from stemline.availability import queries, services, upload
from stemline.core.errors import DomainError
from stemline.inventory import services as stock
from stemline.web.access import vendor_required
from stemline.web.forms import add_service_error

from .forms import OfferForm, UploadForm

# The file being previewed waits in the session until it is confirmed (or replaced).
SESSION_KEY = "availability_upload"


def _offers(user):
    rows = queries.offers(user.company, today=stock.today(), vendor_id=user.vendor_id)
    for found in rows:
        found.left = max(0, found.line.available)
        found.sold = found.offered - found.left
    return rows


def _page(request, form=None, upload_form=None):
    user = request.user
    return render(
        request,
        "vendor_portal/availability.html",
        {
            "offers": _offers(user),
            "form": form or OfferForm(company=user.company),
            "upload_form": upload_form or UploadForm(),
            "section": "availability",
        },
    )


def _report(request, results) -> None:
    offered = sum(1 for r in results if r.offer is not None)
    kept = [r for r in results if r.kept_at_sold]
    messages.success(request, f"Availability saved: {offered} offer{'s' * (offered != 1)}.")
    for r in kept:
        messages.warning(request, f"Line {r.line_number}: {r.message}.")


@vendor_required
def availability(request):
    user = request.user
    if request.method != "POST":
        return _page(request)
    form = OfferForm(request.POST, company=user.company)
    if form.is_valid():
        data = form.cleaned_data
        row = services.OfferRow(
            line_number=0,
            product=data["product"],
            box_type=data["box_type"],
            unit_type=data["unit_type"],
            bunches=data["bunches"],
            stems_bunch=data["stems_bunch"],
            boxes=data["boxes"],
            unit_cost=data["unit_cost"],
            available_from=data["available_from"],
            available_to=data["available_to"],
            field="line 0",
        )
        try:
            results = services.offer(company=user.company, vendor=user.vendor, rows=[row])
        except DomainError as error:
            add_service_error(form, error, OfferForm.ERROR_FIELDS)
        else:
            _report(request, results)
            return redirect("vendor_portal:availability")
    return _page(request, form=form)


@require_POST
@vendor_required
def availability_upload(request):
    """Read the file and show each row's mapping; nothing is offered until Confirm."""
    user = request.user
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, upload_form=form)
    content = form.cleaned_data["file"].read()
    replace = form.cleaned_data["mode"] == "replace"
    preview = upload.read(user.company, content, replace=replace)
    if preview.ok:
        request.session[SESSION_KEY] = {
            "text": content.decode("utf-8-sig"),
            "mode": form.cleaned_data["mode"],
            "name": form.cleaned_data["file"].name[:100],
        }
    else:
        request.session.pop(SESSION_KEY, None)
    return render(
        request,
        "vendor_portal/availability_preview.html",
        {
            "preview": preview,
            "mode": form.cleaned_data["mode"],
            "name": form.cleaned_data["file"].name,
            "refused_lines": ", ".join(str(r.line_number) for r in preview.refused),
            "section": "availability",
        },
    )


@require_POST
@vendor_required
def availability_confirm(request):
    user = request.user
    pending = request.session.pop(SESSION_KEY, None)
    if not pending:
        messages.error(request, "Nothing to confirm: upload the file again.")
        return redirect("vendor_portal:availability")
    replace = pending["mode"] == "replace"
    # Read again: the products may have changed since the preview; a refused row stops it.
    preview = upload.read(user.company, pending["text"], replace=replace)
    if not preview.ok:
        lines = ", ".join(str(r.line_number) for r in preview.refused)
        messages.error(request, f"The file no longer maps (lines {lines or '—'}); upload it again.")
        return redirect("vendor_portal:availability")
    try:
        results = services.offer(
            company=user.company, vendor=user.vendor, rows=preview.accepted, replace=replace
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("vendor_portal:availability")
    _report(request, results)
    return redirect("vendor_portal:availability")
