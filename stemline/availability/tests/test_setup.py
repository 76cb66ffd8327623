"""Setup > Vendor availability: an Admin sets the markup (open offers repriced at once) and
sees every grower's open offers; other roles are refused."""

from decimal import Decimal

from django.test import Client
from django.urls import reverse

from stemline.availability import services
from stemline.core.models import Role
from stemline.core.services import create_user


def signed_in(company, role):
    client = Client()
    client.force_login(create_user(company=company, email=f"{role}@sunrise.example", role=role))
    return client


def test_admin_sets_the_markup_and_sees_the_open_offers(va):
    g = va
    found = g.offer(6)[0].offer
    admin = signed_in(g.company, Role.ADMIN)
    url = reverse("availability_settings")
    page = admin.get(url).content.decode()
    row = page.split(f'id="offer-{found.pk}"')[1].split("</tr>")[0]
    assert "Rosas del Monte" in row and "0.400" in row and "0.520" in row
    done = admin.post(url, {"markup_percent": "25"}, follow=True).content.decode()
    assert "Markup saved; open offers repriced." in done
    found.line.refresh_from_db()
    assert found.line.price_a == Decimal("0.500")
    assert services.markup(g.company) == Decimal("25")
    refused = admin.post(url, {"markup_percent": "-5"}).content.decode()
    assert 'id="id_markup_percent_errors"' in refused
    assert signed_in(g.company, Role.SALES).get(url).status_code == 403
