"""Setup > Integrations: connect a marketplace (the wizard), its hand-off bundle to copy or
download, its settings, and the delivery log a person can read and replay."""

import json

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from stemline.core.errors import DomainError
from stemline.core.models import Location
from stemline.parties.models import Customer
from stemline.web.access import area_required, paginate
from stemline.web.forms import add_service_error

from . import services
from .forms import ChannelForm, ConnectForm
from .models import Channel, Event

LOG_PAGE = 50


def _ctx(**extra) -> dict:
    return {"section": "setup", "page": "integrations", **extra}


def _channel(request, channel_id: int) -> Channel:
    try:
        return services.channel_of(request.user.company, channel_id)
    except DomainError:
        raise Http404("no such channel") from None


@area_required("setup")
def integration_list(request):
    company = request.user.company
    channels = (
        Channel.objects.filter(company=company)
        .select_related("customer", "endpoint")
        .annotate(pending=Count("endpoint__events", filter=Q(endpoint__events__status=0)))
        .order_by("name")
    )
    return render(
        request,
        "channels/list.html",
        _ctx(channels=channels, presets=services.PRESETS.values()),
    )


@area_required("setup")
def integration_connect(request):
    company = request.user.company
    taken = Channel.objects.filter(company=company).values_list("customer_id", flat=True)
    customers = (
        Customer.objects.filter(company=company, active=True)
        .exclude(pk__in=taken)
        .order_by("name")
        .values_list("pk", "name")
    )
    locations = None
    if company.multi_location:
        locations = Location.objects.filter(company=company, active=True).values_list("pk", "name")
    form = ConnectForm(request.POST or None, customers=customers, locations=locations)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            bundle = services.connect(
                company=company,
                marketplace=data["marketplace"],
                customer_id=data["customer"],
                endpoint_url=data["endpoint"] or "",
                location_id=data.get("location"),
                name=data["name"],
                created_by=request.user,
            )
        except DomainError as exc:
            add_service_error(form, exc, ConnectForm.ERROR_FIELDS)
        else:
            messages.success(
                request,
                f"{bundle.channel.name} is connected. Send the marketplace the bundle below.",
            )
            return redirect("integration_detail", channel_id=bundle.channel.pk)
    return render(
        request,
        "channels/connect.html",
        _ctx(form=form, presets=services.PRESETS.values()),
    )


def _settings_initial(channel: Channel) -> dict:
    return {
        "sells_on_hand": channel.sells_on_hand,
        "sells_future": channel.sells_future,
        "sells_units": channel.sells_units,
        "sells_availability": channel.sells_availability,
        "sells_hard_goods": channel.sells_hard_goods,
        "price_level": channel.customer.default_price,
        "markup": channel.customer.price_b_markup,
        "line_cap": channel.line_cap,
        "buffer": channel.buffer,
        "fee_rate": channel.fee_rate,
        "snapshot_every": channel.snapshot_every,
        "deltas_per_message": channel.deltas_per_message,
        "checkout_on_add": channel.checkout_on_add,
        "max_share_of_line": channel.max_share_of_line,
        "max_share_of_market": channel.max_share_of_market,
        "active": channel.active,
        "endpoint": channel.endpoint.url if channel.endpoint_id else "",
    }


@never_cache  # shows the bundle: the channel's tokens and signing secret
@area_required("setup")
def integration_detail(request, channel_id: int):
    channel = _channel(request, channel_id)
    form = ChannelForm(request.POST or None, initial=_settings_initial(channel))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            channel = services.update(
                channel=channel,
                sells_on_hand=d["sells_on_hand"],
                sells_future=d["sells_future"],
                sells_units=d["sells_units"],
                sells_availability=d["sells_availability"],
                sells_hard_goods=d["sells_hard_goods"],
                price_level=d["price_level"],
                markup=d["markup"],
                line_cap=d["line_cap"],
                buffer=d["buffer"],
                fee_rate=d["fee_rate"],
                snapshot_every=d["snapshot_every"],
                deltas_per_message=d["deltas_per_message"] or 1,
                checkout_on_add=d["checkout_on_add"],
                max_share_of_line=d["max_share_of_line"],
                max_share_of_market=d["max_share_of_market"],
                active=d["active"],
            )
            if d["endpoint"]:
                services.set_endpoint(channel=channel, url=d["endpoint"])
        except DomainError as exc:
            add_service_error(form, exc, ChannelForm.ERROR_FIELDS)
        else:
            messages.success(request, "Saved; the marketplace gets a fresh snapshot.")
            return redirect("integration_detail", channel_id=channel.pk)
    bundle = services.bundle(channel).data
    events = paginate(
        request,
        Event.objects.filter(endpoint_id=channel.endpoint_id).order_by("-id")
        if channel.endpoint_id
        else Event.objects.none(),
        LOG_PAGE,
    )
    return render(
        request,
        "channels/detail.html",
        _ctx(
            channel=channel,
            form=form,
            bundle=bundle,
            bundle_json=json.dumps(bundle, indent=2),
            page_obj=events,
            pending=Event.objects.filter(endpoint_id=channel.endpoint_id, status=0).count()
            if channel.endpoint_id
            else 0,
        ),
    )


@area_required("setup")
def integration_bundle(request, channel_id: int):
    channel = _channel(request, channel_id)
    body = json.dumps(services.bundle(channel).data, indent=2)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = (
        f'attachment; filename="stemline-{channel.marketplace}-{channel.pk}-bundle.json"'
    )
    response["Cache-Control"] = "no-store"  # it holds the marketplace's secrets
    return response


@area_required("setup")
@require_POST
def integration_replay(request, channel_id: int, event_id: int):
    channel = _channel(request, channel_id)
    if not Event.objects.filter(pk=event_id, endpoint_id=channel.endpoint_id).exists():
        raise Http404("no such event")
    try:
        services.replay(company=request.user.company, event_id=event_id)
    except DomainError as exc:
        messages.error(request, f"Event {event_id} could not be queued: {exc.message}")
    else:
        # Sent by a worker: a slow marketplace never holds this page.
        messages.success(
            request, f"Event {event_id} is queued to be sent again; the log shows how it went."
        )
    return redirect("integration_detail", channel_id=channel.pk)


@area_required("setup")
@require_POST
def integration_retry(request, channel_id: int):
    channel = _channel(request, channel_id)
    if channel.endpoint_id:
        count = services.retry_now(company=request.user.company, endpoint_id=channel.endpoint_id)
        messages.success(request, f"{count} waiting events are due now.")
    return redirect("integration_detail", channel_id=channel.pk)
