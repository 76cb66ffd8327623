"""Every "today" of a call is the company's: two companies at either end of the date line
agree with their own calendars, not with the server's UTC."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from stemline.core.models import Company

pytestmark = pytest.mark.django_db

# UTC+14 and UTC-11: whatever the hour, at least one of them is not on UTC's date, so code that
# took "today" in the server's zone fails one of the two cases below.
ZONES = ["Pacific/Kiritimati", "Pacific/Pago_Pago"]


@pytest.mark.parametrize("zone", ZONES)
def test_a_marketplace_order_without_a_date_ships_on_the_companys_today(
    api, stocked, make_token, zone
):
    company = stocked.company
    Company.objects.filter(pk=company.pk).update(time_zone=zone)
    line = stocked.add(boxes=3)
    token = make_token(company, "customer", customer_id=stocked.florist.pk)
    added = api(
        "web-order-item.add",
        token,
        {"inventoryIds": [line.pk], "inventoryOrigin": 1, "quantity": 1},
    )
    assert added.status_code == 200, added.json_body
    r = api("web-order.checkout", token, {"webOrderId": added.json_body["webOrderId"]})
    assert r.status_code == 200, r.json_body
    local_today = datetime.now(ZoneInfo(zone)).date()
    from stemline.sales.models import Invoice

    assert Invoice.objects.get(pk=r.json_body["invoiceId"]).ship_date == local_today
    # The server's own zone is left as it was after the call.
    assert timezone.get_current_timezone_name() == "UTC"


def test_a_signed_in_person_sees_the_companys_today(client, company):
    from stemline.core.models import Role
    from stemline.core.services import create_user

    Company.objects.filter(pk=company.pk).update(time_zone="Pacific/Kiritimati")
    user = create_user(
        company=company, email="rep@x.example", role=Role.ADMIN, password="pw-12345678"
    )
    client.force_login(user)
    seen = {}

    from stemline.core.timezones import CompanyTimeZoneMiddleware

    def view(request):
        seen["today"] = timezone.localdate()
        from django.http import HttpResponse

        return HttpResponse("ok")

    request = client.get("/").wsgi_request
    CompanyTimeZoneMiddleware(view)(request)
    assert seen["today"] == datetime.now(ZoneInfo("Pacific/Kiritimati")).date()


def test_an_unknown_time_zone_is_refused():
    from django.core.exceptions import ValidationError

    company = Company(name="X", time_zone="Mars/Olympus")
    with pytest.raises(ValidationError):
        company.full_clean()
