from django.urls import re_path

from notes.api import views

note_routes = [
    re_path(
        r"^orders/(?P<order_id>[^/]+)/notes/?$", views.OrderNotesView.as_view(), name="order-notes"
    ),
]
