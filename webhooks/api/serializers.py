"""Shapes of the webhooks API (DESIGN.md "Events and webhooks"): endpoints, their
deliveries and replays, and the request bodies that create and change them."""

from django import forms
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.api.docs import DATE_OR_DATE_TIME
from orders.api.fields import PublicIdField, TimestampField
from orders.api.inputs import StrictSerializer
from orders.api.serializers import ObjectTypeField
from orders.filters import DateBoundField
from orders.models import Event, EventType
from orders.models.event import EVENT_TYPE_PATTERNS
from webhooks.models import RESPONSE_BODY_LIMIT, WebhookDelivery, WebhookEndpoint
from webhooks.services import MAX_URL_LENGTH, REPLAY_STATUSES

# More patterns than there are distinct ones is a client looping, not a subscription.
MAX_EVENT_PATTERNS = 50
# What webhooks.services.deliveries_replay takes.
ENDPOINT_READ_ONLY = frozenset(
    {
        "object", "id", "secret", "disabled_reason", "disabled_at", "created_at",
        "updated_at",
    }
)  # fmt: skip


class NamedChoiceField(serializers.ChoiceField):
    """A choice documented as the enum component `component` (NamedChoiceSchema).
    drf-spectacular would name it after the field, and `status` already names other
    choice sets in the orders API: two enums of one name make it warn."""

    def __init__(self, *, component: str, **kwargs):
        self.component = component
        super().__init__(**kwargs)


class NamedChoiceSchema(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def map_serializer_field(self, auto_schema, direction):
        name = self.target.component
        component = ResolvedComponent(
            name=name,
            type=ResolvedComponent.SCHEMA,
            object=name,
            schema={"type": "string", "enum": list(self.target.choices)},
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


class WebhookEndpointSerializer(serializers.Serializer):
    """An endpoint as every route shows it: never its secret (only create and
    rotate-secret answer with one)."""

    object = ObjectTypeField("webhook_endpoint")
    id = PublicIdField(WebhookEndpoint.PUBLIC_ID_PREFIX)
    url = serializers.CharField()
    events = serializers.ListField(
        child=NamedChoiceField(component="WebhookEventPatternEnum", choices=EVENT_TYPE_PATTERNS),
        help_text="Event types, `order.*`-style wildcards, or `*` for every event.",
    )
    description = serializers.CharField()
    status = NamedChoiceField(
        component="WebhookEndpointStatusEnum", choices=WebhookEndpoint.Status.choices
    )
    disabled_reason = serializers.CharField(
        allow_null=True,
        help_text="Why Ordo disabled it (empty when someone turned it off); null while enabled.",
    )
    disabled_at = TimestampField(allow_null=True)
    created_at = TimestampField()
    updated_at = TimestampField()

    def to_representation(self, instance: WebhookEndpoint) -> dict:
        data = super().to_representation(instance)
        if instance.status != WebhookEndpoint.Status.DISABLED:
            data["disabled_reason"] = data["disabled_at"] = None
        return data


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        help_text=(
            "The signing secret (whsec_…), shown in this response only: keep it where your "
            "receiver verifies Ordo-Signature. Lost, it can only be rotated."
        )
    )


class LastAttemptSerializer(serializers.Serializer):
    at = TimestampField(source="last_attempt_at")
    status_code = serializers.IntegerField(
        source="last_status_code",
        allow_null=True,
        help_text="The receiver's HTTP status; null when it never answered.",
    )
    duration_ms = serializers.IntegerField(source="last_duration_ms", allow_null=True)
    response_body = serializers.CharField(
        source="last_response_body",
        help_text=f"The first {RESPONSE_BODY_LIMIT} bytes of the receiver's answer.",
    )
    error = serializers.CharField(
        source="last_error",
        help_text="Why the attempt failed, when it did (timeout, refused address, …).",
    )


class WebhookDeliverySerializer(serializers.Serializer):
    object = ObjectTypeField("webhook_delivery")
    id = PublicIdField(WebhookDelivery.PUBLIC_ID_PREFIX)
    endpoint_id = PublicIdField(WebhookEndpoint.PUBLIC_ID_PREFIX)
    event_id = PublicIdField(Event.PUBLIC_ID_PREFIX)
    event_type = NamedChoiceField(component="EventTypeEnum", choices=EventType.choices)
    status = NamedChoiceField(
        component="WebhookDeliveryStatusEnum", choices=WebhookDelivery.Status.choices
    )
    attempts = serializers.IntegerField()
    next_attempt_at = TimestampField(
        allow_null=True, help_text="When it is tried next; null unless pending."
    )
    last_attempt = LastAttemptSerializer(
        source="*", allow_null=True, help_text="null until it was first tried."
    )
    created_at = TimestampField()

    def to_representation(self, instance: WebhookDelivery) -> dict:
        data = super().to_representation(instance)
        if instance.status != WebhookDelivery.Status.PENDING:
            data["next_attempt_at"] = None
        if instance.last_attempt_at is None:
            data["last_attempt"] = None
        return data


class WebhookReplaySerializer(serializers.Serializer):
    object = ObjectTypeField("webhook_replay")
    queued = serializers.IntegerField(help_text="How many deliveries were queued again.")


def _event_patterns(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=NamedChoiceField(component="WebhookEventPatternEnum", choices=EVENT_TYPE_PATTERNS),
        allow_empty=False,
        max_length=MAX_EVENT_PATTERNS,
        help_text="Event types, `order.*`-style wildcards, or `*` for every event.",
        **kwargs,
    )


def _url(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=MAX_URL_LENGTH,
        help_text=(
            "Where Ordo POSTs events: https, to a public address (http and private "
            "addresses only where WEBHOOK_ALLOW_PRIVATE_URLS is set). Refused with a 422 "
            "saying why otherwise."
        ),
        **kwargs,
    )


class WebhookEndpointCreateSerializer(StrictSerializer):
    read_only_names = ENDPOINT_READ_ONLY

    url = _url()
    events = _event_patterns()
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)


class WebhookEndpointUpdateSerializer(StrictSerializer):
    read_only_names = ENDPOINT_READ_ONLY
    min_properties = 1
    empty_message = "Send at least one of url, events, description or status."

    url = _url(required=False)
    events = _event_patterns(required=False)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    status = NamedChoiceField(
        component="WebhookEndpointStatusEnum",
        choices=WebhookEndpoint.Status.choices,
        required=False,
        help_text="enabled again clears the failure record and sends what waited, in order.",
    )


@extend_schema_field(
    {
        **DATE_OR_DATE_TIME,
        "description": (
            "Deliveries created at or after this instant (a bare YYYY-MM-DD is that day's "
            "start in the store's time zone)."
        ),
    }
)
class SinceInput(serializers.CharField):
    """An instant as the list filters take one: a date-time, or a date meaning its start
    in the store's zone (resolved by the view, which knows the store)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return DateBoundField().clean(value)
        except forms.ValidationError as error:
            raise serializers.ValidationError(list(error.messages)) from None


class WebhookReplayInputSerializer(StrictSerializer):
    since = SinceInput()
    status = NamedChoiceField(
        component="WebhookReplayStatusEnum",
        choices=REPLAY_STATUSES,
        default="failed",
        help_text=(
            "Which deliveries to queue again: failed (default), succeeded, pending (send "
            "now rather than at their next retry) or all."
        ),
    )
