from django.db import models
from django.utils.timezone import now


class IdempotencyKey(models.Model):
    """A POST's `Idempotency-Key`, held while the request runs and its response after.

    Scoped to the store, so two stores may use the same key. Rows are kept at
    least 24 hours (`manage.py prune_idempotency_keys` removes older ones).
    """

    store = models.ForeignKey("orders.Store", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # sha256 of method, path and the canonical JSON body: the same key with another
    # request is refused instead of replaying a response that does not belong to it.
    request_fingerprint = models.CharField(max_length=64)
    locked_at = models.DateTimeField(default=now)
    completed_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "key"], name="idempotency_unique_store_key")
        ]
        # The pruning command deletes by age.
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return self.key
