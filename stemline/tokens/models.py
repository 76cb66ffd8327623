"""API tokens: who may call the API, as whom, and which methods."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from stemline.core.models import CompanyOwned


class TokenType(models.TextChoices):
    COMPANY = "company", "Company"
    CUSTOMER = "customer", "Customer"
    VENDOR = "vendor", "Vendor"
    USER = "user", "User"


class ApiToken(CompanyOwned):
    description = models.CharField(max_length=200)
    token_type = models.CharField(max_length=10, choices=TokenType.choices)
    customer = models.ForeignKey(
        "parties.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="tokens"
    )
    vendor = models.ForeignKey(
        "parties.Vendor", null=True, blank=True, on_delete=models.CASCADE, related_name="tokens"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    # The secret itself is never stored: a keyed hash finds the token, and an encrypted copy
    # (key outside the database) lets the Vendor Portal and the Tokens page show it again.
    key_hash = models.CharField(max_length=64, unique=True)
    key_prefix = models.CharField(max_length=8)
    secret_encrypted = models.TextField()
    grants = models.JSONField(default=list, blank=True)
    transactional = models.BooleanField(default=False)
    # Komet's server ignores unknown parameters; an integrator may ask for them to be refused.
    strict_parameters = models.BooleanField(default=False)
    # For clients whose HTTP library throws on any non-2xx answer: failures answer 200 with the
    # same envelope (status 0).
    failures_as_200 = models.BooleanField(default=False)
    rate_per_second = models.FloatField(null=True, blank=True)
    rate_burst = models.PositiveIntegerField(null=True, blank=True)
    # Bumped by every change of grants or limits: the gateway's snapshots of the token are
    # good only while it is unchanged.
    version = models.PositiveIntegerField(default=1)
    # Rate limiter state (GCRA): the theoretical arrival time of the next request, epoch seconds.
    rate_tat = models.FloatField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    reset_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(token_type__in=TokenType.values), name="token_type_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        token_type="company",
                        customer__isnull=True,
                        vendor__isnull=True,
                        user__isnull=True,
                    )
                    | Q(
                        token_type="customer",
                        customer__isnull=False,
                        vendor__isnull=True,
                        user__isnull=True,
                    )
                    | Q(
                        token_type="vendor",
                        vendor__isnull=False,
                        customer__isnull=True,
                        user__isnull=True,
                    )
                    | Q(
                        token_type="user",
                        user__isnull=False,
                        customer__isnull=True,
                        vendor__isnull=True,
                    )
                ),
                name="token_binding_matches_type",
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(revoked_at__isnull=True, customer__isnull=False),
                name="token_one_active_per_customer",
            ),
            models.UniqueConstraint(
                fields=["vendor"],
                condition=Q(revoked_at__isnull=True, vendor__isnull=False),
                name="token_one_active_per_vendor",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(revoked_at__isnull=True, user__isnull=False),
                name="token_one_active_per_user",
            ),
            models.CheckConstraint(condition=~Q(description=""), name="token_description_set"),
        ]

    def __str__(self) -> str:
        return f"{self.get_token_type_display()} token {self.key_prefix}… ({self.description})"

    @property
    def active(self) -> bool:
        return self.revoked_at is None
