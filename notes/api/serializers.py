from rest_framework import serializers

from notes.models import MAX_NOTE_LENGTH
from orders.api.fields import PublicIdField, TimestampField
from orders.api.inputs import StrictBooleanInput, StrictSerializer
from orders.api.serializers import ObjectTypeField
from orders.models import Order


class NoteSerializer(serializers.Serializer):
    object = ObjectTypeField("note")
    id = PublicIdField("note_")
    order_id = PublicIdField(Order.PUBLIC_ID_PREFIX)
    content = serializers.CharField()
    is_internal = serializers.BooleanField()
    author = serializers.CharField()
    notification_status = serializers.CharField(
        allow_null=True, help_text="pending, sent or failed; null for internal notes"
    )
    notification_attempts = serializers.IntegerField()
    notification_error = serializers.CharField()
    notified_at = TimestampField(allow_null=True, help_text="when the email last went out")
    notification_next_attempt_at = TimestampField(
        allow_null=True, help_text="when a pending email is (re)tried next; null otherwise"
    )
    created_at = TimestampField()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["notification_status"] = data["notification_status"] or None
        return data


class NoteCreateSerializer(StrictSerializer):
    content = serializers.CharField(max_length=MAX_NOTE_LENGTH, trim_whitespace=True)
    is_internal = StrictBooleanInput(default=True)
