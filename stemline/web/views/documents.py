"""Sales > Invoices and Prebooks: every document of the company with filters, sorting, paging and
the totals of what is filtered; a page for each with its lines, charges, fee and history, and
the actions it allows (edit, confirm, void, reject an API order, PDF, e-mail). The writes are the
services the API calls (sales.services, sales.invoicing, sales.prebooking)."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from stemline.core.errors import DomainError
from stemline.core.limits import parse_id
from stemline.core.models import Location
from stemline.sales import invoicing, mailing, pdf, prebooking, queries
from stemline.sales import services as sales_services
from stemline.sales.models import (
    DocumentChange,
    DocumentStatus,
    Invoice,
    InvoiceItem,
    Prebook,
    PrebookItem,
)
from stemline.web.access import PAGE_SIZE, area_required
from stemline.web.desk_forms import DocumentHeaderForm, EmailForm, ReasonForm

KINDS = {
    "invoice": {
        "model": Invoice,
        "item": InvoiceItem,
        "feed": "invoices",
        "list": "sales_invoices",
        "detail": "sales_invoice",
        "plural": "Invoices",
    },
    "prebook": {
        "model": Prebook,
        "item": PrebookItem,
        "feed": "prebooks",
        "list": "sales_prebooks",
        "detail": "sales_prebook",
        "plural": "Prebooks",
    },
}
SORTS = {
    "number": "number",
    "ship_date": "ship_date",
    "customer": "customer__name",
    "status": "status",
    "amount": "amount",
    "boxes": "boxes",
    "created": "created_at",
}
COLUMNS = [
    ("number", "Number", ""),
    ("customer", "Customer", ""),
    ("ship_date", "Ship date", ""),
    ("status", "Status", ""),
    (None, "Came through", ""),
    ("boxes", "Boxes", "num"),
    ("amount", "Amount", "num"),
    (None, "Fee", "num"),
    ("created", "Received", ""),
]
CHANNELS = [("", "Any"), ("api", "API and marketplaces"), ("staff", "Staff (phone, desk)")]


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


def _filters(request) -> dict:
    g = request.GET
    return {
        "date_from": _date(g.get("date_from", "")),
        "date_to": _date(g.get("date_to", "")),
        "customer": g.get("customer", "").strip()[:100],
        "status": g.get("status", ""),
        "channel": g.get("channel", ""),
        "location": parse_id(g.get("location", "")),
        "number": g.get("number", "").strip()[:20],
        "sort": g.get("sort", "-created"),
    }


def _filtered(kind: str, company, f: dict):
    """The documents the filters ask for (the list, its totals and its paging use the same)."""
    spec = KINDS[kind]
    qs = spec["model"].objects.filter(company=company)
    if kind == "prebook":
        qs = qs.filter(deleted_at__isnull=True)
    if f["date_from"]:
        qs = qs.filter(ship_date__gte=f["date_from"])
    if f["date_to"]:
        qs = qs.filter(ship_date__lte=f["date_to"])
    if f["customer"]:
        qs = qs.filter(
            Q(customer__name__icontains=f["customer"]) | Q(customer__code__iexact=f["customer"])
        )
    status = parse_id(f["status"]) if f["status"] != "0" else 0
    if status in DocumentStatus.values:
        qs = qs.filter(status=status)
    if f["channel"] == "api":
        qs = qs.filter(via_api=True)
    elif f["channel"] == "staff":
        qs = qs.filter(via_api=False)
    if f["location"]:
        qs = qs.filter(location_id=f["location"])
    if f["number"]:
        try:
            qs = qs.filter(number=queries.document_number(f["number"], "number"))
        except DomainError:
            qs = qs.none()
    return qs


def _boxes(item_model, kind: str) -> Subquery:
    return Subquery(
        item_model.objects.filter(**{kind: OuterRef("pk")})
        .values(kind)
        .annotate(n=Sum("boxes"))
        .values("n")
    )


def _ordered(qs, sort: str, item_model, kind: str):
    key = sort.lstrip("-")
    field = SORTS.get(key, "created_at")
    if field == "boxes":
        qs = qs.annotate(boxes=_boxes(item_model, kind))
    descending = sort.startswith("-") or key not in SORTS
    order = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
    return qs.order_by(order, "-id" if descending else "id")


def _page(request, kind: str, qs, f: dict, count: int):
    """The page of documents: their ids sorted and sliced first (a narrow sort, whatever the
    number of documents), then those rows with their parties and boxes, in that order."""
    spec = KINDS[kind]
    ids = _ordered(qs, f["sort"], spec["item"], kind).values_list("pk", flat=True)
    paginator = Paginator(ids, PAGE_SIZE)
    paginator.__dict__["count"] = count  # the totals counted them already
    page = paginator.get_page(request.GET.get("page"))
    wanted = list(page.object_list)
    rows = (
        spec["model"]
        .objects.filter(pk__in=wanted)
        .select_related("customer", "location", "web_order__token")
        .annotate(boxes=_boxes(spec["item"], kind))
        .in_bulk()
    )
    page.object_list = [rows[pk] for pk in wanted if pk in rows]
    return page


def _document_list(request, kind: str):
    company = request.user.company
    spec = KINDS[kind]
    f = _filters(request)
    qs = _filtered(kind, company, f)
    totals = qs.aggregate(
        count=Count("id"),
        amount=Sum("amount"),
        fee=Sum("transaction_fee"),
        **({"charges": Sum(F("additional_charges") + F("taxes"))} if kind == "invoice" else {}),
    )
    totals["boxes"] = (
        spec["item"]
        .objects.filter(**{f"{kind}__in": qs.values("pk")})
        .aggregate(n=Sum("boxes"))["n"]
        or 0
    )
    if kind == "invoice":
        totals["total"] = (totals["amount"] or 0) + (totals["charges"] or 0)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("sort", None)
    columns = []
    for key, label, css in COLUMNS:
        if key is None:
            columns.append({"label": label, "css": css})
            continue
        current = f["sort"].lstrip("-") == key
        descending = f["sort"].startswith("-")
        flipped = key if current and descending else f"-{key}"
        query["sort"] = (
            flipped if current else (key if key in ("customer", "number") else f"-{key}")
        )
        columns.append(
            {
                "label": label,
                "css": css,
                "url": "?" + query.urlencode(),
                "current": current,
                "arrow": ("▼" if descending else "▲") if current else "",
            }
        )
    return render(
        request,
        "web/desk/documents.html",
        {
            "section": "documents",
            "kind": kind,
            "spec": spec,
            "page_obj": _page(request, kind, qs, f, totals["count"]),
            "totals": totals,
            "filters": f,
            "columns": columns,
            "statuses": DocumentStatus.choices,
            "channels": CHANNELS,
            "locations": Location.objects.filter(company=company, active=True)
            if company.multi_location
            else [],
        },
    )


@area_required("orders")
def invoice_list(request):
    return _document_list(request, "invoice")


@area_required("orders")
def prebook_list(request):
    return _document_list(request, "prebook")


# ---------------------------------------------------------------- one document


def _load(kind: str, company, pk: int):
    if kind == "invoice":
        found = queries.invoice_details(Invoice.objects.filter(company=company, pk=pk))
    else:
        found = queries.prebook_details(
            Prebook.objects.filter(company=company, pk=pk, deleted_at__isnull=True)
        )
    if not found:
        raise Http404(f"{kind} {pk} does not exist")
    document = found[0]
    if kind == "prebook":
        for line in document.lines:
            line.total_units = line.boxes * line.units_per_box
    else:
        for line in document.lines:
            line.total_units = line.boxes * line.units_per_box
    return document


def _allowed(kind: str, document) -> dict:
    """Which actions the page offers; the services refuse the rest whatever is posted."""
    open_ = document.status in (DocumentStatus.DRAFT, DocumentStatus.PENDING_APPROVAL)
    synced = getattr(document, "synced", False)
    return {
        "confirm": open_ and not synced,
        "reject": open_ and document.via_api and not synced,
        "void": document.status != DocumentStatus.VOIDED and not synced,
        "edit": document.status != DocumentStatus.VOIDED and not synced,
        "pdf": kind == "invoice",
        "email": kind == "invoice" and document.status != DocumentStatus.VOIDED,
    }


def _detail(request, kind: str, pk: int, *, header_form=None, reason_form=None, email_form=None):
    company = request.user.company
    document = _load(kind, company, pk)
    history = _history(kind, company, document)
    notes = document.invoice_notes if kind == "invoice" else document.comments
    header_form = header_form or DocumentHeaderForm(
        company=company,
        initial={
            "ship_date": document.ship_date,
            "carrier": document.carrier_id,
            "customer_po": document.customer_po,
            "notes": notes,
        },
    )
    email_form = email_form or EmailForm(
        initial={"to": getattr(document.customer, "email_for_invoices", "")}
    )
    boxes = sum(line.boxes for line in document.lines)
    return render(
        request,
        "web/desk/document.html",
        {
            "section": "documents",
            "kind": kind,
            "spec": KINDS[kind],
            "d": document,
            "boxes": boxes,
            "units": sum(line.total_units for line in document.lines),
            "history": history,
            "allowed": _allowed(kind, document),
            "header_form": header_form,
            "reason_form": reason_form or ReasonForm(),
            "email_form": email_form,
            "came_through": _came_through(document),
        },
    )


EVENTS = {
    "created": "Created",
    "updated": "Changed",
    "confirmed": "Confirmed",
    "voided": "Voided",
    "checked_out": "Checked out (pending approval)",
    "synced": "Synchronized with accounting",
    "sync_error": "Accounting sync error",
    "deleted": "Deleted",
}


def _history(kind: str, company, document) -> list[dict]:
    """What happened to the document, from its change feed (invoice.sync / prebook.sync), in
    order; a document made confirmed (a staff order, auto-confirm) says so on its first row."""
    rows = []
    changes = DocumentChange.objects.filter(
        company=company, feed=KINDS[kind]["feed"], document_id=document.pk
    ).order_by("seq")
    for change in changes:
        text = EVENTS.get(change.kind, change.kind.replace("_", " ").capitalize())
        if change.kind == "created":
            text += " by the company" if not document.via_api else " through the API"
            if (
                document.confirmed_at
                and abs((document.confirmed_at - change.created_at).total_seconds()) < 5
            ):
                text += ", confirmed"
        if change.kind == "voided" and document.void_reason:
            text += f": {document.void_reason}"
        rows.append({"at": change.created_at, "text": text})
    return rows


def _came_through(document) -> str:
    if not document.via_api:
        return "Staff order"
    order = document.web_order
    if order is not None and order.token_id:
        return f"API: {order.token.description}"
    return "API"


@area_required("orders")
def invoice_detail(request, invoice_id: int):
    return _detail(request, "invoice", invoice_id)


@area_required("orders")
def prebook_detail(request, prebook_id: int):
    return _detail(request, "prebook", prebook_id)


@area_required("orders")
def invoice_pdf(request, invoice_id: int):
    invoice = _load("invoice", request.user.company, invoice_id)
    response = HttpResponse(pdf.render(invoice, invoice.lines), content_type="application/pdf")
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{pdf.file_name(invoice)}"'
    return response


def _act(request, kind: str, pk: int, action: str):
    """One POSTed action on a document, through the service the API uses for it."""
    company, user = request.user.company, request.user
    if action in ("void", "reject"):
        form = ReasonForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Say why (the reason is shown to the customer's system).")
            return _detail(request, kind, pk, reason_form=form)
        reason = form.cleaned_data["reason"]
        if kind == "invoice":
            invoicing.void(company=company, invoice_id=pk, reason=reason)
        else:
            prebooking.void_prebook(company=company, prebook_id=pk, reason=reason)
        return f"{kind.capitalize()} {'rejected' if action == 'reject' else 'voided'}: {reason}"
    if action == "confirm":
        if kind == "invoice":
            sales_services.confirm_invoice(company=company, invoice_id=pk, user=user)
        else:
            sales_services.confirm_prebook(company=company, prebook_id=pk, user=user)
        return f"{kind.capitalize()} confirmed."
    if action == "edit":
        form = DocumentHeaderForm(request.POST, company=company)
        if not form.is_valid():
            return _detail(request, kind, pk, header_form=form)
        data = form.cleaned_data
        fields = {
            "ship_date": data["ship_date"],
            "carrier": data["carrier"],
            "customer_po": data["customer_po"],
        }
        if kind == "invoice":
            invoicing.update_invoice(
                company=company, invoice_id=pk, invoice_notes=data["notes"], **fields
            )
        else:
            prebooking.update_prebook(
                company=company, prebook_id=pk, items=[], comments=data["notes"], **fields
            )
        return f"{kind.capitalize()} saved."
    if action == "line" and kind == "invoice":
        item_id = parse_id(request.POST.get("item", "")) or 0
        boxes = parse_id(request.POST.get(f"boxes_{item_id}", ""))
        price = _price(request.POST.get(f"price_{item_id}", ""))
        if boxes is None or boxes < 1 or price is None:
            messages.error(request, "Boxes: a whole number of at least 1; price: a number.")
            return _detail(request, kind, pk)
        invoicing.update_item(
            company=company, invoice_id=pk, item_id=item_id, boxes=boxes, price=price
        )
        return "Line saved."
    if action == "remove_line":
        item_id = parse_id(request.POST.get("item", "")) or 0
        if kind == "invoice":
            invoicing.delete_item(company=company, invoice_id=pk, item_id=item_id)
        else:
            prebooking.delete_item(company=company, prebook_id=pk, item_id=item_id)
        return "Line removed; its boxes are available again."
    if action == "email" and kind == "invoice":
        form = EmailForm(request.POST)
        if not form.is_valid():
            return _detail(request, kind, pk, email_form=form)
        invoice = _load("invoice", company, pk)
        mailing.send_on_request(invoice, form.cleaned_data["to"])
        return f"The invoice's PDF is on its way to {', '.join(form.cleaned_data['to'])}."
    raise Http404(f"no action {action}")


def _price(value: str) -> Decimal | None:
    try:
        price = Decimal(value.strip())
    except (InvalidOperation, AttributeError):
        return None
    return price.quantize(Decimal("0.001")) if price.is_finite() and 0 <= price < 10**7 else None


def _post(request, kind: str, pk: int, action: str):
    _load(kind, request.user.company, pk)  # another company's document: 404
    try:
        done = _act(request, kind, pk, action)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(reverse(KINDS[kind]["detail"], args=[pk]))
    if not isinstance(done, str):
        return done  # the page again, with the form's errors
    messages.success(request, done)
    return redirect(reverse(KINDS[kind]["detail"], args=[pk]))


@require_POST
@area_required("orders")
def invoice_action(request, invoice_id: int, action: str):
    return _post(request, "invoice", invoice_id, action)


@require_POST
@area_required("orders")
def prebook_action(request, prebook_id: int, action: str):
    return _post(request, "prebook", prebook_id, action)
