"""API methods of shipping an invoice (reference §2.E): box labels and bills of lading printed
(`invoice/print-status/update`), and the proof of delivery (`invoice.pod.receive`, and
Stemline's `invoice.pod.get` to read it back)."""

from datetime import datetime
from typing import Annotated, Any

from django.conf import settings
from pydantic import AfterValidator, BeforeValidator, Field

from stemline.api.errors import ApiError
from stemline.api.registry import COMPANY, CUSTOMER, USER, api_method
from stemline.api.schemas import Envelope, Id, OptId, Params, Str, blank_to_none
from stemline.core import files

from . import delivery, pdf, queries


def _ids(value):
    """`orderIds` as the reference sends it (a comma-separated text), a list, or one number."""
    value = blank_to_none(value)
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


def _print_type(value: int) -> int:
    if value not in (0, 1):
        raise ValueError("must be 0 (box labels) or 1 (bill of lading)")
    return value


PrintType = Annotated[int, AfterValidator(_print_type)]
OrderIds = Annotated[list[Id], Field(min_length=1, max_length=500), BeforeValidator(_ids)]


def _uploaded(call, value: Any, field: str) -> bytes:
    try:
        return files.from_request(call.request, value, field)
    except files.TooLarge as exc:
        raise ApiError.for_field(field, "too_large", exc.message, 413) from exc


# ---------------------------------------------------------------- invoice/print-status/update


class PrintStatusIn(Params):
    orderIds: OrderIds = Field(description="Invoice IDs, comma-separated (or a JSON list).")
    printType: PrintType = Field(description="0 box labels, 1 bill of lading (BOL).")


class PrintStatusOut(Envelope):
    orderIds: list[int]
    printType: int


@api_method(
    "invoice/print-status/update",
    request=PrintStatusIn,
    response=PrintStatusOut,
    tokens=[COMPANY, USER],
    area="sales",
)
def invoice_print_status_update(call, p: PrintStatusIn):
    """Record that box labels (0) or bills of lading (1) of invoices were printed.

    All or nothing: an invoice ID of another company (or none) is 404 naming `orderIds`, a
    voided invoice 409 (it is not shipped). The time of printing shows in invoice.list and
    invoice.details.list (`boxLabelsPrintedOn`, `bolPrintedOn`) and each invoice gets a
    `printed` change in invoice.sync. Printing again moves the time forward."""
    invoices = delivery.mark_printed(
        company=call.company, invoice_ids=p.orderIds, print_type=p.printType
    )
    ids = [i.pk for i in invoices]
    return {
        "message": f"The invoices with id {','.join(map(str, ids))} were updated successfully.",
        "orderIds": ids,
        "printType": p.printType,
    }


# ---------------------------------------------------------------- invoice.pod.receive


class PodReceiveIn(Params):
    invoiceNumber: Str(20) | None = Field(
        None, description="The invoice number (a UI prefix such as W is stripped)."
    )
    invoiceId: OptId = Field(None, description="Stemline: the invoice by its ID instead.")
    locationId: OptId = Field(
        None, description="Where invoice numbers repeat across locations: which one."
    )
    proofOfDeliveryfile: Any = Field(
        None,
        description="The file (PDF, PNG or JPEG, at most 20 MB): a byte array, base64 text, or "
        "a multipart file part of this name.",
    )


class PodOut(Envelope):
    invoiceId: int
    invoiceNumber: int
    contentType: str
    size: int
    sha256: str
    receivedOn: datetime


def _pod_answer(pod, message: str) -> dict:
    return {
        "message": message,
        "invoiceId": pod.invoice_id,
        "invoiceNumber": pod.invoice.number,
        "contentType": pod.content_type,
        "size": pod.size,
        "sha256": pod.sha256,
        "receivedOn": pod.received_at,
    }


@api_method(
    "invoice.pod.receive",
    request=PodReceiveIn,
    response=PodOut,
    tokens=[COMPANY, USER],
    area="sales",
    creates=True,
    max_body=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
)
def invoice_pod_receive(call, p: PodReceiveIn):
    """Keep a proof-of-delivery file with an invoice (PDF, PNG or JPEG, at most 20 MB).

    The file is checked by its content, as vendor invoices are: anything else (an .exe, a text
    renamed .pdf, a truncated PDF, a broken image) is 422 naming `proofOfDeliveryfile`, over
    20 MB 413, and nothing is stored. A second proof for the same invoice replaces the first.
    A voided invoice is refused (409). The proof is read back with invoice.pod.get, and
    invoice.list shows when it came (`proofOfDeliveryReceivedOn`)."""
    data = _uploaded(call, p.proofOfDeliveryfile, "proofOfDeliveryfile")
    invoice_id = queries.invoice_id(
        call.company, invoice_id=p.invoiceId, number=p.invoiceNumber, location_id=p.locationId
    )
    try:
        pod = delivery.receive_pod(company=call.company, invoice_id=invoice_id, data=data)
    except files.TooLarge as exc:
        raise ApiError.for_field("proofOfDeliveryfile", "too_large", exc.message, 413) from exc
    return _pod_answer(pod, "The proof of delivery was successfully received")


# ---------------------------------------------------------------- invoice.pod.get


class PodGetIn(Params):
    invoiceId: Id


class PodFileOut(PodOut):
    suggestedFileName: str
    file: str


@api_method(
    "invoice.pod.get",
    request=PodGetIn,
    response=PodFileOut,
    tokens=[COMPANY, CUSTOMER, USER],
    area="sales",
    read=True,
)
def invoice_pod_get(call, p: PodGetIn):
    """Stemline: an invoice's proof of delivery, in `file` as comma-separated signed bytes.

    The same wire form as invoice.pdf.get. A Customer token reads its own invoices' proofs
    only; an invoice without one (or another's) is 404."""
    pod = delivery.pod_of(
        company=call.company,
        invoice_id=p.invoiceId,
        customer_id=call.customer_id if call.is_customer else None,
    )
    with pod.file.open("rb") as handle:
        data = handle.read()
    answer = _pod_answer(pod, "OK")
    extension = files.EXTENSIONS[pod.content_type]
    answer["suggestedFileName"] = f"POD #{pod.invoice.number:06d}{extension}"
    answer["file"] = pdf.as_byte_string(data)
    return answer
