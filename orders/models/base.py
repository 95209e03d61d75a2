from django.db import models

from orders.ids import format_public_id, uuid7

MONEY = {"max_digits": 12, "decimal_places": 2}


class PublicIdModel(models.Model):
    """A model whose primary key is a UUIDv7 shown to clients with a type prefix."""

    PUBLIC_ID_PREFIX = ""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)

    class Meta:
        abstract = True

    @property
    def public_id(self) -> str:
        return format_public_id(self.PUBLIC_ID_PREFIX, self.id)


class StoreOwned(PublicIdModel):
    """Every tenant-owned row carries `store_id` directly, and its indexes lead with it."""

    store = models.ForeignKey("orders.Store", on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True
