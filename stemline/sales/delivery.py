"""Every write about shipping an invoice: box labels and bills of lading printed, and the proof
of delivery received (a file checked by its content, kept with the invoice)."""

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from stemline.core import files
from stemline.core.errors import Conflict, NotFound
from stemline.core.models import Company

from .models import DocumentStatus, Invoice, ProofOfDelivery
from .services import record_change

BOX_LABEL, BOL = 0, 1
PRINT_FIELDS = {BOX_LABEL: "labels_printed_at", BOL: "bol_printed_at"}


def _refuse_voided(invoice: Invoice, field: str) -> None:
    # A voided order is not shipped: nothing is printed or delivered for it.
    if invoice.status == DocumentStatus.VOIDED:
        raise Conflict(
            f"invoice {invoice.number} is voided; it is not shipped", field=field, currentStatus=4
        )


@transaction.atomic
def mark_printed(*, company: Company, invoice_ids: list[int], print_type: int) -> list[Invoice]:
    """Record that box labels (0) or the bill of lading (1) of these invoices were printed.
    All or nothing: an unknown or voided invoice refuses the whole call, naming it."""
    wanted = sorted(set(invoice_ids))
    invoices = list(
        Invoice.objects.select_for_update().filter(company=company, pk__in=wanted).order_by("pk")
    )
    found = {i.pk for i in invoices}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFound(f"invoice {', '.join(map(str, missing))} does not exist", field="orderIds")
    now = timezone.now()
    name = PRINT_FIELDS[print_type]
    for invoice in invoices:
        _refuse_voided(invoice, "orderIds")
        setattr(invoice, name, now)
        invoice.save(update_fields=[name, "updated_at"])
        record_change(invoice, "printed")
    return invoices


def receive_pod(*, company: Company, invoice_id: int, data: bytes) -> ProofOfDelivery:
    """Keep a proof-of-delivery file with its invoice (PDF, PNG or JPEG by content, at most
    20 MB). A second one replaces the first; nothing is stored unless it is all valid."""
    if len(data) > files.MAX_FILE_BYTES:
        raise files.TooLarge("the file is larger than 20 MB", field="proofOfDeliveryfile")
    kind = files.sniff(data, "proofOfDeliveryfile")
    new_file = ContentFile(data)
    pod = ProofOfDelivery(company=company, content_type=kind, size=len(data))
    pod.sha256 = hashlib.sha256(data).hexdigest()
    pod.file.save(files.EXTENSIONS[kind], new_file, save=False)
    try:
        with transaction.atomic():
            invoice = (
                Invoice.objects.select_for_update().filter(company=company, pk=invoice_id).first()
            )
            if invoice is None:
                raise NotFound(f"invoice {invoice_id} does not exist", field="invoiceNumber")
            _refuse_voided(invoice, "invoiceNumber")
            old = ProofOfDelivery.objects.filter(invoice=invoice).first()
            now = timezone.now()
            if old is not None:
                old_name = old.file.name
                pod.pk = old.pk
                # The replaced file goes only once the new row is committed.
                transaction.on_commit(lambda: old.file.storage.delete(old_name))
            pod.invoice, pod.received_at = invoice, now
            pod.save()
            invoice.pod_received_at = now
            invoice.save(update_fields=["pod_received_at", "updated_at"])
            record_change(invoice, "pod_received")
    except Exception:
        pod.file.delete(save=False)
        raise
    return pod


def pod_of(*, company: Company, invoice_id: int, customer_id: int | None = None):
    qs = ProofOfDelivery.objects.select_related("invoice").filter(
        company=company, invoice_id=invoice_id
    )
    if customer_id is not None:
        qs = qs.filter(invoice__customer_id=customer_id)
    pod = qs.first()
    if pod is None:
        raise NotFound(f"invoice {invoice_id} has no proof of delivery", field="invoiceId")
    return pod
