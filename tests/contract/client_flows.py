"""Gate (b) of the published contract: the seed flows, run by a client that
openapi-python-client generated from /v1/openapi.json with no hand edits.

    PYTHONPATH=<dir holding ordo_client> python tests/contract/client_flows.py \
        --base-url http://127.0.0.1:8000 --seed-file seed.json --schema-file openapi.json

scripts/contract_gates.py generates the client and runs this against a freshly seeded
database (`seed_demo --json`, plus a read-only key). Every response is read through the
generated models (see harness.py); one line is printed per step, and the exit code is 1
if any step failed.
"""

import argparse
import json
import sys
import uuid
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from harness import (
    UNDOCUMENTED,
    FlowFailure,
    Operations,
    Recorder,
    call,
    context_of,
    expect,
    expect_error,
    model,
)

STORE = "/v1/stores/{store_id}/orders"
ORDER = STORE + "/{order_id}"
PAGE_SIZE = 7
STATUSES = [
    "pending",
    "confirmed",
    "processing",
    "shipped",
    "delivered",
    "completed",
    "cancelled",
    "returned",
    "voided",
]
CENT = Decimal("0.01")


def value(member: Any) -> Any:
    """An enum member's value (the document may or may not declare a field as an enum)."""
    if isinstance(member, list):
        return [value(item) for item in member]
    return getattr(member, "value", member)


def money(amount: Any) -> Decimal:
    return Decimal(str(amount)).quantize(CENT, rounding=ROUND_HALF_UP)


class Flows:
    def __init__(self, args: argparse.Namespace) -> None:
        from ordo_client import AuthenticatedClient, Client

        seed = json.loads(Path(args.seed_file).read_text())
        self.store, self.other = seed["stores"][0], seed["stores"][1]
        self.ops = Operations(Path(args.schema_file))
        self.record = Recorder()

        def keyed(key: str, **options: Any) -> Any:
            return AuthenticatedClient(
                base_url=args.base_url,
                token=key,
                prefix="",
                auth_header_name="X-API-Key",
                raise_on_unexpected_status=True,
                **options,
            )

        self.client = keyed(self.store["api_key"])
        self.other_client = keyed(self.other["api_key"])
        self.read_only = keyed(seed["read_only_key"])
        self.bearer = AuthenticatedClient(
            base_url=args.base_url, token=self.store["api_key"], raise_on_unexpected_status=True
        )
        self.anonymous = Client(base_url=args.base_url, raise_on_unexpected_status=True)
        self.bad_key = keyed("wk_live_" + "x" * 40)

        def plain_text(request: Any) -> None:
            request.headers["Content-Type"] = "text/plain"

        # The generated client always sends JSON; this one relabels the body (for 415).
        self.text_client = keyed(
            self.store["api_key"], httpx_args={"event_hooks": {"request": [plain_text]}}
        )
        self.state: dict[str, Any] = {}

    # -- calling operations ---------------------------------------------------------------
    def op(self, method: str, path: str, client: Any = None, **arguments: Any) -> Any:
        if "{store_id}" in path:
            arguments.setdefault("store_id", self.store["id"])
        return call(self.ops.module(method, path), client or self.client, **arguments)

    def body(self, schema: str, data: dict) -> Any:
        return model(schema).from_dict(data)

    def order(self, order_id: str, **arguments: Any) -> tuple[Any, str]:
        response = self.op("get", ORDER, order_id=order_id, **arguments)
        order = expect(response, 200).data
        return order, response.headers.get("etag", "")

    def patch(self, order_id: str, **fields: Any) -> Any:
        if_match = fields.pop("if_match", None)
        extra = {"If-Match": if_match} if if_match else {}
        return self.op(
            "patch",
            ORDER,
            order_id=order_id,
            body=self.body("PatchedOrderUpdateRequest", fields),
            **extra,
        )

    def list_page(self, client: Any = None, **arguments: Any) -> Any:
        return expect(self.op("get", STORE, client=client, **arguments), 200)

    # -- flows ----------------------------------------------------------------------------
    def run(self) -> int:
        record = self.record
        record.flow("list with filters", self.list_with_filters)
        record.flow("paging: page/per_page, limit/offset, cursor, count", self.paging)
        record.flow("one order: get, items, status history", self.reads)
        record.flow("create, ship with tracking, pay, note, refund", self.lifecycle)
        record.flow("void an unpaid order", self.void)
        record.flow("errors read as the documented error model", self.errors)
        for field, seen_in in sorted(UNDOCUMENTED.items()):
            record.fail(f"undocumented field {field}: sent by {seen_in}, not in the document")
        print(f"{record.passed} steps passed, {len(record.failed)} failed")
        return 1 if record.failed else 0

    def list_with_filters(self) -> None:
        ok = self.record.ok
        counts = {
            status: expect(self.op("get", STORE + "/count", status=status), 200).data.count
            for status in STATUSES
        }
        if not all(counts.values()):
            raise FlowFailure(f"the seed lacks some statuses (count per status: {counts})")
        ok("count per status: " + ", ".join(f"{s} {n}" for s, n in counts.items()))
        page = self.list_page()
        orders = page.data
        if not orders or any(o.store_id != self.store["id"] for o in orders):
            raise FlowFailure("the default list is empty or holds another store's orders")
        ok(f"list: {len(orders)} orders of {page.pagination.total}, all of {self.store['id']}")
        self.state["sample"] = orders[0]

        statuses = {"pending", "confirmed"}
        found = self.list_page(status="pending,confirmed", per_page=100).data
        seen = {value(o.status) for o in found}
        if not found or seen - statuses:
            raise FlowFailure(f"status=pending,confirmed gave {sorted(seen)}")
        ok(f"status=pending,confirmed: {len(found)} orders, statuses {sorted(statuses)}")

        paid = self.list_page(payment_status="paid", per_page=100).data
        if not paid or any(value(o.payment_status) != "paid" for o in paid):
            raise FlowFailure("payment_status=paid returned other payment statuses")
        ok(f"payment_status=paid: {len(paid)} orders")

        sample = self.state["sample"]
        hits = self.list_page(search=str(sample.order_number)).data
        if sample.id not in {o.id for o in hits}:
            raise FlowFailure(f"search={sample.order_number} did not find {sample.id}")
        ok(f"search={sample.order_number}: found {sample.id}")

        low, high = 20, 300
        ranged = self.list_page(**{"total[gte]": low, "total[lte]": high, "per_page": 100}).data
        if any(not low <= o.total <= high for o in ranged):
            raise FlowFailure(f"total[gte]={low}&total[lte]={high} returned totals outside")
        ok(f"total[gte]={low}&total[lte]={high}: {len(ranged)} orders in range")

        newest = self.list_page(sort="created_at", order="desc", per_page=50).data
        stamps = [o.created_at for o in newest]
        if stamps != sorted(stamps, reverse=True):
            raise FlowFailure("sort=created_at&order=desc is not newest first")
        ok("sort=created_at&order=desc: newest first")
        seed_004 = self.list_page(sort="-placed_at,order_number", per_page=50).data
        placed = [o.placed_at for o in seed_004 if o.placed_at]
        if placed != sorted(placed, reverse=True):
            raise FlowFailure("sort=-placed_at,order_number is not placed_at descending")
        ok("sort=-placed_at,order_number: placed_at descending")

        everything = ["items", "fulfillments", "status_history", "notes", "refunds"]
        included = self.list_page(include=",".join(everything), per_page=5).data
        for name in everything:
            if any(not isinstance(getattr(o, name, None), list) for o in included):
                raise FlowFailure(f"include={name} did not add a typed `{name}` list")
        ok(f"include={','.join(everything)}: each order carries them all")
        bare = self.list_page(include="", per_page=5).data
        if any(isinstance(getattr(o, "items", None), list) for o in bare):
            raise FlowFailure("include= (empty) still added items")
        ok("include= (empty): nothing added")

    def paging(self) -> None:
        ok = self.record.ok
        count = expect(self.op("get", STORE + "/count"), 200).data.count
        ok(f"count: {count}")
        pending = expect(self.op("get", STORE + "/count", status="pending"), 200).data.count
        listed = self.list_page(status="pending").pagination.total
        if pending != listed:
            raise FlowFailure(f"count?status=pending={pending}, list total={listed}")
        ok(f"count?status=pending = list total = {pending}")

        first = self.list_page(page=1, per_page=PAGE_SIZE)
        pages = first.pagination.total_pages
        ids = [o.id for o in first.data]
        for number in range(2, pages + 1):
            ids += [o.id for o in self.list_page(page=number, per_page=PAGE_SIZE).data]
        self._exactly_once("page/per_page", ids, count)
        ok(f"page/per_page={PAGE_SIZE}: {pages} pages, {len(ids)} orders, each once")
        every = set(ids)

        ids, offset = [], 0
        while True:
            page = self.list_page(limit=PAGE_SIZE, offset=offset)
            ids += [o.id for o in page.data]
            offset += PAGE_SIZE
            if not page.pagination.has_more or offset > count + PAGE_SIZE:
                break
        self._exactly_once("limit/offset", ids, count, every)
        ok(f"limit/offset, limit={PAGE_SIZE}: {len(ids)} orders, each once")

        ids, cursor, requests = [], None, 0
        while True:
            # The first page has no cursor; the generated defaults (page, per_page) go along.
            arguments = {} if cursor is None else {"cursor": cursor}
            page = self.list_page(per_page=PAGE_SIZE, **arguments)
            requests += 1
            ids += [o.id for o in page.data]
            if requests > 1 and page.pagination.total is not None:
                raise FlowFailure("a page reached by cursor counts (total should be null)")
            cursor = page.pagination.next_cursor
            if not page.pagination.has_more or not cursor or requests > count:
                break
        self._exactly_once("cursor", ids, count, every)
        ok(f"cursor: followed next_cursor over {requests} pages, {len(ids)} orders, each once")

    @staticmethod
    def _exactly_once(how: str, ids: list, count: int, every: set | None = None) -> None:
        if len(ids) != len(set(ids)):
            raise FlowFailure(f"{how}: {len(ids) - len(set(ids))} orders seen twice")
        if len(ids) != count or (every is not None and set(ids) != every):
            raise FlowFailure(f"{how}: saw {len(ids)} orders, the store has {count}")

    def reads(self) -> None:
        ok = self.record.ok
        sample = self.state.get("sample") or self.list_page().data[0]
        order, etag = self.order(sample.id)
        if order.id != sample.id or not etag:
            raise FlowFailure(f"get {sample.id}: id {order.id}, ETag {etag!r}")
        ok(
            f"get {order.id}: #{order.order_number} {value(order.status)}, "
            f"total {order.total}, ETag {etag}"
        )
        short = expect(
            call(self.ops.module("get", "/v1/orders/{order_id}"), self.client, order_id=sample.id),
            200,
        ).data
        if short.id != order.id:
            raise FlowFailure("the shorthand route returned another order")
        ok("get by the shorthand /v1/orders/{order_id}: same order")
        bearer = expect(self.op("get", ORDER, client=self.bearer, order_id=sample.id), 200)
        ok(f"Authorization: Bearer: {bearer.data.id}")
        items = expect(self.op("get", ORDER + "/items", order_id=sample.id), 200).data
        if not items:
            raise FlowFailure("items: the order has no line items")
        ok(f"items: {len(items)} line items ({', '.join(i.sku for i in items)})")
        history = expect(self.op("get", ORDER + "/status-history", order_id=sample.id), 200).data
        if not history or history[0].from_status is not None:
            raise FlowFailure("status history does not start with the creation (from_status null)")
        ok(f"status history: {' > '.join(value(h.to_status) for h in history)}")

    def _variants(self, count: int) -> list[dict]:
        usable = [v for v in self.store["variants"] if v["stock"] is None or v["stock"] >= 10]
        if len(usable) < count:
            raise FlowFailure("the seed has too few variants in stock")
        return usable[:count]

    def _create(self, label: str) -> Any:
        first, second = self._variants(2)
        body = self.body(
            "OrderCreateRequest",
            {
                "customer": {
                    "name": "Gates Client",
                    "email": f"gates-{uuid.uuid4().hex[:8]}@example.com",
                },
                "line_items": [
                    {"variant_id": first["id"], "quantity": 2},
                    {"variant_id": second["id"], "quantity": 1},
                ],
                "shipping_address": {
                    "name": "Gates Client",
                    "address": "1 Main St",
                    "city": "Portland",
                    "province": "OR",
                    "postal_code": "97201",
                    "country": "US",
                },
                "shipping_method": "standard",
                "po_number": f"PO-{label}",
            },
        )
        order = expect(self.op("post", STORE, body=body), 201).data
        # Prices from the catalog, US/OR tax on the subtotal, the standard shipping price.
        subtotal = money(first["price"]) * 2 + money(second["price"])
        rate = next(
            Decimal(str(r["rate"]))
            for r in self.store["tax_rates"]
            if (r["country_code"], r["province"]) == ("US", "OR")
        )
        shipping = next(
            money(m["price"]) for m in self.store["shipping_methods"] if m["code"] == "standard"
        )
        tax = money(subtotal * rate)
        got = (money(order.subtotal), money(order.tax_amount), money(order.shipping_cost))
        if got != (subtotal, tax, shipping) or money(order.total) != subtotal + tax + shipping:
            raise FlowFailure(
                f"created: subtotal/tax/shipping/total {[*got, order.total]}, expected "
                f"{[subtotal, tax, shipping, subtotal + tax + shipping]}"
            )
        if value(order.status) != "pending":
            raise FlowFailure(f"created as {value(order.status)}, not pending")
        self.record.ok(
            f"create ({label}): {order.id} #{order.order_number}, subtotal {order.subtotal}, "
            f"tax {order.tax_amount}, shipping {order.shipping_cost}, total {order.total}"
        )
        return order

    def lifecycle(self) -> None:
        ok = self.record.ok
        order = self._create("lifecycle")
        order_id = order.id
        _, etag = self.order(order_id)
        paid = expect(self.patch(order_id, payment_status="paid", if_match=etag), 200).data
        if not paid.is_fully_paid:
            raise FlowFailure(f"mark paid: payment_status {value(paid.payment_status)}")
        ok(f"PATCH payment_status=paid (If-Match current ETag): is_fully_paid={paid.is_fully_paid}")
        self.state["stale_etag"] = (order_id, etag)
        for status in ("confirmed", "processing"):
            changed = expect(self.patch(order_id, status=status, reason="gates"), 200).data
            if value(changed.status) != status:
                raise FlowFailure(f"PATCH status={status}: now {value(changed.status)}")
            ok(f"PATCH status={status}: allowed next {value(changed.allowed_transitions)}")
        error = expect_error(self.patch(order_id, status="cancelled"), 409, "ORDER_PAID")
        ok(f"409 {error.code}: {error.message}")
        self.state["paid_processing"] = order_id
        shipped = expect(
            self.patch(
                order_id, status="shipped", carrier="UPS", tracking_number="1Z999AA10123456784"
            ),
            200,
        ).data
        tracking = [getattr(f, "tracking_number", None) for f in shipped.fulfillments]
        if value(shipped.status) != "shipped" or "1Z999AA10123456784" not in tracking:
            raise FlowFailure(
                f"ship: status {value(shipped.status)}, fulfillments' tracking {tracking}"
            )
        ok(f"PATCH status=shipped with carrier+tracking: fulfillment {shipped.fulfillments[0].id}")
        self.state["shipped"] = order_id

        note = self.body(
            "NoteCreateRequest", {"content": "Packed by the gates.", "is_internal": True}
        )
        created = expect(self.op("post", ORDER + "/notes", order_id=order_id, body=note), 201).data
        notes = expect(self.op("get", ORDER + "/notes", order_id=order_id), 200).data
        if created.id not in {n.id for n in notes}:
            raise FlowFailure("the new note is not in the order's notes")
        ok(f"note: {created.id} (internal), {len(notes)} note(s) listed")

        items = expect(self.op("get", ORDER + "/items", order_id=order_id), 200).data
        lines = [{"line_item_id": items[0].id, "quantity": 1}]
        quote_body = self.body("RefundQuoteInputRequest", {"line_items": lines})
        quote = expect(
            self.op("post", ORDER + "/refunds/calculate", order_id=order_id, body=quote_body), 200
        ).data
        ok(f"refund preview: 1 x {items[0].sku} = {quote.total} (refundable {quote.refundable})")
        refund_body = self.body(
            "RefundCreateRequest", {"line_items": lines, "restock": True, "reason": "damaged"}
        )
        refund = expect(
            self.op("post", ORDER + "/refunds", order_id=order_id, body=refund_body), 201
        ).data
        if money(refund.amount) != money(quote.total) or not refund.inventory_restored:
            raise FlowFailure(
                f"refund {refund.amount} vs preview {quote.total}, "
                f"restored {refund.inventory_restored}"
            )
        refunds = expect(self.op("get", ORDER + "/refunds", order_id=order_id), 200).data
        after, _ = self.order(order_id)
        ok(
            f"refund: {refund.id} {refund.amount} restocked; {len(refunds)} refund(s); "
            f"order {value(after.payment_status)}, refunded {after.refunded_amount}"
        )

    def void(self) -> None:
        order = self._create("void")
        body = self.body("OrderVoidRequest", {"reason": "customer changed their mind"})
        voided = expect(self.op("post", ORDER + "/void", order_id=order.id, body=body), 200).data
        if value(voided.status) != "voided" or not voided.voided_at:
            raise FlowFailure(f"void: status {value(voided.status)}, voided_at {voided.voided_at}")
        self.record.ok(f"void {voided.id}: voided at {voided.voided_at}")
        again = self.op("post", ORDER + "/void", order_id=order.id, body=body)
        if int(again.status_code) not in {409, 422}:
            raise FlowFailure(f"voiding twice: {int(again.status_code)}")
        error = expect(again, int(again.status_code)).error
        self.record.ok(f"void again: {int(again.status_code)} {error.code}")

    def errors(self) -> None:
        record, sample = self.record, self.state.get("sample")
        sample_id = sample.id if sample else self.list_page().data[0].id

        def bad_parameter() -> str:
            error = expect_error(self.op("get", STORE, per_page=0), 400, "VALIDATION_ERROR")
            fields = [d.field for d in error.details]
            if "per_page" not in fields:
                raise FlowFailure(f"details name {fields}, not per_page")
            return f"400 {error.code} on {fields}: {error.message}"

        def no_key() -> str:
            error = expect_error(
                self.op("get", STORE, client=self.anonymous), 401, "MISSING_API_KEY"
            )
            return f"401 {error.code}: {error.message}"

        def wrong_key() -> str:
            error = expect_error(self.op("get", STORE, client=self.bad_key), 401, "INVALID_API_KEY")
            return f"401 {error.code}: {error.message}"

        def scope() -> str:
            note = self.body("NoteCreateRequest", {"content": "no scope", "is_internal": True})
            response = self.op(
                "post", ORDER + "/notes", client=self.read_only, order_id=sample_id, body=note
            )
            error = expect_error(response, 403, "INSUFFICIENT_SCOPE")
            return f"403 {error.code}: {error.message}"

        def foreign() -> str:
            theirs = expect(
                self.op("get", STORE, client=self.other_client, store_id=self.other["id"]), 200
            )
            error = expect_error(
                self.op("get", ORDER, order_id=theirs.data[0].id), 404, "NOT_FOUND"
            )
            response = self.op("get", STORE, store_id=self.other["id"])
            store_error = expect_error(response, 404, "NOT_FOUND")
            return (
                f"404 {error.code} for another store's order and {store_error.code} "
                f"for its store id: {error.message}"
            )

        def missing() -> str:
            missing_id = "ord_" + "0" * 26
            error = expect_error(self.op("get", ORDER, order_id=missing_id), 404, "NOT_FOUND")
            return f"404 {error.code} for {missing_id}: {error.message}"

        def stale() -> str:
            if "stale_etag" not in self.state:
                raise FlowFailure("no stale ETag (the lifecycle flow failed first)")
            order_id, etag = self.state["stale_etag"]
            response = self.patch(order_id, internal_notes="stale", if_match=etag)
            error = expect_error(response, 412, "PRECONDITION_FAILED")
            current = context_of(error).get("current_etag")
            if not current:
                raise FlowFailure("412 context has no current_etag")
            after, _ = self.order(order_id)
            if after.internal_notes == "stale":
                raise FlowFailure("the refused PATCH changed the order")
            return f"412 {error.code}, context.current_etag {current}"

        def media_type() -> str:
            body = self.body(
                "OrderCreateRequest",
                {"line_items": [], "shipping_address": {}, "shipping_method": "standard"},
            )
            response = self.op("post", STORE, client=self.text_client, body=body)
            error = expect_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
            return f"415 {error.code}: {error.message}"

        def transition() -> str:
            order_id = self.state.get("shipped")
            if not order_id:
                raise FlowFailure("no shipped order (the lifecycle flow failed first)")
            response = self.patch(order_id, status="pending")
            error = expect_error(response, 422, "INVALID_TRANSITION")
            context = context_of(error)
            if context.get("from") != "shipped" or context.get("to") != "pending":
                raise FlowFailure(f"context {context}")
            return f"422 {error.code}, allowed {context.get('allowed_transitions')}"

        checks = [
            bad_parameter,
            no_key,
            wrong_key,
            scope,
            foreign,
            missing,
            stale,
            media_type,
            transition,
        ]
        for check in checks:
            record.soft(check.__name__.replace("_", " "), check)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--seed-file", required=True)
    parser.add_argument("--schema-file", required=True)
    return Flows(parser.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())
