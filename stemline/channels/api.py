"""API methods of webhooks: the endpoint a token registers for its events (confirmInventory)."""

from datetime import datetime

from stemline.api.registry import COMPANY, CUSTOMER, VENDOR, api_method
from stemline.api.schemas import Envelope, OptBool, Params, Required
from stemline.core.errors import NotFound

from . import delivery, services
from .models import Endpoint, Event

TOKENS = [COMPANY, CUSTOMER, VENDOR]


class EndpointSetIn(Params):
    url: Required(500)
    rotateSecret: OptBool = None


class EndpointOut(Envelope):
    url: str
    signingSecret: str
    active: bool
    pendingEvents: int
    lastSuccessAt: datetime | None
    lastFailureAt: datetime | None
    lastError: str


def _endpoint_out(endpoint: Endpoint) -> dict:
    return {
        "url": endpoint.url,
        "signingSecret": delivery.secret_of(endpoint) or "",
        "active": endpoint.active,
        "pendingEvents": Event.objects.filter(
            endpoint=endpoint, status=Event.Status.PENDING
        ).count(),
        "lastSuccessAt": endpoint.last_success_at,
        "lastFailureAt": endpoint.last_failure_at,
        "lastError": delivery.shown_error(endpoint.last_error),
    }


@api_method(
    "webhook.endpoint.set",
    request=EndpointSetIn,
    response=EndpointOut,
    tokens=TOKENS,
    area="inventory",
)
def webhook_endpoint_set(call, p: EndpointSetIn):
    """Register (or move) the endpoint this token's events are pushed to, signed with Standard
    Webhooks; the answer holds the signing secret. The URL must be a public http(s) address
    (no loopback, private network or cloud metadata address; checked again at every delivery).
    A Stemline addition (contract §4)."""
    endpoint = services.register_token_endpoint(
        company=call.company, token=call.token, url=p.url, rotate=bool(p.rotateSecret)
    )
    return _endpoint_out(endpoint)


class NoParams(Params):
    pass


@api_method(
    "webhook.endpoint.get",
    request=NoParams,
    response=EndpointOut,
    tokens=TOKENS,
    area="inventory",
    read=True,
)
def webhook_endpoint_get(call, p: NoParams):
    """The endpoint this token registered, its signing secret and how its deliveries go."""
    endpoint = Endpoint.objects.filter(token=call.token).first()
    if endpoint is None:
        raise NotFound("this token has no webhook endpoint; register one", field="url")
    return _endpoint_out(endpoint)


@api_method(
    "webhook.endpoint.delete",
    request=NoParams,
    response=Envelope,
    tokens=TOKENS,
    area="inventory",
)
def webhook_endpoint_delete(call, p: NoParams):
    """Stop pushing this token's events (they can still be read from the feeds)."""
    if not services.remove_token_endpoint(token=call.token):
        raise NotFound("this token has no webhook endpoint", field="url")
    return {}
