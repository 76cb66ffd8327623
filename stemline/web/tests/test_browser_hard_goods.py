"""Hard goods in a real browser: a product added in Setup > Hard goods (a refused discount
shown beside its field), units received, seen in Sales > Inventory's hard-goods tab, and sold on an
invoice from its page. Screenshots go to docs/screenshots/ with STEMLINE_SCREENSHOTS=1."""

from decimal import Decimal

import pytest

from stemline.core.models import Role
from stemline.hardgoods.models import HardGoodInventory, HardGoodProduct
from stemline.parties.models import Vendor, VendorType
from stemline.sales import invoicing
from stemline.sales.models import Invoice

from .test_browser import CHROMIUM, browser, page, shot, sign_in  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.skipif(not __import__("os").path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing"),
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


def test_adding_a_hard_good_receiving_it_and_selling_it_on_an_invoice(
    page,  # noqa: F811
    person,
    stocked,
    shot,  # noqa: F811
):
    company = stocked.company
    supplier = Vendor.objects.create(
        company=company,
        name="Floral Supply Co",
        code="FSC",
        port_origin="MIA",
        vendor_type=VendorType.HARD_GOODS,
    )
    sign_in(page, person(Role.ADMIN))
    page.click("text=Setup")
    page.click("aside >> text=Hard goods")
    assert "No hard goods." in page.inner_text("#hard-good-list")
    page.click("#new-hard-good")
    # The form has loaded (all_inner_texts does not wait for it), then: only hard-goods vendors
    # are offered (the grower of `stocked` is not).
    page.wait_for_selector("#id_vendor option", state="attached")
    offered = page.locator("#id_vendor option").all_inner_texts()
    assert "Floral Supply Co" in offered and "Rosas del Monte" not in offered
    page.select_option("#id_vendor", str(supplier.pk))
    page.fill("#id_sku", "VAS-CYL-08")
    page.fill("#id_description", "Cylinder vase 8in")
    page.fill("#id_category", "Containers")
    page.fill("#id_subcategory", "Glass")
    page.fill("#id_color", "Clear")
    page.fill("#id_pack_size", "12")
    page.fill("#id_unit_upc", "012345678905")
    page.fill("#id_unit_cost", "2.10")
    page.fill("#id_unit_price_markup", "100")
    page.fill("#id_discount", "150")
    page.fill("#id_qty_for_discount", "2")
    page.click("#save-hard-good")
    assert "less than or equal to 100" in page.inner_text("#id_discount_errors")
    assert not HardGoodProduct.objects.exists()
    page.fill("#id_discount", "10")
    page.click("#save-hard-good")
    page.wait_for_url("**/setup/hard-goods/*/")
    product = HardGoodProduct.objects.get(sku="VAS-CYL-08")
    assert (product.vendor, product.pack_size, product.selling_price) == (
        supplier,
        12,
        Decimal("4.20"),
    )
    page.fill("#receive-form #id_quantity", "48")
    page.fill("#receive-form #id_unit_cost", "2.05")
    page.click("#receive-units")
    page.wait_for_selector("text=48 units received")
    assert "48" in page.inner_text("#hard-good-stock tbody tr")
    shot(page, "hard-good-edit")
    page.click("aside >> text=Hard goods")
    row = page.inner_text("#hard-good-list tbody tr")
    assert "VAS-CYL-08" in row and "4.20" in row and "10% from 2 cases" in row and "48" in row
    shot(page, "hard-goods")
    page.fill("#f-q", "cylinder")
    page.click("button:has-text('Search')")
    assert "VAS-CYL-08" in page.inner_text("#hard-good-list")
    page.fill("#f-q", "ribbon")
    page.click("button:has-text('Search')")
    assert "No hard goods." in page.inner_text("#hard-good-list")

    page.goto("/sales/inventory/")
    page.click("#hard-goods-tab")
    row = page.inner_text("#hard-goods-inventory tbody tr")
    assert "VAS-CYL-08" in row and "48" in row
    shot(page, "sales-inventory-hard-goods")

    line = stocked.add(2)
    invoice, _ = invoicing.create_invoice(
        company=company,
        customer=stocked.florist,
        location=stocked.location,
        ship_date=line.created_at.date(),
        via_api=False,
        lines=[invoicing.LineRequest(inventory_id=line.pk, boxes=2, price=Decimal("0.500"))],
    )
    page.goto(f"/sales/invoices/{invoice.pk}/")
    page.fill("#hg-quantity", "24")  # two cases: the quantity discount applies
    page.click("#add-hard-good button")
    page.wait_for_selector("text=24 units of VAS-CYL-08 added")
    assert "3.78" in page.inner_text("#hard-goods-lines")  # 4.20 less 10%
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert invoice.amount == Decimal("250.00") + Decimal("90.72")
    assert page.inner_text("#document-total").strip() == str(invoice.total)
    assert sum(r.available for r in HardGoodInventory.objects.all()) == 24
    shot(page, "invoice-hard-goods")
