from django.urls import re_path

from notes.api import views

note_routes = [
    re_path(
        r"^orders/(?P<order_id>[^/]+)/notes/?$", views.OrderNotesView.as_view(), name="order-notes"
    ),
    re_path(
        r"^orders/(?P<order_id>[^/]+)/notes/(?P<note_id>[^/]+)/resend/?$",
        views.OrderNoteResendView.as_view(),
        name="order-note-resend",
    ),
]
