"""The grower confirms its purchase order in the Vendor Portal ("Confirmed by Farm"); it cannot
confirm another grower's or another company's, nor one confirmed or cancelled already."""

import pytest
from django.test import Client
from django.urls import reverse

from stemline.core.models import Role
from stemline.core.services import create_user
from stemline.parties.models import Vendor
from stemline.purchasing.models import PurchaseOrder
from stemline.purchasing.tests import conftest as purchasing
from stemline.purchasing.tests.conftest import ok, standalone

pytestmark = pytest.mark.django_db

grower = purchasing.grower  # the purchasing tests' stocked company with its growers


def _portal(company, vendor, email) -> Client:
    user = create_user(
        company=company, email=email, role=Role.VENDOR, vendor=vendor, password="finca-2026"
    )
    client = Client()
    client.force_login(user)
    return client


def _po(api, g, vendor) -> PurchaseOrder:
    made = ok(
        api(
            "purchase.order.create",
            g.token,
            {
                "shipDate": str(g.ship),
                "vendorId": vendor.pk,
                "purchaseOrderItems": [standalone(g, boxes=4)],
            },
        )
    )
    return PurchaseOrder.objects.get(pk=made["purchaseOrderId"])


def test_vendor_confirms_its_purchase_order(api, grower):
    g = grower
    po = _po(api, g, g.vendor)
    farm = _portal(g.company, g.vendor, "ana@rosas.example")
    page = farm.get(reverse("vendor_portal:home")).content.decode()
    assert f'id="confirm-po-{po.pk}"' in page
    r = farm.post(reverse("vendor_portal:confirm", args=[po.pk]), follow=True)
    assert r.status_code == 200
    assert f"Purchase order {po.number} confirmed." in r.content.decode()
    po.refresh_from_db()
    assert po.status == "Confirmed by Farm" and po.confirmed_at is not None
    assert {i.confirmed_boxes for i in po.items.all()} == {4}
    # Confirmed: no button any more, and confirming again is refused with a message.
    assert f'id="confirm-po-{po.pk}"' not in r.content.decode()
    again = farm.post(reverse("vendor_portal:confirm", args=[po.pk]), follow=True)
    assert "nothing to confirm" in again.content.decode()


def test_rival_vendor_and_other_company_cannot_confirm_it(api, grower, other_company):
    g = grower
    po = _po(api, g, g.vendor)
    rival = _portal(g.company, g.rival, "sur@flores.example")
    assert rival.post(reverse("vendor_portal:confirm", args=[po.pk])).status_code == 404
    assert f'id="po-{po.pk}"' not in rival.get(reverse("vendor_portal:home")).content.decode()
    elsewhere = Vendor.objects.create(
        company=other_company, name="Rosas del Monte", code="RDM", port_origin="UIO"
    )
    stranger = _portal(other_company, elsewhere, "ana@other.example")
    assert stranger.post(reverse("vendor_portal:confirm", args=[po.pk])).status_code == 404
    assert rival.get(reverse("vendor_portal:confirm", args=[po.pk])).status_code == 405
    po.refresh_from_db()
    assert po.status != "Confirmed by Farm"


def test_confirming_needs_the_csrf_token(api, grower):
    g = grower
    po = _po(api, g, g.vendor)
    user = create_user(company=g.company, email="a@r.example", role=Role.VENDOR, vendor=g.vendor)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(reverse("vendor_portal:confirm", args=[po.pk])).status_code == 403
    po.refresh_from_db()
    assert po.status != "Confirmed by Farm"
