"""A plain DRF app over Ordo's tables, written the way the DRF tutorial writes one: a
ModelViewSet with ModelSerializers (nested for items and fulfillments, prefetched), a count
view, and an API key looked up in the database on every request. What Ordo must beat."""

from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.models import Fulfillment, LineItem, Order


class LineItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = LineItem
        fields = "__all__"


class FulfillmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Fulfillment
        fields = "__all__"


class OrderSerializer(serializers.ModelSerializer):
    items = LineItemSerializer(many=True, read_only=True)
    fulfillments = FulfillmentSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = "__all__"


class OrderViewSet(viewsets.ModelViewSet):
    serializer_class = OrderSerializer

    def get_queryset(self):
        return (
            Order.objects.filter(store_id=self.request.auth.store_id)
            .prefetch_related("items", "fulfillments")
            .order_by("-created_at")
        )


class OrderCountView(APIView):
    def get(self, request):
        orders = Order.objects.filter(store_id=request.auth.store_id)
        if status := request.query_params.get("status"):
            orders = orders.filter(status=status)
        return Response({"count": orders.count()})
