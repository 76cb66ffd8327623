"""The demo data: complete, recognisable, safe to seed twice, and usable through the API."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from stemline.catalog.models import BoxType, Category, Product
from stemline.core.models import Company, Location, User
from stemline.demo import data
from stemline.parties.models import Carrier, Customer, CustomerType, ShipTo, Vendor, VendorType
from stemline.tokens.models import ApiToken

MODELS = [
    Company,
    Location,
    User,
    Category,
    Product,
    BoxType,
    Vendor,
    Carrier,
    Customer,
    ShipTo,
    ApiToken,
]


def seed_demo() -> dict[str, str]:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return dict(
        row.split(": ", 1)
        for row in out.getvalue().splitlines()
        if row.startswith(("Company ID:", "Token:"))
    )


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path  # the marketplaces' bundles are written there
    printed = seed_demo()
    return Company.objects.get(account_id=int(printed["Company ID"])), printed["Token"]


def test_a_second_run_creates_nothing_and_prints_the_same_token(demo):
    company, token = demo
    before = counts()
    products_before = list(
        Product.objects.order_by("id").values_list("id", "description", "updated_on")
    )
    again = seed_demo()
    assert again == {"Company ID": str(company.account_id), "Token": token}
    assert counts() == before
    assert (
        list(Product.objects.order_by("id").values_list("id", "description", "updated_on"))
        == products_before
    )


def test_the_demo_company_is_a_multi_location_miami_wholesaler(demo):
    company, _ = demo
    assert company.name == "Sunrise Floral Imports"
    assert company.multi_location
    locations = {loc.code: loc for loc in Location.objects.filter(company=company)}
    assert set(locations) == {"DRL", "MDL"}
    assert locations["DRL"].is_default and locations["DRL"].city == "Doral"
    assert sorted(BoxType.objects.filter(company=company).values_list("code", flat=True)) == [
        "EB",
        "FB",
        "HB",
        "QB",
    ]


def test_the_four_marketplaces_are_marketplace_customers(demo):
    company, _ = demo
    marketplaces = Customer.objects.filter(company=company, customer_type=CustomerType.MARKETPLACE)
    assert sorted(marketplaces.values_list("name", flat=True)) == sorted(
        ["DWF Wholesale", "FTD", "BloomNet", "iBuyFlowers"]
    )
    # iBuyFlowers needs the FedEx carrier's ID; every customer can be shipped to.
    fedex = Carrier.objects.get(company=company, code="FDX")
    assert fedex.name == "FedEx" and fedex.direction == "outbound"
    assert ShipTo.objects.filter(customer__name="iBuyFlowers", carrier=fedex).exists()
    for customer in Customer.objects.filter(company=company):
        assert customer.ship_tos.exists(), customer.name
    types = set(Customer.objects.filter(company=company).values_list("customer_type", flat=True))
    assert {CustomerType.FLORIST, CustomerType.SUPERMARKET, CustomerType.EVENT_PLANNER} <= types


def test_growers_and_carriers(demo):
    company, _ = demo
    # DWF Wholesale also ships to the company (its channel's Vendor token); the others grow.
    growers = Vendor.objects.filter(company=company, vendor_type=VendorType.FRESH_CUT).exclude(
        name="DWF Wholesale"
    )
    assert set(growers.values_list("port_origin", flat=True)) == {"BOG", "MDE", "UIO"}
    # And a supplier of hard goods, in Miami.
    supplier = Vendor.objects.get(company=company, vendor_type=VendorType.HARD_GOODS)
    assert supplier.port_origin == "MIA"
    inbound = Carrier.objects.filter(company=company, direction="inbound")
    assert {"Avianca Cargo", "LATAM Cargo"} <= set(inbound.values_list("name", flat=True))
    outbound = set(
        Carrier.objects.filter(company=company, direction="outbound").values_list("name", flat=True)
    )
    assert {"FedEx", "UPS", "Armellini Express", "Customer Pick-Up"} <= outbound


def test_the_logins_work_with_the_printed_password(demo, client):
    company, _ = demo
    roles = dict(User.objects.filter(company=company).values_list("username", "role"))
    assert roles == {
        "admin@sunrisefloral.example": "admin",
        "setup@sunrisefloral.example": "setup",
        "sales@sunrisefloral.example": "sales",
        "purchasing@sunrisefloral.example": "purchasing",
        "accounting@sunrisefloral.example": "accounting",
        "grower@sabana.example": "vendor",
    }
    assert client.login(username="Sales@SunriseFloral.example", password=data.DEMO_PASSWORD)
    # The grower signs into the Vendor Portal and finds the demo's purchase orders to ship.
    client.logout()
    assert client.login(username="grower@sabana.example", password=data.DEMO_PASSWORD)
    portal = client.get("/portal/").content.decode()
    assert portal.count('id="confirm-po-') == len(data.PURCHASE_ORDERS)


def test_the_summary_counts_what_the_application_shows(db, settings, tmp_path):
    from stemline.inventory.models import InventoryLine
    from stemline.purchasing.models import PurchaseOrder

    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("seed_demo", stdout=out)
    printed = out.getvalue()
    company = Company.objects.get()
    on_hand = sum(
        line.available
        for line in InventoryLine.objects.filter(company=company, arrival_date__isnull=True)
    )
    assert f"{on_hand} boxes on hand for sale" in printed
    assert f"{Customer.objects.filter(active=True).count()} customers" in printed
    assert f"{PurchaseOrder.objects.count()} purchase orders" in printed
    assert "1 Vendor Portal logins" in printed
    assert "grower@sabana.example" in printed and "Vendor Portal, Flores de la Sabana" in printed


def test_the_demo_token_lists_the_catalog_through_the_api(demo, api):
    company, token = demo
    response = api(
        "product.list", token, {"description": "freedom"}, verb="GET", account=company.account_id
    )
    assert response.status_code == 200, response.json_body
    rows = response.json_body["products"]
    assert {r["grade"] for r in rows} == {"40cm", "50cm", "60cm", "70cm"}
    assert all(r["category"] == "Roses" and r["variety"] == "Freedom" for r in rows)
    assert {r["legacyCode"] for r in rows} == {"RFRE40", "RFRE50", "RFRE60", "RFRE70"}

    everything = api("product.list", token, verb="GET").json_body["products"]
    descriptions = {r["description"] for r in everything}
    for name in [
        "Rose Mondial White 50cm",
        "Carnation Moonlight White Fancy",
        "Hydrangea Select White",
        "Hydrangea Premium Blue",
        "Hydrangea Select Antique Green",
        "Italian Ruscus",
        "Silver Dollar Eucalyptus",
    ]:
        assert name in descriptions
    assert {r["category"] for r in everything} == {"Roses", "Carnations", "Hydrangeas", "Greens"}
    assert api("category.list", token, verb="GET").status_code == 200


def test_the_demo_token_holds_every_company_method(demo):
    from stemline.tokens.services import all_grants

    company, _ = demo
    token = ApiToken.objects.get(company=company, description=data.DEMO_TOKEN_DESCRIPTION)
    assert token.grants == all_grants("company")


def test_a_revoked_demo_token_is_replaced_by_a_working_one(demo, api):
    company, old = demo
    ApiToken.objects.filter(company=company).update(revoked_at="2026-01-01T00:00:00Z")
    new = seed_demo()["Token"]
    assert new != old
    assert api("product.list", old, verb="GET").status_code == 401
    assert api("product.list", new, verb="GET").status_code == 200


def test_a_new_token_key_gives_the_demo_a_new_working_token(demo, api, settings):
    _, old = demo
    # After STEMLINE_TOKEN_KEY changes the stored copy cannot be read, so a new secret is issued.
    settings.STEMLINE_TOKEN_KEY = "another-key-for-the-demo-0123456789abcdef"
    new = seed_demo()["Token"]
    assert new != old
    assert api("product.list", new, verb="GET").status_code == 200
    assert seed_demo()["Token"] == new


def test_the_readme_shows_the_logins_and_password_the_demo_creates():
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    assert f"`{data.DEMO_PASSWORD}`" in readme
    for name, _, _, _ in data.USERS:
        assert f"`{data.login(name)}`" in readme
    for email, *_ in data.PORTAL_USERS:
        assert f"`{email}`" in readme


def test_the_demo_sells_on_two_connected_marketplaces(demo, settings):
    from stemline.channels.models import Channel, Event
    from stemline.inventory.models import InventoryLine

    company, _ = demo
    today = stock_today()
    lines = InventoryLine.objects.filter(company=company)
    assert lines.filter(arrival_date__isnull=True).count() >= 50
    assert lines.filter(arrival_date__gt=today).exists()
    channels = {c.marketplace: c for c in Channel.objects.filter(company=company)}
    assert set(channels) == {"dwf", "ftd"}
    for channel in channels.values():
        assert channel.endpoint.url.endswith(f"/{channel.marketplace}/webhook")
        # Their first snapshot waits in the outbox for the worker.
        assert Event.objects.filter(endpoint=channel.endpoint, kind="inventory.snapshot").exists()
        # The bundle the simulator reads, with the tokens the marketplace needs.
        bundle = json.loads(
            (settings.VAR_DIR / "bundles" / f"{channel.marketplace}.json").read_text()
        )
        assert bundle["customerId"] == channel.customer_id
        assert bundle["locationId"]  # the demo company has two locations


def stock_today():
    from stemline.inventory.services import today

    return today()


def test_the_demo_has_payment_methods_charges_and_customer_groups(demo, api):
    company, token = demo
    methods = api("payment.method.list", token, verb="GET").json_body["paymentMethods"]
    assert [m["name"] for m in methods] == ["ACH", "Cash", "Check", "Credit Card", "Wire"]
    charges = api("additional.charge.list", token, verb="GET").json_body["additionalCharges"]
    assert {c["code"]: c["defaultValue"] for c in charges} == {"FS": 12.5, "TAX": 7.0}
    florida = api("customer.list", token, {"customerGroup": "Florida"}, verb="GET").json_body
    assert "Bayfront Blooms" in [c["name"] for c in florida["customers"]]
    assert all(c["customerGroup"] == "Florida" for c in florida["customers"])


@pytest.mark.django_db
def test_the_demo_has_phone_and_api_orders_in_the_invoice_and_prebook_lists():
    from stemline.sales.models import DocumentStatus, Invoice, Prebook

    seed_demo()
    invoices = list(Invoice.objects.all())
    staff = [i for i in invoices if not i.via_api]
    api = [i for i in invoices if i.via_api]
    assert len(staff) == 2 and len(api) == 2
    assert all(i.status == DocumentStatus.CONFIRMED and i.transaction_fee == 0 for i in staff)
    assert all(i.status == DocumentStatus.PENDING_APPROVAL and i.transaction_fee > 0 for i in api)
    assert Prebook.objects.count() == 2
    seed_demo()  # once only
    assert Invoice.objects.count() == 4 and Prebook.objects.count() == 2
    company = Company.objects.get()
    assert company.address and company.city == "Doral"


def test_hard_goods_and_growers_offers_sell_in_the_shop(demo, api):
    """What a buyer sees beside the boxes: the supplier's vases, ribbon and foam in stock (the
    shop shows hard goods) and two growers' availability for the coming days."""
    company, token = demo
    from stemline.availability.models import Offer
    from stemline.hardgoods.models import HardGoodInventory

    assert company.hard_goods_in_shop
    stocked = HardGoodInventory.objects.filter(company=company)
    assert stocked.count() == len(data.HARD_GOODS) and all(r.total > 0 for r in stocked)
    offers = Offer.objects.filter(company=company)
    assert offers.count() == len(data.OFFERS)
    assert {o.vendor.code for o in offers} == {"CAYAMB", "TABACU"}
    customer = Customer.objects.filter(company=company, active=True).order_by("id").first()
    answer = api(
        "ecommerce/inventory.list",
        token,
        {
            "customerId": customer.pk,
            "rows": 500,
            # Two locations: the shop asks which; the offers and hard goods are at the default.
            "companyLocationId": Location.objects.get(company=company, is_default=True).pk,
        },
        account=company.account_id,
    ).json_body
    assert answer["status"] == 1
    assert {row["sku"] for row in answer["hardGoodItems"]} == {s[0] for s in data.HARD_GOODS}
    offered = {
        int(r["inventoryIds"]) for r in answer["inventoryItems"] if r["inventoryOrigin"] == 3
    }
    assert offered == {o.line_id for o in offers}
