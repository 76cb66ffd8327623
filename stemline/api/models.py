"""What the gateway keeps: stored answers for Idempotency-Key retries."""

from django.db import models


class IdempotencyRecord(models.Model):
    token = models.ForeignKey("tokens.ApiToken", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.key}"
