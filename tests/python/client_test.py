"""End-to-end test of the orders gRPC API through a Python client.

    python tests/python/client_test.py HOST:PORT

Generates Python stubs from proto/ with grpc_tools.protoc into a temporary
directory, then runs one function per scenario against the server at
HOST:PORT, which must run the payment service beside the orders service (the
server's default):

  order_life_cycle        CreateProduct, CreateOrder (exact totals), GetOrder,
                          GetOrderHistory (paged, tokens bound to their
                          customer), CancelOrder (stock restored)
  not_found_details       NOT_FOUND with ErrorInfo ORDER_NOT_FOUND, decoded from
                          the `grpc-status-details-bin` trailer
  search_the_catalog      SearchProducts over a small catalog of this run's:
                          a misspelt query, name over description, an
                          exclusion, paging, a blank query refused
  update_with_etag        UpdateProduct with update_mask and etag: fields
                          outside the mask are kept, orders do not change
                          the etag, a stale etag is ABORTED and changes
                          nothing, an order placed before keeps its price
  archive_and_unarchive   ArchiveProduct: ordering it is FAILED_PRECONDITION
                          PRODUCT_ARCHIVED and takes nothing, search leaves
                          it out unless asked; UnarchiveProduct: orderable
                          again
  pick_list               ListOrders of orders paid on delivery: one state,
                          oldest first, page by page; ShipOrder from PLACED;
                          bad requests refused
  pay_by_card_and_ship    CreateOrder with `pm_card_visa`, GetOrder until
                          PAID, the history of the saga, PaymentService
                          GetPayment and ListPayments (the ledger), ListOrders
                          of PAID orders, ShipOrder
  refund_a_paid_order     CancelOrder of a PAID order: stock back at once,
                          then the payment REFUNDED in full
  declined_card           `pm_card_chargeDeclined`: CANCELLED with reason
                          PAYMENT_DECLINED and decline code card_declined,
                          stock back, not shippable

Run by tests/api/python_client.rs with the virtualenv of scripts/python-env.
SKUs, customer ids and the search catalog's words are unique per run, and
listings are filtered to this run's customers, so reruns against one
database never clash. Exits 0 when every check passes, 1 with a message
otherwise.
"""

import importlib
import random
import string
import subprocess
import sys
import tempfile
import time
import types
import uuid
from decimal import Decimal
from pathlib import Path

import grpc
import grpc_tools
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

PROTO_ROOT = Path(__file__).resolve().parents[2] / "proto"
# google/protobuf/timestamp.proto and the other well-known types ship with grpc_tools.
WELL_KNOWN_PROTOS = Path(grpc_tools.__file__).parent / "_proto"
TIMEOUT_SECONDS = 10
# How long the payment saga may take to pay, refund or cancel an order.
PAYMENT_WAIT_SECONDS = 20
POLL_SECONDS = 0.05
NANOS_PER_UNIT = Decimal(1_000_000_000)
# The rich error details the server sends, by the name this test uses.
DETAIL_TYPES = {
    "error_info": error_details_pb2.ErrorInfo,
    "resource_info": error_details_pb2.ResourceInfo,
    "bad_request": error_details_pb2.BadRequest,
    "precondition_failure": error_details_pb2.PreconditionFailure,
}


class CheckFailed(Exception):
    """A check of the server's behaviour failed."""


def check(condition, message):
    """Like assert, but never stripped by `python -O`."""
    if not condition:
        raise CheckFailed(message)


def generate_stubs(out_dir):
    """Compiles every proto under proto/ into Python modules in out_dir."""
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    command = [
        sys.executable, "-m", "grpc_tools.protoc",
        f"-I{PROTO_ROOT}", f"-I{WELL_KNOWN_PROTOS}",
        f"--python_out={out_dir}", f"--grpc_python_out={out_dir}",
        *protos,
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    check(result.returncode == 0, f"protoc failed ({result.returncode}):\n{result.stderr}")


def load_stubs(stub_dir):
    """Imports the generated modules (stub_dir must be on sys.path)."""
    names = {
        "money": "orders.v1.money_pb2",
        "address": "orders.v1.address_pb2",
        "catalog": "orders.v1.catalog_pb2",
        "catalog_grpc": "orders.v1.catalog_pb2_grpc",
        "orders": "orders.v1.orders_pb2",
        "orders_grpc": "orders.v1.orders_pb2_grpc",
        "payments": "payments.v1.payments_pb2",
        "payments_grpc": "payments.v1.payments_pb2_grpc",
    }
    sys.path.insert(0, str(stub_dir))
    return types.SimpleNamespace(**{key: importlib.import_module(module) for key, module in names.items()})


def to_decimal(money):
    """The exact amount of an orders.v1.Money (0 when unset)."""
    return Decimal(money.units) + Decimal(money.nanos) / NANOS_PER_UNIT


def show(money):
    """An amount for a message, e.g. "12.5 EUR"."""
    return f"{to_decimal(money)} {money.currency_code}"


def rich_details(error):
    """The rich details of a failed call, decoded from its
    `grpc-status-details-bin` trailer: {"error_info": ErrorInfo, ...}, each
    type at most once."""
    status = rpc_status.from_call(error)
    check(status is not None, f"the error {error.code()} has no grpc-status-details-bin trailer")
    found = {}
    for detail in status.details:
        for key, message_type in DETAIL_TYPES.items():
            if detail.Is(message_type.DESCRIPTOR):
                check(key not in found, f"more than one {message_type.__name__} in the details:\n{status}")
                found[key] = message_type()
                detail.Unpack(found[key])
    return found


def expect_error(what, call, request, code, reason, domain="orders"):
    """Makes a call that must fail with `code` and an ErrorInfo of `reason`
    in `domain`; returns the error's rich details."""
    try:
        call(request, timeout=TIMEOUT_SECONDS)
    except grpc.RpcError as error:
        check(error.code() == code, f"{what} gave {error.code()} ({error.details()}), not {code}")
        details = rich_details(error)
        info = details.get("error_info")
        check(info is not None and (info.reason, info.domain) == (reason, domain),
              f"{what}: expected ErrorInfo {reason} in {domain}, got:\n{info}")
        return details
    raise CheckFailed(f"{what} succeeded; expected {code} {reason}")


def bad_fields(details):
    """The field paths a BadRequest names, in order."""
    check("bad_request" in details, f"no BadRequest in the details: {details}")
    return [violation.field for violation in details["bad_request"].field_violations]


class Client:
    """The generated stubs for one channel, and the calls the scenarios make."""

    def __init__(self, channel, pb):
        self.pb = pb
        self.catalog = pb.catalog_grpc.CatalogServiceStub(channel)
        self.orders = pb.orders_grpc.OrderServiceStub(channel)
        self.payments = pb.payments_grpc.PaymentServiceStub(channel)
        self.run_id = uuid.uuid4()

    def customer(self, name):
        """A customer id of this run's."""
        return f"py-{name}-{self.run_id}"

    def eur(self, units, nanos=0):
        return self.pb.money.Money(currency_code="EUR", units=units, nanos=nanos)

    # The catalog.

    def create_product(self, name, price, stock, sku=None, description=""):
        request = self.pb.catalog.CreateProductRequest(
            sku=sku or f"py-{uuid.uuid4()}", name=name, description=description, price=price, stock=stock)
        product = self.catalog.CreateProduct(request, timeout=TIMEOUT_SECONDS).product
        check(product.product_id and (product.sku, product.name, product.stock) == (request.sku, name, stock)
              and product.price == price and product.etag and not product.HasField("archive_time"),
              f"CreateProduct returned an unexpected product:\n{product}")
        return product

    def get_product(self, product):
        request = self.pb.catalog.GetProductRequest(product_id=product.product_id)
        return self.catalog.GetProduct(request, timeout=TIMEOUT_SECONDS).product

    def stock_of(self, product):
        return self.get_product(product).stock

    def update_request(self, product, paths, request_id=""):
        """An UpdateProductRequest of `product` with a mask of `paths`."""
        return self.pb.catalog.UpdateProductRequest(
            product=product, update_mask=field_mask_pb2.FieldMask(paths=paths), request_id=request_id)

    def archive(self, product, etag="", request_id=""):
        request = self.pb.catalog.ArchiveProductRequest(
            product_id=product.product_id, etag=etag, request_id=request_id)
        return self.catalog.ArchiveProduct(request, timeout=TIMEOUT_SECONDS).product

    def unarchive(self, product, etag=""):
        request = self.pb.catalog.UnarchiveProductRequest(product_id=product.product_id, etag=etag)
        return self.catalog.UnarchiveProduct(request, timeout=TIMEOUT_SECONDS).product

    def search(self, query, page_size=0, page_token="", show_archived=False):
        request = self.pb.catalog.SearchProductsRequest(
            query=query, page_size=page_size, page_token=page_token, show_archived=show_archived)
        return self.catalog.SearchProducts(request, timeout=TIMEOUT_SECONDS)

    # Orders.

    def order_request(self, customer_id, lines, payment_method=""):
        """A CreateOrderRequest of (product, quantity) lines."""
        pb = self.pb.orders
        return pb.CreateOrderRequest(
            customer_id=customer_id,
            request_id=str(uuid.uuid4()),
            line_items=[pb.CreateOrderRequest.LineItem(product_id=p.product_id, quantity=q) for p, q in lines],
            shipping_address=self.pb.address.Address(
                recipient="Ada Lovelace", line1="12 St James's Square", city="London",
                postal_code="SW1Y 4JH", country_code="GB"),
            payment_method=payment_method,
        )

    def create_order(self, customer_id, lines, payment_method=""):
        """Places an order of (product, quantity) lines; checks it is PLACED,
        with its payment PENDING when paid by card and none otherwise."""
        request = self.order_request(customer_id, lines, payment_method)
        order = self.orders.CreateOrder(request, timeout=TIMEOUT_SECONDS).order
        check(order.state == self.pb.orders.ORDER_STATE_PLACED, f"a new order is not PLACED:\n{order}")
        check(order.customer_id == customer_id, f"wrong customer on the new order:\n{order}")
        if payment_method:
            check((order.payment.payment_method, order.payment.status, order.payment.decline_code)
                  == (payment_method, self.pb.orders.PAYMENT_STATUS_PENDING, ""),
                  f"a new order paid by card has not its payment PENDING:\n{order}")
        else:
            check(not order.HasField("payment"), f"an order paid on delivery has a payment:\n{order}")
        return order

    def get_order(self, order_id):
        """GetOrder: the order and its state history."""
        request = self.pb.orders.GetOrderRequest(order_id=order_id)
        return self.orders.GetOrder(request, timeout=TIMEOUT_SECONDS)

    def cancel_order(self, order, reason):
        request = self.pb.orders.CancelOrderRequest(
            order_id=order.order_id, customer_id=order.customer_id, reason=reason)
        return self.orders.CancelOrder(request, timeout=TIMEOUT_SECONDS).order

    def ship_order(self, order):
        request = self.pb.orders.ShipOrderRequest(order_id=order.order_id)
        return self.orders.ShipOrder(request, timeout=TIMEOUT_SECONDS).order

    def history_page(self, customer_id, page_size, page_token=""):
        request = self.pb.orders.GetOrderHistoryRequest(
            customer_id=customer_id, page_size=page_size, page_token=page_token)
        return self.orders.GetOrderHistory(request, timeout=TIMEOUT_SECONDS)

    def list_orders(self, state, page_size=0, page_token=""):
        request = self.pb.orders.ListOrdersRequest(state=state, page_size=page_size, page_token=page_token)
        return self.orders.ListOrders(request, timeout=TIMEOUT_SECONDS)

    def listed(self, state, customer_ids, page_size=100):
        """Walks every page of ListOrders(state) and returns the orders of
        `customer_ids` on them, in the order listed. Checks every order
        listed is in `state` and no page is longer than asked."""
        orders, token = [], ""
        for _ in range(10_000):
            page = self.list_orders(state, page_size, token)
            check(len(page.orders) <= page_size, f"a page of {len(page.orders)} orders for page_size {page_size}")
            check(all(o.state == state for o in page.orders),
                  f"ListOrders({self.state_name(state)}) listed an order in another state:\n{page}")
            orders += [o for o in page.orders if o.customer_id in customer_ids]
            token = page.next_page_token
            if not token:
                return orders
        raise CheckFailed(f"ListOrders({self.state_name(state)}) did not end within 10,000 pages")

    def wait_for(self, order, state, payment_status):
        """Polls GetOrder until the order is in `state` with its payment in
        `payment_status`, for at most PAYMENT_WAIT_SECONDS; returns GetOrder's
        answer. Fails at once if the order ends in another final state."""
        deadline = time.monotonic() + PAYMENT_WAIT_SECONDS
        while True:
            response = self.get_order(order.order_id)
            now = response.order
            if (now.state, now.payment.status) == (state, payment_status):
                return response
            check(now.state in (self.pb.orders.ORDER_STATE_PLACED, state),
                  f"waiting for {self.state_name(state)}, order {order.order_id} became "
                  f"{self.state_name(now.state)}:\n{now}")
            check(time.monotonic() < deadline,
                  f"order {order.order_id} is not {self.state_name(state)} with its payment "
                  f"{self.payment_status_name(payment_status)} within {PAYMENT_WAIT_SECONDS} s: it is "
                  f"{self.state_name(now.state)} with {self.payment_status_name(now.payment.status)}")
            time.sleep(POLL_SECONDS)

    def state_name(self, state):
        return self.pb.orders.OrderState.Name(state)

    def payment_status_name(self, status):
        return self.pb.orders.PaymentStatus.Name(status)

    def steps(self, response):
        """A GetOrder state history as (from, to, reason, actor subject, actor role)."""
        name = self.state_name
        return [(name(c.from_state), name(c.to_state), c.reason, c.actor.subject, c.actor.role)
                for c in response.state_history]

    # Payments.

    def payments_of(self, order):
        request = self.pb.payments.ListPaymentsRequest(order_id=order.order_id)
        return list(self.payments.ListPayments(request, timeout=TIMEOUT_SECONDS).payments)

    def get_payment(self, payment_id):
        request = self.pb.payments.GetPaymentRequest(payment_id=payment_id)
        return self.payments.GetPayment(request, timeout=TIMEOUT_SECONDS).payment

    def ledger(self, payment):
        """A payment's movements as (sequence, kind, amount, failure code)."""
        kind = self.pb.payments.MovementKind.Name
        return [(m.sequence, kind(m.kind), show(m.amount), m.failure_code) for m in payment.movements]


# What the server records as the actor of changes made without a token
# (the creation, a cancellation) and of the saga's own steps.
CALLER = ("anonymous", "none")
SAGA = ("orders", "system")


def check_order_lines_and_total(order, lines):
    """Each line copies its product and price; the totals are exact."""
    check(len(order.line_items) == len(lines), f"expected {len(lines)} lines:\n{order}")
    expected_total = Decimal(0)
    for item, (product, quantity) in zip(order.line_items, lines):
        check((item.product_id, item.sku, item.name, item.quantity)
              == (product.product_id, product.sku, product.name, quantity),
              f"line does not match its product {product.sku} x {quantity}:\n{item}")
        check(item.unit_price == product.price, f"line price {show(item.unit_price)} != {show(product.price)}")
        line_total = to_decimal(product.price) * quantity
        check(to_decimal(item.line_total) == line_total,
              f"line total {to_decimal(item.line_total)} != {line_total} for {product.sku}")
        expected_total += line_total
    check(order.total.currency_code == "EUR" and to_decimal(order.total) == expected_total,
          f"order total {show(order.total)} != {expected_total} EUR")


def check_history(client, customer_id, newest, older):
    """GetOrderHistory lists `newest` first, then `older`, one per page."""
    first = client.history_page(customer_id, page_size=1)
    check([o.order_id for o in first.orders] == [newest.order_id],
          f"the first history page is not just the newest order:\n{first}")
    check(first.orders[0] == newest, f"the history's order differs from CreateOrder's:\n{first.orders[0]}")
    check(first.next_page_token, "a one-order page of a two-order history has no next_page_token")

    # Follow the tokens to the end; an empty token is the only end signal.
    seen, token = [o.order_id for o in first.orders], first.next_page_token
    for _ in range(5):
        if not token:
            break
        page = client.history_page(customer_id, page_size=1, page_token=token)
        seen += [o.order_id for o in page.orders]
        token = page.next_page_token
    check(not token, "paging did not end within 5 pages")
    check(seen == [newest.order_id, older.order_id], f"paged history {seen} != newest, older")

    # A token is bound to its customer: another customer cannot use it.
    other = client.pb.orders.GetOrderHistoryRequest(
        customer_id=client.customer("other"), page_size=1, page_token=first.next_page_token)
    details = expect_error("GetOrderHistory with another customer's page token", client.orders.GetOrderHistory,
                           other, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELDS")
    check(bad_fields(details) == ["page_token"], f"expected a BadRequest on page_token: {details}")


def order_life_cycle(client):
    """CreateOrder, GetOrder, GetOrderHistory and CancelOrder of one customer."""
    ada = client.customer("ada")
    mug = client.create_product("Mug", client.eur(19, 990_000_000), stock=10)
    # 0.10 EUR: seven of them are exactly 0.70, which floating point would miss.
    pin = client.create_product("Pin", client.eur(0, 100_000_000), stock=100)

    older = client.create_order(ada, [(pin, 1)])
    lines = [(mug, 3), (pin, 7)]
    order = client.create_order(ada, lines)
    check_order_lines_and_total(order, lines)
    check(to_decimal(order.total) == Decimal("60.67"), f"3 x 19.99 + 7 x 0.10 is not {show(order.total)}")
    check((client.stock_of(mug), client.stock_of(pin)) == (7, 92), "CreateOrder did not take the stock")

    fetched = client.get_order(order.order_id)
    check(fetched.order == order, f"GetOrder differs from CreateOrder:\n{fetched.order}\nvs\n{order}")
    check(client.steps(fetched) == [("ORDER_STATE_UNSPECIFIED", "ORDER_STATE_PLACED", "", *CALLER)],
          f"unexpected history of a new order: {client.steps(fetched)}")
    check_history(client, ada, newest=order, older=older)

    cancelled = client.cancel_order(order, "changed my mind")
    check(cancelled.state == client.pb.orders.ORDER_STATE_CANCELLED, f"not CANCELLED:\n{cancelled}")
    check(cancelled.cancel_reason == "changed my mind" and cancelled.HasField("cancel_time"),
          f"the cancellation is not recorded:\n{cancelled}")
    check((client.stock_of(mug), client.stock_of(pin)) == (10, 99), "CancelOrder did not put the stock back")
    return f"order {order.order_id}: placed at {show(order.total)}, paged in the history, cancelled"


def not_found_details(client):
    """GetOrder of an unknown id: NOT_FOUND with ErrorInfo ORDER_NOT_FOUND."""
    unknown = str(uuid.uuid4())
    details = expect_error("GetOrder of an unknown id", client.orders.GetOrder,
                           client.pb.orders.GetOrderRequest(order_id=unknown),
                           grpc.StatusCode.NOT_FOUND, "ORDER_NOT_FOUND")
    info = details.get("resource_info")
    check(info is not None and (info.resource_type, info.resource_name) == ("orders.v1.Order", unknown),
          f"no ResourceInfo naming the order: {details}")
    return "NOT_FOUND carries ErrorInfo ORDER_NOT_FOUND and ResourceInfo"


def search_the_catalog(client):
    """SearchProducts over four products whose SKUs hold a word of this run's
    (`tag`): every query has the tag, so only they can be found."""
    tag = "".join(random.choice(string.ascii_lowercase) for _ in range(12))
    rows = [
        ("ESP-MACH", "Espresso Machine", "15-bar pump and steam wand for frothing milk."),
        ("ESP-CUPS", "Espresso Cups", "Porcelain, 60 ml each."),
        ("MILK-FROTH", "Milk Frother", "Froths milk for cappuccino and latte."),
        ("COF-BEANS", "Coffee Beans", "Medium roast espresso blend, 1 kg."),
    ]
    catalog = {}
    for sku, name, description in rows:
        catalog[sku] = client.create_product(name, client.eur(9), 5, sku=f"{sku}-{tag}", description=description)
    by_id = {product.product_id: sku for sku, product in catalog.items()}

    def found(query, **kwargs):
        """The short SKUs found, in order, with their scores."""
        response = client.search(query, **kwargs)
        check(not response.next_page_token, f"{query!r}: one page of results has a next_page_token")
        for result in response.results:
            check(result.product == client.get_product(result.product),
                  f"{query!r}: the result differs from GetProduct:\n{result.product}")
        return [by_id.get(r.product.product_id, r.product.sku) for r in response.results], \
            [r.score for r in response.results]

    def ties(*skus):
        """Products of equal score come in descending product id order."""
        return sorted(skus, key=lambda sku: catalog[sku].product_id, reverse=True)

    # Misspelt twice: "expresso" is read as "espresso", "machne" as the
    # catalog word closest to it; only the machine has both.
    skus, _ = found(f"expresso machne {tag}")
    check(skus == ["ESP-MACH"], f"'expresso machne' found {skus}, not just the Espresso Machine")

    # Name over description: two names (a tie), then a description.
    skus, scores = found(f"espresso {tag}")
    check(skus == ties("ESP-MACH", "ESP-CUPS") + ["COF-BEANS"], f"'espresso' found {skus}")
    check(scores[0] == scores[1] > scores[2], f"'espresso' scores {scores}: not a tie, then lower")

    # "milk" is in the frother's name and the machine's description; the
    # frother is excluded.
    skus, _ = found(f"milk -frother {tag}")
    check(skus == ["ESP-MACH"], f"'milk -frother' found {skus}")
    skus, _ = found(f"milk {tag}")
    check(skus == ["MILK-FROTH", "ESP-MACH"], f"'milk' found {skus}, not name before description")

    # The tag alone finds all four by SKU; page by page, each once, in the
    # order of one big page.
    everything, scores = found(tag, page_size=100)
    check(sorted(everything) == sorted(catalog), f"the tag found {everything}")
    check(everything == ties(*everything) and len(set(scores)) == 1,
          f"four SKU matches are not a tie in descending id order: {everything} {scores}")
    paged, token, pages = [], "", 0
    while True:
        page = client.search(tag, page_size=3, page_token=token)
        pages += 1
        paged += [by_id[r.product.product_id] for r in page.results]
        token = page.next_page_token
        if not token or pages == 5:
            break
    check(not token and pages == 2 and paged == everything,
          f"three a page: {paged} in {pages} pages, not {everything} in 2")

    # A page token serves only its own query.
    first = client.search(tag, page_size=1)
    request = client.pb.catalog.SearchProductsRequest(query=f"espresso {tag}", page_token=first.next_page_token)
    details = expect_error("SearchProducts with another query's page token", client.catalog.SearchProducts,
                           request, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELDS")
    check(bad_fields(details) == ["page_token"], f"expected a BadRequest on page_token: {details}")
    # A blank query is refused.
    details = expect_error("SearchProducts of a blank query", client.catalog.SearchProducts,
                           client.pb.catalog.SearchProductsRequest(query="  \t "),
                           grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELDS")
    check(bad_fields(details) == ["query"], f"expected a BadRequest on query: {details}")
    return f"search (tag {tag}): misspelt, ranked, excluded and paged results exact"


def update_with_etag(client):
    """UpdateProduct with a field mask and an etag, while orders come in."""
    bob = client.customer("bob")
    tea = client.create_product("Green tea", client.eur(4), stock=20, description="Sencha, 100 g.")
    before = client.create_order(bob, [(tea, 3)])
    check_order_lines_and_total(before, [(tea, 3)])
    read = client.get_product(tea)
    check(read.stock == 17 and read.etag == tea.etag, f"an order changed the etag, or took no stock:\n{read}")

    # Everything is set, but only the price is in the mask.
    change = client.pb.catalog.Product(
        product_id=tea.product_id, etag=read.etag, sku="NOT-THIS", name="Not this name",
        description="Not this either", price=client.eur(5, 500_000_000), stock=999)
    request = client.update_request(change, ["price"], request_id=str(uuid.uuid4()))
    updated = client.catalog.UpdateProduct(request, timeout=TIMEOUT_SECONDS).product
    check(updated.price == client.eur(5, 500_000_000), f"the price did not change:\n{updated}")
    check((updated.sku, updated.name, updated.description, updated.stock)
          == (tea.sku, "Green tea", "Sencha, 100 g.", 17), f"a field outside the mask changed:\n{updated}")
    check(updated.etag and updated.etag != read.etag, f"the change kept the etag {read.etag!r}")
    check(client.get_product(tea) == updated, "GetProduct differs from UpdateProduct's answer")

    # The etag read before that change is stale: ABORTED, nothing changed.
    stale = client.update_request(
        client.pb.catalog.Product(product_id=tea.product_id, etag=read.etag, name="Sencha"), ["name"])
    details = expect_error("UpdateProduct with a stale etag", client.catalog.UpdateProduct, stale,
                           grpc.StatusCode.ABORTED, "ETAG_MISMATCH")
    info = details.get("resource_info")
    check(info is not None and (info.resource_type, info.resource_name) == ("orders.v1.Product", tea.product_id),
          f"no ResourceInfo naming the product: {details}")
    check(client.get_product(tea) == updated, "a refused UpdateProduct changed the product")
    # A field that cannot change is refused.
    sku_change = client.update_request(
        client.pb.catalog.Product(product_id=tea.product_id, sku="NEW-SKU"), ["sku"])
    details = expect_error("UpdateProduct of the SKU", client.catalog.UpdateProduct, sku_change,
                           grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELDS")
    check(bad_fields(details) == ["update_mask"], f"expected a BadRequest on update_mask: {details}")
    check(client.get_product(tea) == updated, "a refused UpdateProduct changed the product")

    # The order placed before keeps its price; the next one pays the new one.
    check(client.get_order(before.order_id).order == before, "an order changed with its product's price")
    after = client.create_order(bob, [(updated, 2)])
    check_order_lines_and_total(after, [(updated, 2)])
    check((to_decimal(before.total), to_decimal(after.total)) == (Decimal(12), Decimal(11)),
          f"totals {show(before.total)} and {show(after.total)}, not 12 and 11 EUR")
    check(client.stock_of(tea) == 15, "the second order did not take its stock")
    return "UpdateProduct: masked, etag checked (stale: ABORTED), old order kept 4 EUR, new one paid 5.50"


def archive_and_unarchive(client):
    """ArchiveProduct takes a product out of the shop; UnarchiveProduct brings it back."""
    cy = client.customer("cy")
    tag = "".join(random.choice(string.ascii_lowercase) for _ in range(12))
    kettle = client.create_product(f"Kettle {tag}", client.eur(30), stock=8)
    other = client.create_product(f"Teapot {tag}", client.eur(20), stock=8)
    earlier = client.create_order(cy, [(kettle, 1)])

    archived = client.archive(kettle, etag=kettle.etag, request_id=str(uuid.uuid4()))
    check(archived.HasField("archive_time") and archived.etag != kettle.etag and archived.stock == 7,
          f"not archived, or the etag or stock is wrong:\n{archived}")
    check(client.get_product(kettle) == archived, "GetProduct does not show the archived product")
    # Archiving again changes nothing; with the etag read before, it is stale.
    again = client.archive(kettle)
    check(again == archived, f"archiving an archived product changed it:\n{again}")
    expect_error("ArchiveProduct with a stale etag", client.catalog.ArchiveProduct,
                 client.pb.catalog.ArchiveProductRequest(product_id=kettle.product_id, etag=kettle.etag),
                 grpc.StatusCode.ABORTED, "ETAG_MISMATCH")

    # Ordering it (even beside an orderable product) takes nothing.
    request = client.order_request(cy, [(other, 1), (kettle, 1)])
    details = expect_error("CreateOrder of an archived product", client.orders.CreateOrder, request,
                           grpc.StatusCode.FAILED_PRECONDITION, "PRODUCT_ARCHIVED")
    violations = [(v.type, v.subject) for v in details["precondition_failure"].violations] \
        if "precondition_failure" in details else None
    check(violations == [("PRODUCT_ARCHIVED", f"products/{kettle.product_id}")],
          f"the PreconditionFailure does not name just the archived product: {violations}")
    check((client.stock_of(kettle), client.stock_of(other)) == (7, 8), "a refused order took stock")
    check(client.get_order(earlier.order_id).order == earlier, "archiving changed an order placed before")

    # Search leaves it out unless asked.
    found = [r.product.product_id for r in client.search(tag).results]
    check(found == [other.product_id], f"search of the tag found {found}, not only the teapot")
    found = sorted(r.product.product_id for r in client.search(tag, show_archived=True).results)
    check(found == sorted([kettle.product_id, other.product_id]), f"show_archived found {found}")

    back = client.unarchive(kettle, etag=archived.etag)
    check(not back.HasField("archive_time") and back.etag not in (kettle.etag, archived.etag),
          f"not unarchived, or the etag did not change:\n{back}")
    order = client.create_order(cy, [(other, 1), (back, 2)])
    check_order_lines_and_total(order, [(other, 1), (back, 2)])
    check((client.stock_of(kettle), client.stock_of(other)) == (5, 7), "the order did not take its stock")
    found = sorted(r.product.product_id for r in client.search(tag).results)
    check(found == sorted([kettle.product_id, other.product_id]), f"unarchived, search found {found}")
    return "archived: refused with PRODUCT_ARCHIVED, no stock taken, not found; unarchived: ordered"


def pick_list(client):
    """ListOrders of orders paid on delivery, and ShipOrder from PLACED."""
    pb = client.pb.orders
    dee = client.customer("dee")
    jug = client.create_product("Milk jug", client.eur(7, 250_000_000), stock=10)
    first, second, third = (client.create_order(dee, [(jug, n)]) for n in (1, 2, 3))
    client.cancel_order(second, "")

    # One order a page, so that every token is followed.
    placed = client.listed(pb.ORDER_STATE_PLACED, {dee}, page_size=1)
    check([o.order_id for o in placed] == [first.order_id, third.order_id],
          f"ListOrders(PLACED) listed {[o.order_id for o in placed]}, not the first and the third")
    check(placed == [first, third], "ListOrders shows the orders otherwise than CreateOrder")
    cancelled = client.listed(pb.ORDER_STATE_CANCELLED, {dee})
    check([o.order_id for o in cancelled] == [second.order_id], "ListOrders(CANCELLED) is not the second order")

    # Paid on delivery: it ships from PLACED, and moves to the SHIPPED list.
    shipped = client.ship_order(third)
    check(shipped.state == pb.ORDER_STATE_SHIPPED and shipped.HasField("ship_time")
          and not shipped.HasField("payment"), f"not shipped from PLACED:\n{shipped}")
    check(client.ship_order(third) == shipped, "shipping a shipped order changed it")
    check([o.order_id for o in client.listed(pb.ORDER_STATE_PLACED, {dee})] == [first.order_id],
          "the shipped order is still on the PLACED list")
    check(client.listed(pb.ORDER_STATE_SHIPPED, {dee}) == [shipped],
          "the shipped order is not on the SHIPPED list")
    check(client.stock_of(jug) == 6, "the stock is not 10 - 1 - 3")

    # A state must be given, and a token serves only its own state.
    details = expect_error("ListOrders without a state", client.orders.ListOrders, pb.ListOrdersRequest(),
                           grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELDS")
    check(bad_fields(details) == ["state"], f"expected a BadRequest on state: {details}")
    token = client.list_orders(pb.ORDER_STATE_PLACED, page_size=1).next_page_token
    check(token, "a one-order page of PLACED orders has no next_page_token")
    details = expect_error("ListOrders(SHIPPED) with a token of PLACED", client.orders.ListOrders,
                           pb.ListOrdersRequest(state=pb.ORDER_STATE_SHIPPED, page_token=token),
                           grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELDS")
    check(bad_fields(details) == ["page_token"], f"expected a BadRequest on page_token: {details}")
    return "ListOrders: PLACED, CANCELLED and SHIPPED lists exact, page by page; bad requests refused"


def pay_by_card_and_ship(client):
    """A card that works: the order is PAID by the saga, listed, shipped."""
    pb = client.pb.orders
    eve = client.customer("eve")
    grinder = client.create_product("Coffee grinder", client.eur(12, 500_000_000), stock=5)
    placed = client.create_order(eve, [(grinder, 2)], payment_method="pm_card_visa")
    check(to_decimal(placed.total) == 25, f"2 x 12.50 is not {show(placed.total)}")
    check(client.stock_of(grinder) == 3, "a card order did not take its stock when placed")

    paid = client.wait_for(placed, pb.ORDER_STATE_PAID, pb.PAYMENT_STATUS_CAPTURED)
    payment = paid.order.payment
    check(payment.payment_id and payment.payment_method == "pm_card_visa" and not payment.decline_code
          and payment.HasField("update_time"), f"unexpected payment of a PAID order:\n{payment}")
    check(client.steps(paid) == [
        ("ORDER_STATE_UNSPECIFIED", "ORDER_STATE_PLACED", "", *CALLER),
        ("ORDER_STATE_PLACED", "ORDER_STATE_PLACED", "PAYMENT_AUTHORIZED", *SAGA),
        ("ORDER_STATE_PLACED", "ORDER_STATE_PAID", "", *SAGA),
    ], f"unexpected history of a paid order: {client.steps(paid)}")

    # The payment service's view: one payment, authorized then captured.
    charged = client.get_payment(payment.payment_id)
    check((charged.order_id, charged.customer_id, charged.payment_method, charged.decline_code)
          == (placed.order_id, eve, "pm_card_visa", ""), f"the payment is not the order's:\n{charged}")
    check(client.pb.payments.PaymentState.Name(charged.state) == "PAYMENT_STATE_CAPTURED",
          f"the payment is not CAPTURED:\n{charged}")
    check([show(m) for m in (charged.amount, charged.amount_captured)] == ["25 EUR", "25 EUR"]
          and to_decimal(charged.amount_refunded) == 0 and to_decimal(charged.amount_authorized) == 0,
          f"the payment's amounts are not 25 EUR asked and captured, nothing held or refunded:\n{charged}")
    check(client.ledger(charged) == [(1, "MOVEMENT_KIND_AUTHORIZED", "25 EUR", ""),
                                     (2, "MOVEMENT_KIND_CAPTURED", "25 EUR", "")],
          f"unexpected ledger: {client.ledger(charged)}")
    check(client.payments_of(placed) == [charged], "ListPayments is not just GetPayment's payment")
    expect_error("GetPayment of an unknown id", client.payments.GetPayment,
                 client.pb.payments.GetPaymentRequest(payment_id=str(uuid.uuid4())),
                 grpc.StatusCode.NOT_FOUND, "PAYMENT_NOT_FOUND", domain="payments")

    # The warehouse's pick list, then shipping.
    check(client.listed(pb.ORDER_STATE_PAID, {eve}) == [paid.order], "the paid order is not on the PAID list")
    check(client.listed(pb.ORDER_STATE_PLACED, {eve}) == [], "the paid order is still on the PLACED list")
    shipped = client.ship_order(placed)
    check(shipped.state == pb.ORDER_STATE_SHIPPED and shipped.HasField("ship_time")
          and shipped.payment == payment, f"not SHIPPED with its payment kept:\n{shipped}")
    check(client.listed(pb.ORDER_STATE_PAID, {eve}) == [], "the shipped order is still on the PAID list")
    check(client.listed(pb.ORDER_STATE_SHIPPED, {eve}) == [shipped], "the order is not on the SHIPPED list")
    check(client.stock_of(grinder) == 3, "shipping changed the stock")
    expect_error("CancelOrder of a shipped order", client.orders.CancelOrder,
                 pb.CancelOrderRequest(order_id=placed.order_id, customer_id=eve),
                 grpc.StatusCode.FAILED_PRECONDITION, "ORDER_NOT_CANCELLABLE")
    return f"order {placed.order_id}: paid by card (payment {payment.payment_id}), listed, shipped"


def refund_a_paid_order(client):
    """Cancelling a PAID order: the stock comes back, then the money."""
    pb = client.pb.orders
    fay = client.customer("fay")
    scale = client.create_product("Coffee scale", client.eur(19, 990_000_000), stock=4)
    placed = client.create_order(fay, [(scale, 1)], payment_method="pm_card_mastercard")
    paid = client.wait_for(placed, pb.ORDER_STATE_PAID, pb.PAYMENT_STATUS_CAPTURED)

    cancelled = client.cancel_order(placed, "found it cheaper")
    check((cancelled.state, cancelled.cancel_reason) == (pb.ORDER_STATE_CANCELLED, "found it cheaper")
          and cancelled.HasField("cancel_time"), f"not cancelled:\n{cancelled}")
    # The refund is the saga's next step, after CancelOrder has answered.
    check(cancelled.payment.status == pb.PAYMENT_STATUS_CAPTURED,
          f"CancelOrder's answer shows the payment {client.payment_status_name(cancelled.payment.status)}")
    check(client.stock_of(scale) == 4, "cancelling a paid order did not put its stock back")

    refunded = client.wait_for(placed, pb.ORDER_STATE_CANCELLED, pb.PAYMENT_STATUS_REFUNDED)
    check(refunded.order.payment.payment_id == paid.order.payment.payment_id, "the refund is of another payment")
    check(client.steps(refunded)[2:] == [
        ("ORDER_STATE_PLACED", "ORDER_STATE_PAID", "", *SAGA),
        ("ORDER_STATE_PAID", "ORDER_STATE_CANCELLED", "found it cheaper", *CALLER),
        ("ORDER_STATE_CANCELLED", "ORDER_STATE_CANCELLED", "PAYMENT_REFUNDED", *SAGA),
    ], f"unexpected history of a refunded order: {client.steps(refunded)}")
    payments = client.payments_of(placed)
    check(len(payments) == 1, f"{len(payments)} payments for one order")
    check(client.pb.payments.PaymentState.Name(payments[0].state) == "PAYMENT_STATE_REFUNDED"
          and show(payments[0].amount_refunded) == "19.99 EUR", f"not refunded in full:\n{payments[0]}")
    check(client.ledger(payments[0]) == [(1, "MOVEMENT_KIND_AUTHORIZED", "19.99 EUR", ""),
                                         (2, "MOVEMENT_KIND_CAPTURED", "19.99 EUR", ""),
                                         (3, "MOVEMENT_KIND_REFUNDED", "19.99 EUR", "")],
          f"unexpected ledger: {client.ledger(payments[0])}")
    check(client.get_payment(payments[0].payment_id) == payments[0], "GetPayment differs from ListPayments")
    check(client.cancel_order(placed, "again") == refunded.order, "cancelling a cancelled order changed it")
    return f"order {placed.order_id}: paid, cancelled, refunded 19.99 EUR"


def declined_card(client):
    """A declined card: the saga cancels the order and puts its stock back."""
    pb = client.pb.orders
    gil = client.customer("gil")
    tamper = client.create_product("Coffee tamper", client.eur(12, 500_000_000), stock=6)
    placed = client.create_order(gil, [(tamper, 3)], payment_method="pm_card_chargeDeclined")
    check(client.stock_of(tamper) == 3, "a card order did not take its stock when placed")

    declined = client.wait_for(placed, pb.ORDER_STATE_CANCELLED, pb.PAYMENT_STATUS_DECLINED)
    order = declined.order
    check((order.cancel_reason, order.payment.decline_code) == ("PAYMENT_DECLINED", "card_declined")
          and order.HasField("cancel_time"), f"not cancelled for its declined card:\n{order}")
    check(client.steps(declined) == [
        ("ORDER_STATE_UNSPECIFIED", "ORDER_STATE_PLACED", "", *CALLER),
        ("ORDER_STATE_PLACED", "ORDER_STATE_CANCELLED", "PAYMENT_DECLINED", *SAGA),
    ], f"unexpected history of a declined order: {client.steps(declined)}")
    check(client.stock_of(tamper) == 6, "the declined order's stock is not back")

    payments = client.payments_of(placed)
    check(len(payments) == 1, f"{len(payments)} payments for one order")
    check(client.pb.payments.PaymentState.Name(payments[0].state) == "PAYMENT_STATE_DECLINED"
          and payments[0].decline_code == "card_declined" and payments[0].payment_id == order.payment.payment_id
          and to_decimal(payments[0].amount_captured) == 0, f"unexpected declined payment:\n{payments[0]}")
    check(client.ledger(payments[0]) == [(1, "MOVEMENT_KIND_FAILED", "37.5 EUR", "card_declined")],
          f"unexpected ledger: {client.ledger(payments[0])}")

    expect_error("ShipOrder of a declined order", client.orders.ShipOrder,
                 pb.ShipOrderRequest(order_id=placed.order_id),
                 grpc.StatusCode.FAILED_PRECONDITION, "ORDER_NOT_SHIPPABLE")
    check(client.cancel_order(placed, "never mind") == order, "cancelling a cancelled order changed it")
    check(client.stock_of(tamper) == 6, "cancelling a cancelled order put stock back twice")
    return f"order {placed.order_id}: card declined, cancelled, stock back"


SCENARIOS = [
    order_life_cycle,
    not_found_details,
    search_the_catalog,
    update_with_etag,
    archive_and_unarchive,
    pick_list,
    pay_by_card_and_ship,
    refund_a_paid_order,
    declined_card,
]


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} HOST:PORT")
    address = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="orders-stubs-") as stub_dir:
        scenario = "generating the stubs"
        try:
            generate_stubs(stub_dir)
            stubs = load_stubs(stub_dir)
            with grpc.insecure_channel(address) as channel:
                grpc.channel_ready_future(channel).result(timeout=TIMEOUT_SECONDS)
                client = Client(channel, stubs)
                for run in SCENARIOS:
                    scenario, started = run.__name__, time.monotonic()
                    summary = run(client)
                    print(f"{scenario} ({time.monotonic() - started:.2f} s): {summary}", flush=True)
        except CheckFailed as failure:
            sys.exit(f"FAILED in {scenario}: {failure}")
        except grpc.RpcError as error:
            sys.exit(f"FAILED in {scenario}: unexpected gRPC error {error.code()}: {error.details()}")
        except grpc.FutureTimeoutError:
            sys.exit(f"FAILED: could not connect to {address} within {TIMEOUT_SECONDS} s")
    print("python client: all checks passed")


if __name__ == "__main__":
    main()
