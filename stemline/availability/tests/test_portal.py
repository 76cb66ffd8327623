"""The Vendor Portal's availability screens: the form, the CSV upload previewed row by row
(unmapped rows refused by line number, nothing offered), confirm, and replace."""

import html

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from stemline.availability.models import Offer
from stemline.core.models import Role
from stemline.core.services import create_user
from stemline.inventory.models import InventoryLine

from .conftest import check_offers


def portal(g, client):
    user = create_user(
        company=g.company,
        email="ana@rosas.example",
        role=Role.VENDOR,
        vendor=g.vendor,
        password="finca-2026",
    )
    client.force_login(user)
    return client


def csv_of(
    g,
    *rows,
    header="product,boxType,unitType,bunches,stemsBunch,boxes,unitCost,availableFrom,availableTo",
):
    body = "\n".join([header, *rows]) + "\n"
    return SimpleUploadedFile("availability.csv", body.encode(), content_type="text/csv")


def row(g, product=None, boxes=8, cost="0.350"):
    product = product or g.product.legacy_code
    return f"{product},HB,Stem,10,25,{boxes},{cost},{g.start},{g.end}"


def upload(client, file, mode="add") -> str:
    """The preview page's text (entities decoded)."""
    r = client.post(reverse("vendor_portal:availability_upload"), {"file": file, "mode": mode})
    assert r.status_code == 200
    return html.unescape(r.content.decode())


def test_preview_maps_each_row_and_refuses_unmapped_ones_by_line_number(va, client):
    g = va
    farm = portal(g, client)
    file = csv_of(
        g,
        row(g),
        row(g, product="Tulipan Amarillo"),
        f"{g.product.description},HB,Stem,10,25,2,0.350,{g.start:%m/%d/%Y},",
        row(g, boxes="lots"),
    )
    page = upload(farm, file)
    # Line 2 mapped by code, line 4 by description (a US date, no end: one day).
    for line in (2, 4):
        shown = page.split(f'id="preview-line-{line}"')[1].split("</tr>")[0]
        assert "Rose Freedom Red 50cm" in shown and "OK" in shown
    three = page.split('id="preview-line-3"')[1].split("</tr>")[0]
    assert "not mapped" in three and "'Tulipan Amarillo' is not one of the company" in three
    five = page.split('id="preview-line-5"')[1].split("</tr>")[0]
    assert "boxes: 'lots' is not a whole number" in five
    assert "Refused: lines 3, 5." in page
    assert 'id="confirm-upload"' not in page
    # Nothing was offered, and there is nothing to confirm.
    assert not Offer.objects.exists()
    r = farm.post(reverse("vendor_portal:availability_confirm"), follow=True)
    assert "Nothing to confirm" in r.content.decode()


def test_upload_confirm_then_replace_never_below_sold(va, client, api):
    g = va
    farm = portal(g, client)
    page = upload(farm, csv_of(g, row(g), row(g, boxes=2)))
    assert "Confirm 2 rows" in page
    done = farm.post(reverse("vendor_portal:availability_confirm"), follow=True)
    assert "Availability saved: 1 offer." in done.content.decode()
    found = Offer.objects.get()
    assert found.offered == 10 and found.vendor_product == g.product.legacy_code
    # Sold 7 through the shop, then the grower replaces its offer with 5 boxes.
    from .test_api import buy

    buy(api, g, found.pk, 7)
    upload(farm, csv_of(g, row(g, boxes=5)), mode="replace")
    done = farm.post(reverse("vendor_portal:availability_confirm"), follow=True).content.decode()
    assert "kept at 7 boxes: that many are sold already (0 left to sell)" in done
    found.refresh_from_db()
    assert found.offered == 7 and InventoryLine.objects.get(pk=found.pk).available == 0
    listed = done.split(f'id="offer-{found.pk}"')[1].split("</tr>")[0]
    assert ">7<" in listed and ">0<" in listed
    check_offers(g.company)


def test_the_form_offers_boxes_and_names_the_field_it_refuses(va, client):
    g = va
    farm = portal(g, client)
    form = {
        "product": g.product.pk,
        "box_type": g.box.pk,
        "unit_type": "Stem",
        "bunches": 10,
        "stems_bunch": 25,
        "boxes": 4,
        "unit_cost": "0.300",
        "available_from": str(g.start),
        "available_to": str(g.start),
    }
    url = reverse("vendor_portal:availability")
    done = farm.post(url, form, follow=True).content.decode()
    assert "Availability saved: 1 offer." in done
    assert Offer.objects.get().line.price_a is not None
    past = {**form, "available_from": str(g.today.replace(year=g.today.year - 1))}
    past["available_to"] = past["available_from"]
    page = farm.post(url, past).content.decode()
    assert "has passed" in page and 'id="id_available_to_errors"' in page
    # A company user is not let into the growers' portal.
    staff = Client()
    staff.force_login(create_user(company=g.company, email="rep@sunrise.example", role=Role.SALES))
    assert staff.get(url).status_code == 403


def test_a_bad_file_is_refused_whole(va, client):
    g = va
    farm = portal(g, client)
    page = upload(farm, csv_of(g, row(g), header="item,qty"))
    assert "the header lacks box_type" in page
    binary = SimpleUploadedFile("x.csv", b"\xff\xfe\x00\x01", content_type="text/csv")
    assert "not UTF-8 text" in upload(farm, binary)
