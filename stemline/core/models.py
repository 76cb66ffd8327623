"""Companies (tenants), their locations, and the people who work in them."""

import inspect
import secrets
from decimal import Decimal

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.base import ModelState
from django.db.models.fields.files import FileDescriptor
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.functions import Upper
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init


def validate_time_zone(value: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{value!r} is not a time zone (e.g. America/New_York)") from exc


def _logo_path(instance, filename: str) -> str:
    # Never the uploader's name: a random one under the company, with the checked extension.
    return f"logos/{instance.pk}/{secrets.token_hex(16)}{filename}"


def _new_account_id() -> int:
    # A public, non-sequential Company ID (the X-ACCOUNT header), so IDs do not reveal counts.
    return secrets.randbelow(900_000) + 100_000


# Descriptors whose setting stores a loaded value in the instance's __dict__ and nothing else
# when the instance is new (a foreign key's also drops a cached related object, which a new one
# has not; a file's wraps the stored name only when it is read).
_PLAIN_DESCRIPTORS = (DeferredAttribute, ForeignKeyDeferredAttribute, FileDescriptor)
_loadable: dict[type, tuple[str, ...] | None] = {}


def _plain_attnames(cls) -> tuple[str, ...] | None:
    """The attribute names of `cls`'s columns, in the order a full row has them, when a row can
    be loaded by filling the instance's __dict__ (Django's own `__init__`, every column's
    descriptor a plain one); None when it cannot."""
    try:
        return _loadable[cls]
    except KeyError:
        pass
    names = None
    if cls.__init__ is models.Model.__init__:
        fields = cls._meta.concrete_fields
        found = [inspect.getattr_static(cls, f.attname, None) for f in fields]
        if all(type(d) in _PLAIN_DESCRIPTORS for d in found):
            names = tuple(f.attname for f in fields)
    _loadable[cls] = names
    return names


class Row(models.Model):
    """Base of Stemline's models: a row read whole from the database becomes its instance
    without Django's generic `__init__` (a setattr through each column's descriptor and two
    signals with nobody listening). What it makes is what `Model.from_db` makes: the same
    values in `__dict__`, `_state.adding` False and `_state.db` set; a partial row (`only`,
    `defer`), a model with its own `__init__` or a column with its own descriptor, and a model
    that someone listens to with `pre_init` / `post_init`, take Django's way (issue 16: an
    order reads about 17 instances)."""

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        names = _plain_attnames(cls)
        if (
            names is None
            or len(values) != len(names)
            or pre_init.has_listeners(cls)
            or post_init.has_listeners(cls)
        ):
            return super().from_db(db, field_names, values)
        new = cls.__new__(cls)
        state = new._state = ModelState()
        state.adding = False
        state.db = db
        new.__dict__.update(zip(names, values, strict=True))
        return new


class Company(Row):
    name = models.CharField(max_length=200)
    account_id = models.PositiveIntegerField(unique=True, default=_new_account_id)
    multi_location = models.BooleanField(default=False)
    transaction_fee_rate = models.DecimalField(
        max_digits=6,
        decimal_places=4,
        default=Decimal("0.0150"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    auto_confirm = models.BooleanField(default=False)
    currency = models.CharField(max_length=3, default="USD")
    # Every "today" (on hand or future, the API's default dates) and every time shown follows
    # it: activated for each web request and API call (core.timezones).
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # The payment terms of a customer who has none of its own ("Net 30", "COD", "Prepaid").
    default_terms = models.CharField(max_length=30, default="Net 30")
    # Hoarding: the most one customer may hold at once (its pending web orders), in percent of
    # a line's unsold boxes and of the whole open market's; empty or 100 = no limit. A channel
    # may set its own for the marketplace's customer.
    max_share_of_line = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    max_share_of_market = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    # What the invoice PDF prints in its header (Setup > Company).
    address = models.CharField(max_length=200, blank=True)
    address_2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=50, blank=True)
    state = models.CharField(max_length=50, blank=True)
    zipcode = models.CharField(max_length=10, blank=True)
    country = models.CharField(max_length=50, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    # A PNG or JPEG checked by its content (core.files.sniff) before it is stored.
    logo = models.FileField(upload_to=_logo_path, max_length=200, blank=True)
    # Where hard goods are shown besides Sales (Setup > Hard goods): the e-commerce catalogue
    # and the marketplace channels' feeds.
    hard_goods_in_shop = models.BooleanField(default=False)
    hard_goods_in_channels = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "companies"
        constraints = [
            models.CheckConstraint(
                condition=Q(transaction_fee_rate__gte=0) & Q(transaction_fee_rate__lte=1),
                name="company_fee_rate_between_0_and_1",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="company_name_not_empty"),
            models.CheckConstraint(
                condition=Q(max_share_of_line__gte=1, max_share_of_line__lte=100),
                name="company_max_share_of_line_percent",
            ),
            models.CheckConstraint(
                condition=Q(max_share_of_market__gte=1, max_share_of_market__lte=100),
                name="company_max_share_of_market_percent",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def address_lines(self) -> list[str]:
        """The postal address as printed: street lines, then "City, State Zip", then country."""
        place = " ".join(
            p for p in (", ".join(p for p in (self.city, self.state) if p), self.zipcode) if p
        )
        return [p for p in (self.address, self.address_2, place, self.country) if p]


class CompanyOwned(Row):
    """Base of every tenant row: it belongs to exactly one company."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True


class Location(CompanyOwned):
    name = models.CharField(max_length=100)
    short_name = models.CharField(max_length=20, blank=True)
    code = models.CharField(max_length=10)
    address = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=50, blank=True)
    state = models.CharField(max_length=50, blank=True)
    is_default = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint("company", Upper("code"), name="location_code_unique"),
            models.UniqueConstraint("company", Upper("name"), name="location_name_unique"),
            models.UniqueConstraint(
                fields=["company"], condition=Q(is_default=True), name="location_one_default"
            ),
            models.CheckConstraint(condition=~Q(code=""), name="location_code_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    SETUP = "setup", "Setup"
    SALES = "sales", "Sales"
    PURCHASING = "purchasing", "Purchasing"
    ACCOUNTING = "accounting", "Accounting"
    VENDOR = "vendor", "Vendor (portal)"


STAFF_ROLES = (Role.ADMIN, Role.SETUP, Role.SALES, Role.PURCHASING, Role.ACCOUNTING)


class StemlineUserManager(UserManager):
    def get_by_natural_key(self, username):
        # Logins are e-mail addresses; people type them in any case.
        return self.get(username__iexact=username)


class User(AbstractUser):
    """A person: a company user with one role, or a grower's Vendor Portal user."""

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, null=True, blank=True, related_name="users"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.SALES)
    # Set for Vendor Portal users only: the grower this person signs in for.
    vendor = models.ForeignKey(
        "parties.Vendor", null=True, blank=True, on_delete=models.CASCADE, related_name="users"
    )

    objects = StemlineUserManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in Role]), name="user_role_valid"
            ),
            models.UniqueConstraint(Upper("username"), name="user_username_unique_any_case"),
            models.CheckConstraint(
                condition=Q(role="vendor", vendor__isnull=False) | ~Q(role="vendor"),
                name="user_vendor_role_has_vendor",
            ),
        ]

    @property
    def is_company_staff(self) -> bool:
        return self.company_id is not None and self.role in STAFF_ROLES


class LoginThrottle(models.Model):
    """Rate-limiter state of password guesses against one login name or from one client
    address (see core.ratelimit and core.services.throttled_sign_in)."""

    key = models.CharField(max_length=200, unique=True)
    rate_tat = models.FloatField(default=0)

    class Meta:
        # Pruning looks for rows whose bucket is long full.
        indexes = [models.Index(fields=["rate_tat"], name="login_throttle_tat")]

    def __str__(self) -> str:
        return self.key
