"""API methods of sales: web orders (the customer's cart), their checkout and invoice.confirm."""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from stemline.api.registry import COMPANY, CUSTOMER, USER, api_method
from stemline.api.schemas import (
    Envelope,
    Id,
    Number,
    OptBool,
    OptId,
    OptInt,
    OptMoney,
    Out,
    Params,
    Str,
    blank_to_none,
)
from stemline.core.errors import Invalid
from stemline.hardgoods.queries import HARD_GOODS_ORIGIN
from stemline.inventory.models import Origin

from . import api_hardgoods, queries, services
from .models import WebOrder

CENT = Decimal("0.01")
MAX_IDS_PER_CALL = 100
MAX_BOXES_PER_LINE = 10_000


def _id_list(value):
    # Komet clients send inventoryIds as "12,13"; JSON clients as [12, 13]; a form one id.
    value = blank_to_none(value)
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, int | float):
        return [value]
    return value


IdList = Annotated[
    Annotated[list[Id], Field(min_length=1, max_length=MAX_IDS_PER_CALL)] | None,
    BeforeValidator(_id_list),
]
OptDate = Annotated[date | None, BeforeValidator(blank_to_none)]
Boxes = Annotated[int, Field(ge=1, le=MAX_BOXES_PER_LINE)]
StatusFilter = Annotated[Annotated[int, Field(ge=1, le=2)] | None, BeforeValidator(blank_to_none)]
TRANSACTIONAL = {"transactional": True}


def _customer_id(call, customer_id: int | None) -> int:
    """A Customer token acts for its own customer (another one is not found); a User token
    names the customer it acts for."""
    customer_id = call.own_customer(customer_id)
    if customer_id is None:
        raise Invalid("required with a User token", field="customerId")
    return customer_id


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- web-order.create


class WebOrderCreateIn(Params):
    customerId: OptId = None
    companyLocationId: OptId = None
    companyId: OptId = Field(
        None, description="Your Company ID; checked against the token's company."
    )


class WebOrderCreatedOut(Envelope):
    webOrderId: int


@api_method(
    "web-order.create",
    request=WebOrderCreateIn,
    response=WebOrderCreatedOut,
    tokens=[CUSTOMER, USER],
    area="sales",
    account_required=True,
    creates=True,
)
def web_order_create(call, p: WebOrderCreateIn):
    """Create an empty web order for a customer (lines come with web-order-item.add)."""
    order = services.create_web_order(
        company=call.company,
        customer_id=_customer_id(call, p.customerId),
        location_id=p.companyLocationId,
        token=call.token,
    )
    return {"message": "Web order was successfully created.", "webOrderId": order.pk}


# ---------------------------------------------------------------- web-order-item.add


class WebOrderItemAddIn(Params):
    customerId: OptId = None
    inventoryIds: IdList = None
    inventoryOrigin: OptInt = None
    quantity: Boxes
    price: OptMoney(10, 3) = None
    carrierId: OptId = None
    date: OptDate = None
    companyLocationId: OptId = None
    shipToId: OptId = None
    markCode: Str(20) = ""
    webOrderId: OptId = None
    reservedInventory: OptBool = None
    # Ordering by product spec instead of by line (Transactional API Access).
    productCode: Str(20) | None = Field(None, json_schema_extra=TRANSACTIONAL)
    companyProductId: OptId = Field(None, json_schema_extra=TRANSACTIONAL)
    boxTypeCode: Str(3) | None = Field(None, json_schema_extra=TRANSACTIONAL)
    unitType: Literal["Stem", "Bunch"] | None = Field(None, json_schema_extra=TRANSACTIONAL)
    unitsPerBox: OptId = Field(None, json_schema_extra=TRANSACTIONAL)


class WebOrderItemAddOut(Envelope):
    webOrderId: int
    webOrderItemId: int
    webOrderItemIds: list[int]
    # A marketplace channel set to check out on every line: the documents made at once.
    invoiceId: int | None = None
    invoiceNumber: int | None = None
    prebookId: int | None = None
    prebookNumber: int | None = None
    transactionFee: float | None = None


def _origin(value: int | None, *, by_spec: bool) -> int:
    if value is None:
        if by_spec:
            return Origin.ON_HAND
        raise Invalid(
            "required (1 on hand, 2 future, 3 vendor availability)", field="inventoryOrigin"
        )
    if value not in Origin.values:
        raise Invalid(
            f"{value} is not offered; this company sells 1 (on hand), 2 (future) and 3 (vendor "
            "availability) inventory",
            field="inventoryOrigin",
        )
    return value


def _requests_by_spec(call, p: WebOrderItemAddIn, customer_id: int, origin: int):
    if p.inventoryIds:
        raise Invalid("send inventoryIds or a product spec, not both", field="inventoryIds")
    if not p.boxTypeCode:
        raise Invalid("required when ordering by product spec", field="boxTypeCode")
    company = call.company
    # The customer and the id of its location in one statement, with the same refusals.
    customer, location_id = services.customer_at(company, customer_id, p.companyLocationId)
    # The pending order is locked (or made) before the lines, the order every web-order write
    # locks them in; add_items then finds it under the lock this transaction already holds.
    order = services.pending_order(company, customer, location_id, p.webOrderId, call.token)
    picked = queries.pick_lines(
        company=company,
        customer=customer,
        location_id=location_id,
        product=queries.product_by_spec(
            company, product_code=p.productCode, product_id=p.companyProductId
        ),
        box_type=queries.box_type_by_code(company, p.boxTypeCode),
        origin=origin,
        quantity=p.quantity,
        unit_type=p.unitType,
        units_per_box=p.unitsPerBox,
        reserved=bool(p.reservedInventory),
    )
    return order.pk, [services.ItemRequest(line_id, boxes) for line_id, boxes in picked]


@api_method(
    "web-order-item.add",
    request=WebOrderItemAddIn,
    response=WebOrderItemAddOut,
    tokens=[CUSTOMER, USER],
    area="sales",
    account_required=True,
    creates=True,
)
def web_order_item_add(call, p: WebOrderItemAddIn):
    """Add lines to the customer's pending web order, holding their boxes at once.

    `inventoryOrigin` 5 (Stemline's own): hard goods, `inventoryIds` their productIds (as
    ecommerce/inventory.list's `hardGoodItems` give them) and `quantity` in units; they are
    held until checkout sells them on the order's invoice. `webOrderItemIds` are then the
    hard-goods lines' ids."""
    customer_id = _customer_id(call, p.customerId)
    if p.inventoryOrigin == HARD_GOODS_ORIGIN:
        return api_hardgoods.web_order_item_add(call, p, customer_id)
    by_spec = bool(p.productCode or p.companyProductId)
    origin = _origin(p.inventoryOrigin, by_spec=by_spec)
    web_order_id = p.webOrderId
    if by_spec:
        web_order_id, requests = _requests_by_spec(call, p, customer_id, origin)
    elif p.inventoryIds:
        requests = [services.ItemRequest(pk, p.quantity) for pk in p.inventoryIds]
    else:
        raise Invalid("required unless ordering by productCode", field="inventoryIds")
    result = services.add_items(
        company=call.company,
        customer_id=customer_id,
        requests=requests,
        origin=origin,
        location_id=p.companyLocationId,
        web_order_id=web_order_id,
        price=p.price,
        carrier_id=p.carrierId,
        ship_to_id=p.shipToId,
        ship_date=p.date,
        mark_code=p.markCode,
        reserved=bool(p.reservedInventory),
        token=call.token,
    )
    ids = [item.pk for item in result.items]
    answer = {
        # Komet's own text, word for word (reference §1.6), repetition included.
        "message": "Item was successfully added to the order Item was successfully added.",
        "webOrderId": result.web_order.pk,
        "webOrderItemId": ids[0],
        "webOrderItemIds": ids,
    }
    if result.channel is not None and result.channel.checkout_on_add:
        # For marketplaces that never call checkout: each line becomes its document at once.
        done = services.checkout(
            company=call.company, customer_id=customer_id, web_order_id=result.web_order.pk
        )
        answer.update(
            message="Item was added and the order checked out.",
            invoiceId=done.invoice.pk if done.invoice else None,
            invoiceNumber=done.invoice.number if done.invoice else None,
            prebookId=done.prebook.pk if done.prebook else None,
            prebookNumber=done.prebook.number if done.prebook else None,
            transactionFee=done.transaction_fee,
        )
    return answer


# ---------------------------------------------------------------- web-order-item.delete


class WebOrderItemDeleteIn(Params):
    customerId: OptId = None
    webOrderId: Id
    webOrderItemId: Id
    # Stemline's own: 5 names a hard-goods line (its id from web-order-item.add with origin 5).
    inventoryOrigin: OptInt = None


class WebOrderItemDeletedOut(Envelope):
    webOrderId: int
    webOrderItemId: int


@api_method(
    "web-order-item.delete",
    request=WebOrderItemDeleteIn,
    response=WebOrderItemDeletedOut,
    tokens=[CUSTOMER, USER],
    area="sales",
    account_required=True,
)
def web_order_item_delete(call, p: WebOrderItemDeleteIn):
    """Remove a line from a pending web order; its boxes are available again at once.

    A hard-goods line (its `webOrderItemId` as web-order-item.add gave it for inventoryOrigin
    5) is removed the same way and its units go back to stock; `inventoryOrigin` 5 says it is
    one (needed only when a line of boxes of the order has the same id)."""
    if p.inventoryOrigin is not None and p.inventoryOrigin not in (
        *Origin.values,
        HARD_GOODS_ORIGIN,
    ):
        raise Invalid(
            f"{p.inventoryOrigin} is not an origin (1 on hand, 2 future, 3 vendor availability, "
            f"{HARD_GOODS_ORIGIN} hard goods)",
            field="inventoryOrigin",
        )
    services.delete_item(
        company=call.company,
        customer_id=_customer_id(call, p.customerId),
        web_order_id=p.webOrderId,
        item_id=p.webOrderItemId,
        hard_good=None if p.inventoryOrigin is None else p.inventoryOrigin == HARD_GOODS_ORIGIN,
    )
    return {
        "message": "The item was successfully deleted from the Web Order.",
        "webOrderId": p.webOrderId,
        "webOrderItemId": p.webOrderItemId,
    }


# ---------------------------------------------------------------- web-order.delete


class WebOrderDeleteIn(Params):
    customerId: OptId = None
    webOrderId: Id


class WebOrderDeletedOut(Envelope):
    webOrderId: int


@api_method(
    "web-order.delete",
    request=WebOrderDeleteIn,
    response=WebOrderDeletedOut,
    tokens=[CUSTOMER, USER],
    area="sales",
    account_required=True,
)
def web_order_delete(call, p: WebOrderDeleteIn):
    """Cancel a web order: its boxes come back, and its documents are voided unless confirmed."""
    services.cancel(
        company=call.company,
        customer_id=_customer_id(call, p.customerId),
        web_order_id=p.webOrderId,
    )
    return {"message": "The Web Order was successfully canceled.", "webOrderId": p.webOrderId}


# ---------------------------------------------------------------- web-order-details.list


class WebOrderDetailsIn(Params):
    customerId: OptId = None
    webOrderId: Id
    companyLocationId: OptId = None
    statusId: StatusFilter = None


class WebOrderItemOut(Out):
    id: str
    webOrderItemId: int
    inventoryId: int
    origin: int
    productId: int
    product: str
    boxTypeCode: str
    unitType: str
    unitsPerBox: int
    boxes: int
    # What was ordered: boxes, or units of unitType for a line of the units inventory.
    quantity: int
    totalUnits: int
    unitsInventory: bool
    price: Number
    amount: Number
    carrierId: int | None
    shipToId: int | None
    date: date | None
    markCode: str


class WebOrderOut(Out):
    id: int
    number: int
    statusId: int
    status: str
    companyLocationId: int
    customerId: int
    customerPo: str
    holdExpiresAt: datetime | None
    subtotal: Number
    additionalCharges: Number
    total: Number
    transactionFee: Number
    invoiceId: int | None
    invoiceNumber: int | None
    prebookId: int | None
    prebookNumber: int | None
    items: list[WebOrderItemOut]
    # Hard goods in the order (inventoryOrigin 5), in units; counted in subtotal and total.
    hardGoodItems: list[api_hardgoods.HardGoodLineOut] = []


class WebOrderDetailsOut(Envelope):
    webOrders: list[WebOrderOut]


def _item_row(item) -> dict:
    line = item.line
    amount = item.quantity * line.units_per_box * item.price
    return {
        "id": str(item.pk),
        "webOrderItemId": item.pk,
        "inventoryId": line.pk,
        "origin": item.origin,
        "productId": line.product_id,
        "product": line.product.description,
        "boxTypeCode": line.box_type.code,
        "unitType": line.unit_type,
        "unitsPerBox": line.units_per_box,
        "boxes": 0 if line.in_units else item.quantity,
        "quantity": item.quantity,
        "totalUnits": item.quantity * line.units_per_box,
        "unitsInventory": line.in_units,
        "price": item.price,
        "amount": amount,
        "carrierId": item.carrier_id,
        "shipToId": item.ship_to_id,
        "date": item.ship_date,
        "markCode": item.mark_code,
    }


def _order_row(order) -> dict:
    items = [_item_row(i) for i in order.lines]
    hard_goods = api_hardgoods.lines_of(order)
    subtotal = _money(sum((i["amount"] for i in [*items, *hard_goods]), Decimal("0")))
    documents = [d for d in (order.invoice, order.prebook) if d is not None]
    return {
        "id": order.pk,
        "number": order.pk,
        "statusId": order.status,
        "status": order.get_status_display(),
        "companyLocationId": order.location_id,
        "customerId": order.customer_id,
        "customerPo": order.customer_po,
        "holdExpiresAt": order.hold_expires_at if order.status == WebOrder.Status.PENDING else None,
        "subtotal": subtotal,
        "additionalCharges": Decimal("0.00"),
        "total": subtotal,
        "transactionFee": sum((d.transaction_fee for d in documents), Decimal("0.00")),
        "invoiceId": order.invoice.pk if order.invoice else None,
        "invoiceNumber": order.invoice.number if order.invoice else None,
        "prebookId": order.prebook.pk if order.prebook else None,
        "prebookNumber": order.prebook.number if order.prebook else None,
        "items": items,
        "hardGoodItems": hard_goods,
    }


@api_method(
    "web-order-details.list",
    request=WebOrderDetailsIn,
    response=WebOrderDetailsOut,
    tokens=[CUSTOMER, USER],
    area="sales",
    read=True,
    account_required=True,
    # The path a curl sample of the reference uses; the same method and grant.
    aliases=["v2/web-order-details.list"],
)
def web_order_details_list(call, p: WebOrderDetailsIn):
    """A web order with its lines (by default only while pending; statusId 2: checked out)."""
    customer_id = _customer_id(call, p.customerId)
    # Another customer's order is not found, whatever the status filter.
    queries.web_order(call.company, customer_id, p.webOrderId)
    orders = queries.web_orders(
        company=call.company,
        customer_id=customer_id,
        web_order_id=p.webOrderId,
        status=p.statusId or WebOrder.Status.PENDING,
        location_id=p.companyLocationId,
    )
    return {"webOrders": [_order_row(o) for o in orders]}


# ---------------------------------------------------------------- web-order.checkout


class WebOrderCheckoutIn(Params):
    customerId: OptId = None
    webOrderId: Id
    customerPo: Str(50) = ""
    companyLocationId: OptId = None


class WebOrderCheckedOutOut(Envelope):
    webOrderId: int
    invoiceId: int | None
    invoiceNumber: int | None
    prebookId: int | None
    prebookNumber: int | None
    transactionFee: Number


@api_method(
    "web-order.checkout",
    request=WebOrderCheckoutIn,
    response=WebOrderCheckedOutOut,
    tokens=[CUSTOMER, USER],
    area="sales",
    account_required=True,
    creates=True,
    # services.checkout makes its own transaction, after taking the documents' numbers.
    atomic=False,
)
def web_order_checkout(call, p: WebOrderCheckoutIn):
    """Check out a pending web order: on-hand lines become an invoice, future lines a prebook."""
    customer_id = _customer_id(call, p.customerId)
    if p.companyLocationId is not None:
        order = queries.web_order(call.company, customer_id, p.webOrderId)
        if order.location_id != p.companyLocationId:
            raise Invalid(
                f"web order {p.webOrderId} is not at location {p.companyLocationId}",
                field="companyLocationId",
            )
    done = services.checkout(
        company=call.company,
        customer_id=customer_id,
        web_order_id=p.webOrderId,
        customer_po=p.customerPo,
    )
    return {
        "message": "The Web Order was successfully checked out.",
        "webOrderId": done.web_order.pk,
        "invoiceId": done.invoice.pk if done.invoice else None,
        "invoiceNumber": done.invoice.number if done.invoice else None,
        "prebookId": done.prebook.pk if done.prebook else None,
        "prebookNumber": done.prebook.number if done.prebook else None,
        "transactionFee": done.transaction_fee,
    }


# ---------------------------------------------------------------- invoice.confirm


class InvoiceConfirmIn(Params):
    invoiceId: OptId = None
    invoiceNumber: Str(20) | None = None
    locationId: OptId = None


class InvoiceConfirmedOut(Envelope):
    invoiceId: int
    invoiceNumber: int


@api_method(
    "invoice.confirm",
    request=InvoiceConfirmIn,
    response=InvoiceConfirmedOut,
    tokens=[COMPANY, USER],
    area="sales",
)
def invoice_confirm(call, p: InvoiceConfirmIn):
    """Confirm a Draft or Pending Approval invoice (by invoiceId, or invoiceNumber)."""
    invoice = services.confirm_invoice(
        company=call.company,
        invoice_id=queries.invoice_id(
            call.company, invoice_id=p.invoiceId, number=p.invoiceNumber, location_id=p.locationId
        ),
        user=call.user,
    )
    return {
        "message": "The invoice was successfully confirmed.",
        "invoiceId": invoice.pk,
        "invoiceNumber": invoice.number,
    }


# The other sales methods live beside this module; importing them registers them.
from . import api_delivery, api_invoices, api_prebooks, api_standing  # noqa: E402, F401
