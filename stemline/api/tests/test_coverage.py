"""Coverage of the Komet reference: every method its §5 summary table names is in the
registry, or on a short list of methods left out on purpose, each with its reason."""

import re
from pathlib import Path

import pytest

from stemline.api.registry import CUSTOMER, registry

# The reference's §5 summary table, in its order (`web-order-details.list (also v2/…)` is one
# row: the v2 path is an alias, checked below).
REFERENCE_METHODS = """
login login.forgot.password product.list product.add product.update category.list boxtype.list
carrier.list carrier.add customer.list customer.details.get customer.add customer.update
customer.contact.add customer.by.company.list customer.shipto.list customer.shipto.add
customer.shipto.update customer.shipto.delete customer.additional.charge.update
additional.charge.list vendor.list vendor.add location.list company.location.list
payment.method.list inventory.add inventory.update inventory.delete inventory.list
inventory.openmarket.list inventory.consolidated.openmarket.list
future.inventory.openmarket.list inventory.units.add inventory.units.delete
vendor.availability.items.list hardgood/inventory.list hardgood.inventory.add
hardgood.inventory.update hardgood.product.add hardgood.product.update ecommerce/inventory.list
ecommerce/inventory.get ecommerce/inventory-available-dates.list ecommerce/customer-carriers.list
carriers.by.customer.ship.date.list ecommerce-lite/settings web-order.create web-order-item.add
web-order-item.delete web-order-details.list web-order.checkout web-order.delete invoice.create
invoice.update invoice.item.add invoice.item.update invoice.item.delete invoice.checkout
invoice.confirm invoice.void invoice.list invoice.details.list invoice.accounting.details.list
invoice.pdf.get invoice.pod.receive invoice.mark.sync.status.ok invoice.mark.sync.status.error
invoice/print-status/update prebook.create multiple.prebooks.create prebook.update
prebook.delete prebook.item.delete prebook.future.item.add prebook.vendor.availability.item.add
prebook.list prebook.details.list standing.order.list v2/standing-order v2/standing-order/item
purchase.order.create purchase.order.mixed.create purchase.order.list
purchase.order.va.details.list purchase.order.item.delete purchase.order.item.awb.add
purchase.order.items.awb.add box.code.change awb.list awb.future.list v2/vendor/invoice
vendor.invoice.mail.receive vendor.invoice.mark.sync payment.receive payment.list
payment.mark.sync credit.details.list credit.mark.sync open.credit.balance.create
""".split()

# Paths the reference shows besides a method's own name.
REFERENCE_ALIASES = {"v2/web-order-details.list": "web-order-details.list"}

# Left out on purpose, until the issue named brings them (none now: every method is served).
LEFT_OUT: dict[str, str] = {}

# shared/ lies beside the project's root (as CI lays it out too).
SPEC = Path(__file__).resolve().parents[3].parent / "shared" / "spec" / "komet-api-reference.md"


def test_every_reference_method_is_served_or_left_out_with_a_reason():
    served = set(registry.names())
    missing = [name for name in REFERENCE_METHODS if name not in served and name not in LEFT_OUT]
    assert missing == [], f"reference methods neither served nor left out on purpose: {missing}"


def test_the_lists_of_left_out_methods_stay_honest():
    served = set(registry.names())
    # A method that is now served must leave the list, or the list would hide a regression.
    assert sorted(served & set(LEFT_OUT)) == []
    assert set(LEFT_OUT) <= set(REFERENCE_METHODS)
    assert all(reason.startswith(("issue 13", "issue 14")) for reason in LEFT_OUT.values())


def test_reference_aliases_reach_their_method():
    for alias, name in REFERENCE_ALIASES.items():
        assert registry.get(alias) is registry.get(name) is not None
        assert registry.aliases()[alias] == name


@pytest.mark.skipif(not SPEC.exists(), reason="the reference is not on this machine")
def test_the_embedded_list_is_the_references_summary_table():
    text = SPEC.read_text()
    table = text[text.index("## 5. Summary") : text.index("**Names seen")]
    rows = re.findall(r"^\| ([^|]+?) \|", table, flags=re.M)[1:]  # after the header row
    names = [row.split(" (")[0].strip() for row in rows]
    assert names == REFERENCE_METHODS


def test_an_alias_is_offered_once_when_a_token_is_made():
    grantable = [m.name for m in registry.grantable(CUSTOMER)]
    assert grantable.count("web-order-details.list") == 1
    assert "v2/web-order-details.list" not in grantable
    assert "v2/web-order-details.list" not in registry.names()


@pytest.mark.django_db
def test_an_alias_answers_with_the_grant_of_its_method(api, company, make_token):
    from stemline.parties.models import Customer

    customer = Customer.objects.create(company=company, name="Alias Florist")
    granted = make_token(
        company, "customer", customer_id=customer.pk, grants=["web-order-details.list"]
    )
    for path in ("web-order-details.list", "v2/web-order-details.list"):
        r = api(path, granted, {"webOrderId": 999999}, verb="GET")
        # Granted through its method: past the grant check, to the unknown order (404).
        assert r.status_code == 404, (path, r.json_body)
        assert r.json_body["errors"][0]["field"] == "webOrderId"
    customer2 = Customer.objects.create(company=company, name="Other Florist")
    other = make_token(company, "customer", customer_id=customer2.pk, grants=["web-order.create"])
    for path in ("web-order-details.list", "v2/web-order-details.list"):
        r = api(path, other, {"webOrderId": 1}, verb="GET")
        assert r.status_code == 403
        assert "web-order-details.list is not among the methods granted" in r.json_body["message"]
