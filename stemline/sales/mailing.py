"""E-mailing a confirmed invoice's PDF to customers whose sendInvoiceVia is Email: queued
when the confirmation commits, sent by a background task (never in the web request)."""

import logging

from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from stemline.parties.models import SendInvoiceVia

from . import pdf, queries
from .models import DocumentStatus, Invoice

log = logging.getLogger("stemline.sales")


def recipients(customer) -> list[str]:
    return [part.strip() for part in customer.email_for_invoices.split(";") if part.strip()]


def send_when_committed(invoice: Invoice) -> None:
    """Queue the e-mail of a just-confirmed invoice, if its customer wants it by e-mail."""
    customer = invoice.customer
    if customer.send_invoice_via != SendInvoiceVia.EMAIL or not recipients(customer):
        return
    invoice_id = invoice.pk
    transaction.on_commit(lambda: send_invoice.enqueue(invoice_id), robust=True)


@task()
def send_invoice(invoice_id: int) -> bool:
    """E-mail the invoice's PDF to the customer's invoice addresses; True if sent. Nothing is
    sent for an invoice no longer confirmed, nor twice for one confirmation (a retry)."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().filter(pk=invoice_id).first()
        if invoice is None or invoice.status != DocumentStatus.CONFIRMED:
            return False
        if (
            invoice.emailed_at
            and invoice.confirmed_at
            and invoice.emailed_at >= invoice.confirmed_at
        ):
            return False
        found = queries.invoice_details(Invoice.objects.filter(pk=invoice_id))
        invoice = found[0]
        to = recipients(invoice.customer)
        if invoice.customer.send_invoice_via != SendInvoiceVia.EMAIL or not to:
            return False
        message = _message(invoice, to)
        # Sent inside the transaction: if sending fails the stamp is not written and a retry
        # sends it; if the stamp failed after sending, the worst is one more copy.
        message.send()
        Invoice.objects.filter(pk=invoice_id).update(emailed_at=timezone.now())
    log.info("invoice %s e-mailed to %s", invoice_id, ", ".join(to))
    return True


def _message(invoice: Invoice, to: list[str]) -> EmailMessage:
    """The e-mail of an invoice (loaded by queries.invoice_details) with its PDF attached."""
    company = invoice.company
    message = EmailMessage(
        subject=f"Invoice #{invoice.number:06d} from {company.name}",
        body=(
            f"Dear {invoice.customer.name},\n\n"
            f"attached is invoice #{invoice.number:06d}"
            f"{f' for ship date {invoice.ship_date}' if invoice.ship_date else ''}, "
            f"total {invoice.total:,.2f} {company.currency}.\n\n"
            f"{company.name}\n"
        ),
        to=to,
    )
    message.attach(pdf.file_name(invoice), pdf.render(invoice, invoice.lines), "application/pdf")
    return message


def send_on_request(invoice: Invoice, to: list[str]) -> None:
    """A sales rep's "E-mail the PDF": queued when the request commits, whatever the
    customer's sendInvoiceVia, to the addresses the rep confirmed."""
    invoice_id = invoice.pk
    transaction.on_commit(lambda: send_invoice_to.enqueue(invoice_id, to), robust=True)


@task()
def send_invoice_to(invoice_id: int, to: list[str]) -> bool:
    """E-mail the invoice's PDF to `to` (a rep asked for it); False if the invoice is gone."""
    found = queries.invoice_details(Invoice.objects.filter(pk=invoice_id))
    if not found or not to:
        return False
    _message(found[0], to).send()
    Invoice.objects.filter(pk=invoice_id).update(emailed_at=timezone.now())
    log.info("invoice %s e-mailed on request to %s", invoice_id, ", ".join(to))
    return True
