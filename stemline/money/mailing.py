"""E-mailing statements to customers' statement addresses (emailForStatements, or the
invoice addresses when it is empty): queued by the web application, sent by a background
task, one customer per task so one bad address does not stop the rest."""

import logging
from datetime import date

from django.core.mail import EmailMessage
from django.db import transaction
from django_tasks import task

from stemline.parties.models import Customer

from . import queries, statements

log = logging.getLogger("stemline.money")


def recipients(customer: Customer) -> list[str]:
    raw = customer.email_for_statements or customer.email_for_invoices
    return [part.strip() for part in raw.split(";") if part.strip()]


def queue(company, customer_ids: list[int], *, mode: str, day: date, start=None, end=None) -> int:
    """Enqueue a statement e-mail for each customer that has an address; how many."""
    have = [
        c.pk for c in Customer.objects.filter(company=company, pk__in=customer_ids) if recipients(c)
    ]
    args = (
        mode,
        day.isoformat(),
        start.isoformat() if start else "",
        end.isoformat() if end else "",
    )
    for pk in have:
        transaction.on_commit(lambda pk=pk: send_statement.enqueue(pk, *args), robust=True)
    return len(have)


@task()
def send_statement(customer_id: int, mode: str, day: str, start: str, end: str) -> bool:
    """E-mail one customer's statement PDF; True if sent."""
    customer = Customer.objects.select_related("company").filter(pk=customer_id).first()
    if customer is None or not recipients(customer):
        return False
    company = customer.company
    st = queries.statement(
        company,
        customer,
        day=date.fromisoformat(day),
        mode=mode,
        start=date.fromisoformat(start) if start else None,
        end=date.fromisoformat(end) if end else None,
    )
    message = EmailMessage(
        subject=f"Statement from {company.name} ({st.day})",
        body=(
            f"Dear {customer.name},\n\nattached is your statement as of {st.day}: balance due "
            f"{st.closing:,.2f} {company.currency}.\n\n{company.name}\n"
        ),
        to=recipients(customer),
    )
    message.attach(statements.file_name(st), statements.render(company, [st]), "application/pdf")
    message.send()
    log.info("statement of customer %s e-mailed", customer_id)
    return True
