"""Refuses a query string that holds a NUL character, before any view sees it.

PostgreSQL text cannot hold a NUL, so a `?country=%00` that reaches a filter, a
search or the autocomplete ends as a database error: a 500. No parameter of the
admin or the API means one, so one check in front of every page answers 400
instead of a guard in each view: a plain page for the admin, the error envelope
for the API.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from orders.api.middleware import is_api_path
from orders.api.parsers import refusal
from orders.exceptions import InvalidParameters


class QueryStringNulGuard:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        names = nul_bearing_parameters(request)
        if not names:
            return self.get_response(request)
        if is_api_path(request.path):
            errors = {name: f"'{name}' contains a NUL character." for name in names}
            return refusal(request, InvalidParameters(errors))
        shown = ", ".join("'" + name.replace("\x00", "\\0") + "'" for name in names)
        return HttpResponseBadRequest(
            f"Bad request: the address holds a NUL character (%00) in {shown}. "
            "Remove it from the address and try again.",
            content_type="text/plain; charset=utf-8",
        )


def nul_bearing_parameters(request: HttpRequest) -> list[str]:
    """The names of the query parameters whose name or any value holds a NUL."""
    return [
        name
        for name, values in request.GET.lists()
        if "\x00" in name or any("\x00" in value for value in values)
    ]
