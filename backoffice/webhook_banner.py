"""The banner that opens every admin page while an endpoint of the user's stores is
disabled (templates/admin/webhooks/banner.html). Ordo also emails the store's staff,
but mail gets lost; whoever signs in next sees the banner and can enable it in one click.
"""

from dataclasses import dataclass, field

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from backoffice.scoping import member_store_ids
from webhooks.models import WebhookEndpoint

# A superuser sees every store's: the newest few, and a link to the rest.
BANNER_LIMIT = 5


@dataclass(frozen=True)
class WebhookBanner:
    endpoints: list[WebhookEndpoint] = field(default_factory=list)
    more: bool = False


def disabled_endpoints(request: HttpRequest) -> WebhookBanner:
    """The disabled endpoints of the stores `request.user` works for, newest first."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return WebhookBanner()
    ids = member_store_ids(user)
    if ids is not None and not ids:
        return WebhookBanner()
    endpoints = WebhookEndpoint.objects.filter(status=WebhookEndpoint.Status.DISABLED)
    if ids is not None:
        endpoints = endpoints.filter(store_id__in=ids)
    found = list(endpoints.select_related("store").order_by("-disabled_at")[: BANNER_LIMIT + 1])
    return WebhookBanner(endpoints=found[:BANNER_LIMIT], more=len(found) > BANNER_LIMIT)


def webhook_banner(request: HttpRequest) -> dict:
    """Context processor. Lazy: the query runs only on a page that shows the banner, never
    for the API's or the emails' templates."""
    return {"webhook_banner": SimpleLazyObject(lambda: disabled_endpoints(request))}
