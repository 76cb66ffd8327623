"""Receivables in a real browser (headless Chromium, as test_browser.py): a payment recorded
against two invoices with the remainder following the typing, a credit raised and approved,
the aging report, a statement PDF downloaded (and turned into a PNG to look at)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from stemline.core.models import Role
from stemline.money.models import Credit, CreditStatus, Payment
from stemline.money.tests.conftest import Books

from .test_browser import CHROMIUM, browser, page, shot, sign_in  # noqa: F401 (fixtures)

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing"),
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


def test_payment_credit_aging_and_statement(page, person, stocked, shot, tmp_path):  # noqa: F811
    books = Books(stocked)
    a, b = books.invoice(2), books.invoice(1)  # 250.00 and 125.00
    books.customer.terms = "Net 30"
    books.customer.credit_limit = 1000
    books.customer.save()
    sign_in(page, person(Role.ACCOUNTING))
    page.click("nav >> text=Receivables")
    assert "375.00" in page.inner_text("#aging-total")
    page.click(f"#aging-{books.customer.pk} a")
    page.click("#record-payment")
    page.fill("#f-total", "300.00")
    page.fill("#f-ref", "CHK 20417")
    page.fill(f"input[name=amount-{a.pk}]", "250")
    assert page.inner_text("#remainder") == "50.00"
    page.fill(f"input[name=amount-{b.pk}]", "40.5")
    assert page.inner_text("#applied-sum") == "290.50"
    assert page.inner_text("#remainder") == "9.50"
    shot(page, "receivables-payment")
    page.click("#save-payment")
    page.wait_for_selector("#balance")
    assert page.inner_text("#balance") == "75.00"  # 125 - 40.50 open, less 9.50 on account
    payment = Payment.objects.get()
    assert (payment.applied, payment.reference_number) == (290.5, "CHK 20417")

    page.click(f"#open-{b.pk} >> text=Raise credit")
    page.fill(f"input[name=qty-{b.items.get().pk}]", "20")
    page.select_option(f"select[name=type-{b.items.get().pk}]", "UN")
    page.fill("#f-comment", "20 stems arrived broken")
    page.click("#raise-credit")
    page.wait_for_selector("#credit-status")
    assert page.inner_text("#credit-status") == "Pending Review"
    page.fill("#f-comment", "photos checked")
    page.click("#approve")
    page.wait_for_selector("#credit-status:has-text('Approved')")
    shot(page, "receivables-credit")
    assert Credit.objects.get().status == CreditStatus.APPROVED
    page.click(f"text={books.customer.name}")
    assert page.inner_text("#balance") == "65.00"  # the credit of 10.00 off invoice b
    shot(page, "receivables-account")
    with page.expect_download() as download:
        page.click("#statement-pdf")
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    page.goto("/receivables/")
    shot(page, "receivables-aging")
    # The statement as a picture, to look at (pdftoppm from poppler-utils, when installed).
    out_dir = Path(shot.folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "receivables-statement.pdf"
    target.write_bytes(pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "60",
                "-singlefile",
                str(target),
                str(target.with_suffix("")),
            ],
            check=True,
        )
        assert target.with_suffix(".png").exists()
