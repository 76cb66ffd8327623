"""The caller of an API method, as the gateway established it."""

from dataclasses import dataclass

from django.http import HttpRequest

from stemline.core.errors import NotFound, PermissionDenied
from stemline.core.models import Company

from .registry import CUSTOMER, VENDOR, Method


@dataclass
class Call:
    request: HttpRequest
    method: Method
    company: Company | None
    token: object | None  # ApiToken; None for `login`

    @property
    def token_type(self) -> str | None:
        return self.token.token_type if self.token else None

    @property
    def customer_id(self) -> int | None:
        return self.token.customer_id if self.token else None

    @property
    def vendor_id(self) -> int | None:
        return self.token.vendor_id if self.token else None

    @property
    def user(self):
        return self.token.user if self.token else None

    @property
    def is_customer(self) -> bool:
        return self.token_type == CUSTOMER

    @property
    def is_vendor(self) -> bool:
        return self.token_type == VENDOR

    def own_customer(self, customer_id: int | None, field: str = "customerId") -> int | None:
        """A Customer token acts for its own customer only: another ID is not found."""
        if not self.is_customer:
            return customer_id
        if customer_id is not None and customer_id != self.customer_id:
            raise NotFound(f"customer {customer_id} does not exist", field=field)
        return self.customer_id

    def require_not_customer(self, what: str) -> None:
        if self.is_customer:
            raise PermissionDenied(f"a Customer token cannot {what}")
