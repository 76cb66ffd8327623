"""What the operator commands (`stemline token`, `stemline channel`) share: the company by its
Company ID, and a service's error told in terms of the command's options."""

from django.core.management.base import CommandError

from stemline.core.errors import DomainError
from stemline.core.models import Company


def domain_error(exc: DomainError, option_of_field: dict[str, str]) -> CommandError:
    """The services name fields the API's way; the operator typed the command's options."""
    option = option_of_field.get(exc.field or "")
    return CommandError(f"{option}: {exc.message}" if option else exc.message)


def company_by_account(account_id: int) -> Company:
    company = Company.objects.filter(account_id=account_id).first()
    if company is None:
        raise CommandError(f"--company: no company has the Company ID {account_id}")
    return company
