"""Webhook endpoints in the back office: register a receiver (its secret shown once),
change, disable or delete it, rotate its secret, read its delivery log, retry a delivery
or replay the failed ones; and the stores' events, read-only.

Every write is one call of webhooks.services, the same the API makes, so the plan, the
URL rules and the endpoint limit are decided there; a refusal reaches staff as the form's
errors or a message, never a 500."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from backoffice.admin.display import EstimatedCountPaginator, badge
from backoffice.admin.order_actions import form_errors, refusal_message
from backoffice.scoping import StoreScopedAdmin, member_store_ids, member_stores
from orders.exceptions import OrdoError
from orders.ids import format_public_id
from orders.models import Event, EventType, Order
from orders.models.event import EVENT_TYPE_PATTERNS
from orders.plans import WEBHOOKS, feature_denied, store_has_feature
from webhooks import services
from webhooks.models import RESPONSE_BODY_LIMIT, WebhookDelivery, WebhookEndpoint
from webhooks.outcomes import retry_window

# The delivery log on an endpoint's page: the newest, enough to see a run of failures.
LOG_LENGTH = 50
# Badge colours (static/ordo/admin.css) for the webhook states.
BADGES = {"enabled": "active", "disabled": "failed", "succeeded": "sent"}


def pattern_label(pattern: str) -> str:
    if pattern == "*":
        return "* — every event, those added to Ordo later too"
    if pattern.endswith(".*"):
        return f"{pattern} — every {pattern[:-2]} event"
    return f"{pattern} — {EventType(pattern).label}"


def when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


class EndpointForm(forms.ModelForm):
    """What staff fill in. The service judges it: it runs once the form's own checks pass,
    as the last step of validation, so that its refusal becomes the form's errors with
    the input kept. The admin's add and change views run the whole POST in one
    transaction, so nothing the service wrote outlives a failure after it."""

    events = forms.MultipleChoiceField(
        choices=[(pattern, pattern_label(pattern)) for pattern in EVENT_TYPE_PATTERNS],
        widget=forms.CheckboxSelectMultiple,
        help_text="The events sent to this URL. A wildcard takes in types added later.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "events", "description"]
        labels = {"url": "URL"}
        help_texts = {
            "url": "Where Ordo POSTs each event: https, on a public address.",
            "description": "What receives the events, e.g. 'ERP sync' or 'Warehouse'.",
        }

    endpoint: WebhookEndpoint | None = None
    secret = ""

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or self.errors:
            return
        try:
            self.endpoint = self.apply()
        except OrdoError as error:
            self.add_refusal(error)

    def apply(self) -> WebhookEndpoint:
        raise NotImplementedError

    def add_refusal(self, error: OrdoError) -> None:
        """Each problem under the field it is about; a refusal of the whole (the plan, the
        endpoint limit) above the form."""
        problems = error.details if isinstance(error.details, list) else []
        if problems and all(problem["field"] in self.fields for problem in problems):
            for problem in problems:
                self.add_error(problem["field"], problem["message"])
        else:
            self.add_error(None, refusal_message(error))


class EndpointCreateForm(EndpointForm):
    class Meta(EndpointForm.Meta):
        fields = ["store", "url", "events", "description"]

    def apply(self) -> WebhookEndpoint:
        data = self.cleaned_data
        endpoint, self.secret = services.endpoint_create(
            store=data["store"],
            url=data["url"],
            events=data["events"],
            description=data["description"],
        )
        return endpoint


class EndpointChangeForm(EndpointForm):
    enabled = forms.BooleanField(
        required=False,
        help_text="Untick to stop sending. Events still queue up for the endpoint and go out, "
        "in order, once it is enabled again.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("enabled", self.instance.status == WebhookEndpoint.Status.ENABLED)

    def apply(self) -> WebhookEndpoint:
        # Only what changed: an unchanged URL is not resolved again.
        data, changed = self.cleaned_data, set(self.changed_data)
        status = WebhookEndpoint.Status
        return services.endpoint_update(
            store=self.instance.store,
            endpoint=self.instance,
            url=data["url"] if "url" in changed else None,
            events=data["events"] if "events" in changed else None,
            description=data["description"] if "description" in changed else None,
            status=(status.ENABLED if data["enabled"] else status.DISABLED)
            if "enabled" in changed
            else None,
        )


class ReplayForm(forms.Form):
    since = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Deliveries of events from this moment on.",
    )
    status = forms.ChoiceField(
        choices=[("failed", "Failed ones"), ("all", "All: delivered and waiting ones too")],
        initial="failed",
    )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(StoreScopedAdmin):
    list_display = ["receiver", "store", "status_badge", "event_list", "description",
                    "failing_since", "last_delivery"]  # fmt: skip
    list_select_related = ["store"]
    list_filter = ["status"]
    search_fields = ["url", "description"]
    ordering = ["-created_at", "-id"]
    allow_delete = True
    change_fields = ["store", "public_id", "url", "events", "description", "enabled",
                     "status_badge", "failing_since", "disabled_reason", "signing",
                     "created_at"]  # fmt: skip
    readonly_fields = ["store", "public_id", "status_badge", "failing_since", "disabled_reason",
                       "signing", "created_at"]  # fmt: skip

    # --- reading: the user's endpoints only; any other id is as unknown as a missing one

    def get_queryset(self, request: HttpRequest):
        latest = WebhookDelivery.objects.filter(
            store=OuterRef("store"), endpoint=OuterRef("pk")
        ).order_by("-sequence")
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_delivery_status=Subquery(latest.values("status")[:1]),
                last_delivery_code=Subquery(latest.values("last_status_code")[:1]),
            )
        )

    def get_object(self, request: HttpRequest, object_id: str, from_field=None):
        try:
            return self.get_queryset(request).select_related("store").get(pk=object_id)
        except (WebhookEndpoint.DoesNotExist, ValidationError, ValueError):
            raise Http404("No such webhook endpoint among your stores.") from None

    def get_fields(self, request: HttpRequest, obj=None):
        return self.change_fields if obj is not None else EndpointCreateForm.Meta.fields

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs):
        kwargs["form"] = EndpointChangeForm if obj is not None else EndpointCreateForm
        return super().get_form(request, obj, change, **kwargs)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        # Said before staff fill in the form, when none of their stores may have webhooks.
        if request.method == "GET" and member_store_ids(request.user) is not None:
            stores = list(member_stores(request.user))
            if stores and not any(store_has_feature(store, WEBHOOKS) for store in stores):
                messages.error(request, feature_denied(store=stores[0], feature=WEBHOOKS).message)
        return super().add_view(request, form_url, extra_context)

    # --- writing: the forms called the service; the admin only logs and answers

    def save_form(self, request: HttpRequest, form: EndpointForm, change: bool):
        form.endpoint.secret_shown_once = form.secret
        return form.endpoint

    def save_model(self, request, obj, form, change) -> None:
        """Saved already, by the service the form called."""

    def save_related(self, request, form, formsets, change) -> None:
        """An endpoint has no related rows to save."""

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        services.endpoint_delete(store=obj.store, endpoint=obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for endpoint in queryset.select_related("store"):
            services.endpoint_delete(store=endpoint.store, endpoint=endpoint)

    def get_deleted_objects(self, objs, request: HttpRequest):
        """What a delete takes with it, counted: an endpoint's log may hold a million rows."""
        endpoints = list(objs)
        logged = WebhookDelivery.objects.filter(endpoint__in=endpoints).count()
        listed = [f"{endpoint} (its delivery log too)" for endpoint in endpoints]
        return listed, {"webhook endpoints": len(endpoints), "deliveries": logged}, set(), []

    def response_add(self, request: HttpRequest, obj: WebhookEndpoint, post_url_continue=None):
        return self._secret_page(request, obj, obj.secret_shown_once, rotated=False)

    def _secret_page(self, request, endpoint, secret: str, *, rotated: bool) -> HttpResponse:
        """The secret, on a page of its own that is never cached. Not in a message:
        messages may travel in a cookie, and the secret must not."""
        response = TemplateResponse(
            request,
            "admin/webhooks/webhookendpoint/secret.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": f"New signing secret for {endpoint}"
                if rotated
                else f"Webhook endpoint {endpoint} created",
                "endpoint": endpoint,
                "secret": secret,
                "rotated": rotated,
                "grace_ends": when(endpoint.previous_secret_expires_at) if rotated else "",
            },
        )
        add_never_cache_headers(response)
        return response

    # --- the endpoint's page: its log, and the buttons that post to the views below

    def render_change_form(self, request, context, add=False, change=False, form_url="",
                           obj=None):  # fmt: skip
        if obj is not None:
            deliveries = list(
                WebhookDelivery.objects.filter(store_id=obj.store_id, endpoint=obj).order_by(
                    "-sequence"
                )[:LOG_LENGTH]
            )
            for delivery in deliveries:
                delivery.event_public_id = format_public_id(
                    Event.PUBLIC_ID_PREFIX, delivery.event_id
                )
                delivery.response_excerpt = delivery.last_response_body[:RESPONSE_BODY_LIMIT]
                delivery.badge = badge(
                    BADGES.get(delivery.status, delivery.status), delivery.get_status_display()
                )
            since = timezone.localtime(timezone.now() - retry_window())
            context.update(
                deliveries=deliveries,
                log_length=LOG_LENGTH,
                can_act=self.has_change_permission(request, obj),
                replay_form=ReplayForm(initial={"since": since.replace(second=0, microsecond=0)}),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        views = [
            ("rotate-secret", self.rotate_secret_view),
            ("enable", self.enable_view),
            ("replay", self.replay_view),
        ]
        return [
            path(
                "<path:object_id>/deliveries/<str:delivery_id>/retry/",
                self.admin_site.admin_view(require_POST(self.retry_view)),
                name="webhooks_webhookendpoint_retry",
            ),
            *(
                path(
                    f"<path:object_id>/{name}/",
                    self.admin_site.admin_view(require_POST(view)),
                    name=f"webhooks_webhookendpoint_{name.replace('-', '_')}",
                )
                for name, view in views
            ),
            *super().get_urls(),
        ]

    def _endpoint(self, request: HttpRequest, object_id: str) -> WebhookEndpoint:
        endpoint = self.get_object(request, unquote(object_id))
        if not self.has_change_permission(request, endpoint):
            raise Http404("No such webhook endpoint among your stores.")
        return endpoint

    def _back_to(self, endpoint: WebhookEndpoint, anchor: str = "") -> HttpResponseRedirect:
        url = reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])
        return HttpResponseRedirect(f"{url}#{anchor}" if anchor else url)

    def _waiting_note(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.status == WebhookEndpoint.Status.DISABLED:
            return " The endpoint is disabled: enable it for them to go out."
        return ""

    def rotate_secret_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        endpoint = self._endpoint(request, object_id)
        try:
            rotated, secret = services.endpoint_rotate_secret(
                store=endpoint.store, endpoint=endpoint
            )
        except OrdoError as error:
            messages.error(request, refusal_message(error))
            return self._back_to(endpoint)
        self.log_change(request, endpoint, "Rotated the signing secret.")
        return self._secret_page(request, rotated, secret, rotated=True)

    def enable_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The banner's one click (and the endpoint page's): back where it was pressed."""
        endpoint = self._endpoint(request, object_id)
        if endpoint.status == WebhookEndpoint.Status.ENABLED:
            messages.info(request, f"{endpoint} is already enabled; nothing was done.")
            return self._back_to(endpoint)
        try:
            services.endpoint_enable(store=endpoint.store, endpoint=endpoint)
        except OrdoError as error:
            messages.error(request, refusal_message(error))
        else:
            text = f"{endpoint} is enabled again: its waiting deliveries go out, in order."
            messages.success(request, text)
            self.log_change(request, endpoint, text)
        back = request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            return HttpResponseRedirect(back)
        return self._back_to(endpoint)

    def replay_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        endpoint = self._endpoint(request, object_id)
        form = ReplayForm(request.POST)
        if not form.is_valid():
            messages.error(request, form_errors(form))
            return self._back_to(endpoint, "replay")
        since, status = form.cleaned_data["since"], form.cleaned_data["status"]
        try:
            queued = services.deliveries_replay(
                store=endpoint.store, endpoint=endpoint, since=since, status=status
            )
        except OrdoError as error:
            messages.error(request, refusal_message(error))
            return self._back_to(endpoint, "replay")
        kind = "failed " if status == "failed" else ""
        if not queued:
            messages.warning(
                request, f"No {kind}deliveries since {when(since)}; nothing was queued."
            )
            return self._back_to(endpoint, "deliveries")
        noun = "delivery" if queued == 1 else "deliveries"
        text = f"Queued {queued} {kind}{noun} since {when(since)} again, oldest first."
        messages.success(request, text + self._waiting_note(endpoint))
        self.log_change(request, endpoint, text)
        return self._back_to(endpoint, "deliveries")

    def retry_view(self, request: HttpRequest, object_id: str, delivery_id: str) -> HttpResponse:
        endpoint = self._endpoint(request, object_id)
        try:
            delivery = WebhookDelivery.objects.get(
                store_id=endpoint.store_id, endpoint=endpoint, pk=unquote(delivery_id)
            )
        except (WebhookDelivery.DoesNotExist, ValidationError, ValueError):
            raise Http404("No such delivery in this endpoint's log.") from None
        try:
            services.delivery_retry(store=endpoint.store, delivery=delivery)
        except OrdoError as error:
            messages.error(request, refusal_message(error))
            return self._back_to(endpoint, "deliveries")
        text = (
            f"Delivery {delivery.public_id} ({delivery.event_type}) is queued to go out now, "
            "after any earlier delivery of the same order."
        )
        messages.success(request, text + self._waiting_note(endpoint))
        self.log_change(request, endpoint, text)
        return self._back_to(endpoint, "deliveries")

    # --- columns and read-only fields

    @admin.display(description="URL", ordering="url")
    def receiver(self, endpoint: WebhookEndpoint) -> str:
        return endpoint.url

    @admin.display(description="ID")
    def public_id(self, endpoint: WebhookEndpoint) -> str:
        return endpoint.public_id

    @admin.display(description="Status", ordering="status")
    def status_badge(self, endpoint: WebhookEndpoint):
        return badge(BADGES[endpoint.status], endpoint.get_status_display())

    @admin.display(description="Events")
    def event_list(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.events)

    @admin.display(description="Last delivery")
    def last_delivery(self, endpoint: WebhookEndpoint):
        status = getattr(endpoint, "last_delivery_status", None)
        if status is None:
            return "—"
        label = WebhookDelivery.Status(status).label
        code = getattr(endpoint, "last_delivery_code", None)
        return badge(BADGES.get(status, status), f"{label} ({code})" if code else label)

    @admin.display(description="Signing secret")
    def signing(self, endpoint: WebhookEndpoint) -> str:
        expires = endpoint.previous_secret_expires_at
        if endpoint.previous_secret and expires and expires > timezone.now():
            return (
                "Shown once, when it was made. The secret it replaced signs each delivery too "
                f"until {when(expires)}."
            )
        return "Shown once, when it was made. Rotate it for a new one if it may have leaked."


@admin.register(Event)
class EventAdmin(StoreScopedAdmin):
    """What changed in the stores, in the order it was committed: what the feed and the
    webhooks send. Read-only: events are written by the changes themselves."""

    list_display = ["event_id", "type", "order_link", "store", "created_at"]
    list_select_related = ["store"]
    list_filter = ["type"]
    ordering = ["-position", "-id"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    fields = ["event_id", "type", "order_link", "store", "created_at", "data_json"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="ID")
    def event_id(self, event: Event) -> str:
        return event.public_id

    @admin.display(description="Order")
    def order_link(self, event: Event):
        url = reverse("admin:orders_order_change", args=[event.order_id])
        return format_html(
            '<a href="{}">{}</a>', url, format_public_id(Order.PUBLIC_ID_PREFIX, event.order_id)
        )
