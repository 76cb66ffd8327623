"""Receivables: the aging report, a customer's account, recording and applying payments,
raising credits from an invoice's lines and reviewing them, statements (PDF, e-mail) and
the accounting export. Every write goes through stemline.money.services."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from stemline.core.errors import DomainError
from stemline.money import export, mailing, queries, services, statements
from stemline.money.models import (
    Credit,
    CreditLine,
    CreditReason,
    CreditStatus,
    Payment,
    Receivable,
)
from stemline.parties.models import Customer, PaymentMethod
from stemline.sales.models import DocumentStatus, Invoice
from stemline.web.access import area_required, paginate
from stemline.web.exports import xlsx_response

AREA = "receivables"


def _day(value: str | None, default: date | None = None) -> date | None:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _money(value: str | None) -> Decimal:
    try:
        return Decimal((value or "0").strip() or "0")
    except InvalidOperation:
        return Decimal("-1")  # refused by the service, naming the field


def _customer(request, pk) -> Customer:
    return get_object_or_404(Customer, company=request.user.company, pk=pk)


# ---------------------------------------------------------------- aging


@area_required(AREA)
def aging(request):
    company = request.user.company
    services.ensure(company)
    day = _day(request.GET.get("date"), timezone.localdate())
    report = queries.aging(company, day)
    if request.GET.get("export") == "xlsx":
        heads = ["Id", "Customer", "Code", *queries.BUCKET_TITLES, "Unapplied", "Balance"]
        rows = [
            [r.customer_id, r.name, r.code, *r.buckets(), -r.unapplied, r.balance]
            for r in report.rows
        ]
        t = report.totals
        rows.append(["", "Total", "", *t.buckets(), -t.unapplied, t.balance])
        return xlsx_response("aging", heads, rows)
    return render(
        request,
        "web/receivables/aging.html",
        {
            "section": AREA,
            "report": report,
            "titles": queries.BUCKET_TITLES,
            # One reverse() for the page, not one per customer row (5,000 rows).
            "account_prefix": reverse("receivables_account", args=[0])[: -len("0/")],
        },
    )


# ---------------------------------------------------------------- account


@area_required(AREA)
def account(request, pk):
    company = request.user.company
    customer = _customer(request, pk)
    services.ensure(company, customer_id=customer.pk)
    today = timezone.localdate()
    open_items = list(
        Receivable.objects.filter(company=company, customer=customer, open_amount__gt=0)
        .select_related("invoice")
        .order_by("due_date", "id")
    )
    for r in open_items:
        r.days_overdue = max(0, (today - r.due_date).days)
    payments = (
        Payment.objects.filter(company=company, customer=customer)
        .select_related("method")
        .order_by("-date", "-id")[:50]
    )
    credits = (
        Credit.objects.filter(company=company, customer=customer)
        .select_related("invoice")
        .order_by("-date", "-id")[:50]
    )
    recent = Invoice.objects.filter(
        company=company, customer=customer, status=DocumentStatus.CONFIRMED
    ).order_by("-id")[:20]
    return render(
        request,
        "web/receivables/account.html",
        {
            "section": AREA,
            "customer": customer,
            "balance": queries.balance(company.pk, customer.pk),
            "open_items": open_items,
            "payments": payments,
            "credits": credits,
            "recent": recent,
            "problem": services.credit_problem(customer),
            "today": today,
        },
    )


# ---------------------------------------------------------------- payments


def _applications(request, receivables) -> list[services.ApplyRequest]:
    apps = []
    for r in receivables:
        amount = _money(request.POST.get(f"amount-{r.invoice_id}"))
        discount = _money(request.POST.get(f"discount-{r.invoice_id}"))
        if amount or discount:
            apps.append(
                services.ApplyRequest(
                    r.invoice_id, amount, discount, field=f"invoice {r.invoice.number}"
                )
            )
    return apps


@area_required(AREA)
def payment_new(request, pk):
    """Record a payment and apply it: the open invoices listed, the remainder shown as the
    amounts are typed (app.js, data-remainder)."""
    company = request.user.company
    customer = _customer(request, pk)
    services.ensure(company, customer_id=customer.pk)
    open_items = list(
        Receivable.objects.filter(company=company, customer=customer, open_amount__gt=0)
        .select_related("invoice")
        .order_by("due_date", "id")
    )
    methods = PaymentMethod.objects.filter(company=company, active=True)
    form = {"date": timezone.localdate().isoformat(), "method": customer.payment_method_id}
    if request.method == "POST":
        form = request.POST
        method = methods.filter(pk=request.POST.get("method") or 0).first()
        try:
            if method is None:
                raise DomainError("choose a payment method", field="method")
            payment = services.receive_payment(
                company=company,
                customer=customer,
                location=services_location(company),
                method=method,
                day=_day(request.POST.get("date"), timezone.localdate()),
                amount=_money(request.POST.get("total")),
                reference_number=request.POST.get("reference", "").strip()[:100],
                notes=request.POST.get("notes", "").strip()[:200],
                applications=_applications(request, open_items),
                user=request.user,
            )
        except DomainError as error:
            messages.error(
                request, f"{error.field}: {error.message}" if error.field else error.message
            )
        else:
            left = payment.amount - payment.applied
            messages.success(
                request,
                f"Payment {payment.control_number} recorded: {payment.applied:,.2f} applied"
                + (f", {left:,.2f} left on account" if left else "")
                + ".",
            )
            return redirect("receivables_account", pk=customer.pk)
    return render(
        request,
        "web/receivables/payment.html",
        {
            "section": AREA,
            "customer": customer,
            "open_items": open_items,
            "methods": methods,
            "form": form,
            "payment": None,
        },
    )


def services_location(company):
    """Payments are recorded at the company's default location."""
    from stemline.core.models import Location

    return Location.objects.filter(company=company, is_default=True).first() or (
        Location.objects.filter(company=company).order_by("id").first()
    )


@area_required(AREA)
def payment_apply(request, pk):
    """Apply what is left of a payment (an overpayment) to open invoices."""
    company = request.user.company
    payment = get_object_or_404(Payment, company=company, pk=pk)
    customer = payment.customer
    open_items = list(
        Receivable.objects.filter(company=company, customer=customer, open_amount__gt=0)
        .select_related("invoice")
        .order_by("due_date", "id")
    )
    if request.method == "POST":
        try:
            services.apply_payment(
                company=company,
                payment_id=payment.pk,
                applications=_applications(request, open_items),
            )
        except DomainError as error:
            messages.error(
                request, f"{error.field}: {error.message}" if error.field else error.message
            )
        else:
            messages.success(request, f"Payment {payment.control_number} applied.")
            return redirect("receivables_account", pk=customer.pk)
    return render(
        request,
        "web/receivables/payment.html",
        {"section": AREA, "customer": customer, "open_items": open_items, "payment": payment},
    )


@require_POST
@area_required(AREA)
def payment_void(request, pk):
    company = request.user.company
    payment = get_object_or_404(Payment, company=company, pk=pk)
    try:
        services.void_payment(
            company=company, payment_id=payment.pk, reason=request.POST.get("reason", "")[:200]
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"Payment {payment.control_number} voided; its invoices are open again."
        )
    return redirect("receivables_account", pk=payment.customer_id)


# ---------------------------------------------------------------- credits


@area_required(AREA)
def credit_new(request, invoice_pk):
    """Raise a credit from an invoice's lines: per line a quantity (boxes or units) and a
    reason; or an amount against one of its additional charges."""
    company = request.user.company
    invoice = get_object_or_404(
        Invoice.objects.select_related("customer"), company=company, pk=invoice_pk
    )
    items = list(invoice.items.select_related("product", "box_type", "line").order_by("id"))
    reasons = CreditReason.objects.filter(company=company, active=True)
    if request.method == "POST":
        lines = []
        for item in items:
            raw = request.POST.get(f"qty-{item.pk}", "").strip()
            if not raw or raw == "0":
                continue
            lines.append(
                services.CreditLineRequest(
                    item.pk,
                    int(raw) if raw.isdigit() else 0,
                    int(request.POST.get(f"reason-{item.pk}") or 0),
                    request.POST.get(f"type-{item.pk}", "box"),
                    photo=request.FILES.get(f"photo-{item.pk}"),
                    field=f"line {item.pk}",
                )
            )
        charge_id = request.POST.get("charge") or None
        try:
            credit = services.raise_credit(
                company=company,
                invoice_id=invoice.pk,
                lines=lines,
                charge_id=int(charge_id) if charge_id and charge_id.isdigit() else None,
                charge_amount=_money(request.POST.get("charge_amount")) if charge_id else None,
                comment=request.POST.get("comment", "").strip()[:500],
                user=request.user,
                submit=bool(request.POST.get("submit")),
            )
        except DomainError as error:
            messages.error(
                request, f"{error.field}: {error.message}" if error.field else error.message
            )
        else:
            messages.success(request, f"Credit {credit.number} raised ({credit.amount:,.2f}).")
            return redirect("receivables_credit", pk=credit.pk)
    return render(
        request,
        "web/receivables/credit_new.html",
        {
            "section": AREA,
            "invoice": invoice,
            "items": items,
            "reasons": reasons,
            "charges": invoice.charges.all(),
        },
    )


@area_required(AREA)
def credits(request):
    company = request.user.company
    status = request.GET.get("status", "review")
    qs = Credit.objects.filter(company=company).select_related("customer", "invoice")
    if status == "review":
        qs = qs.filter(status__in=services.REVIEWABLE)
    elif status.isdigit():
        qs = qs.filter(status=int(status))
    return render(
        request,
        "web/receivables/credits.html",
        {
            "section": AREA,
            "page_obj": paginate(request, qs.order_by("-date", "-id")),
            "status": status,
            "statuses": CreditStatus.choices,
        },
    )


@area_required(AREA)
def credit(request, pk):
    company = request.user.company
    found = get_object_or_404(
        Credit.objects.select_related("customer", "invoice", "charge"), company=company, pk=pk
    )
    lines = CreditLine.objects.filter(credit=found).select_related(
        "invoice_item__product", "invoice_item__line__vendor", "reason", "vendor_credit"
    )
    return render(
        request,
        "web/receivables/credit.html",
        {
            "section": AREA,
            "credit": found,
            "lines": lines,
            "comments": found.comments.all(),
            "reviewable": found.status in services.REVIEWABLE and not found.synced,
        },
    )


ACTIONS = {
    "approve": services.approve_credit,
    "reject": services.reject_credit,
    "resubmit": services.resubmit_credit,
}


@require_POST
@area_required(AREA)
def credit_action(request, pk):
    company = request.user.company
    found = get_object_or_404(Credit, company=company, pk=pk)
    action = request.POST.get("action", "")
    comment = request.POST.get("comment", "").strip()[:500]
    try:
        if action in ACTIONS:
            ACTIONS[action](company=company, credit_id=found.pk, user=request.user, comment=comment)
        elif action == "submit":
            services.submit_credit(company=company, credit_id=found.pk, user=request.user)
        elif action == "comment":
            services.add_comment(
                company=company, credit_id=found.pk, text=comment, user=request.user
            )
        else:
            raise Http404("no such action")
    except DomainError as error:
        messages.error(request, error.message)
    else:
        done = {"approve": "approved", "reject": "rejected", "resubmit": "resubmitted"}
        done |= {"submit": "submitted for review", "comment": "commented"}
        messages.success(request, f"Credit {found.number} {done[action]}.")
    return redirect("receivables_credit", pk=found.pk)


# ---------------------------------------------------------------- statements, export


def _statement_args(request):
    mode = "activity" if request.GET.get("mode") == "activity" else "open"
    today = timezone.localdate()
    day = _day(request.GET.get("date"), today)
    return mode, day, _day(request.GET.get("start")), _day(request.GET.get("end"))


@area_required(AREA)
def statement_pdf(request, pk=None):
    """One customer's statement, or (no pk) every customer with anything open, as one PDF."""
    company = request.user.company
    mode, day, start, end = _statement_args(request)
    if pk is not None:
        customers = [_customer(request, pk)]
        services.ensure(company, customer_id=pk)
    else:
        services.ensure(company)
        ids = queries.customers_with_activity(company)
        customers = list(Customer.objects.filter(company=company, pk__in=ids).order_by("name"))
    made = [
        queries.statement(company, c, day=day, mode=mode, start=start, end=end) for c in customers
    ]
    data = statements.render(company, made)
    response = HttpResponse(data, content_type="application/pdf")
    name = statements.file_name(made[0] if pk is not None else None)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
@area_required(AREA)
def statements_send(request):
    """E-mail statements, one customer's or everyone's with anything open, in the background."""
    company = request.user.company
    services.ensure(company)
    mode = "activity" if request.POST.get("mode") == "activity" else "open"
    day = _day(request.POST.get("date"), timezone.localdate())
    one = request.POST.get("customer")
    if one:
        ids = [_customer(request, int(one) if one.isdigit() else 0).pk]
    else:
        ids = queries.customers_with_activity(company)
    queued = mailing.queue(
        company,
        ids,
        mode=mode,
        day=day,
        start=_day(request.POST.get("start")),
        end=_day(request.POST.get("end")),
    )
    skipped = len(ids) - queued
    messages.success(
        request,
        f"{queued} statement{'s' if queued != 1 else ''} queued for e-mail"
        + (f"; {skipped} customer(s) have no statement address." if skipped else "."),
    )
    if one:
        return redirect("receivables_account", pk=ids[0])
    return redirect("receivables_aging")


@area_required(AREA)
def accounting_export(request):
    company = request.user.company
    today = timezone.localdate()
    start = _day(request.GET.get("start"), today.replace(day=1))
    end = _day(request.GET.get("end"), today)
    fmt = request.GET.get("format")
    if fmt == "csv":
        services.ensure(company)
        response = HttpResponse(export.as_csv(company, start, end), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="journal-{start}-{end}.csv"'
        return response
    if fmt == "xlsx":
        services.ensure(company)
        rows = [
            [
                r[0],
                r[1],
                r[2],
                Decimal(r[3]) if r[3] else None,
                Decimal(r[4]) if r[4] else None,
                r[5],
                r[6],
            ]
            for r in export.rows(company, start, end)
        ]
        return xlsx_response("journal", export.HEADERS, rows)
    return render(
        request,
        "web/receivables/export.html",
        {"section": AREA, "start": start, "end": end},
    )
