"""End-to-end test of the orders gRPC API through a Python client.

    python tests/python/client_test.py HOST:PORT

Generates Python stubs from proto/ with grpc_tools.protoc into a temporary
directory, then walks one order through its life against the server at
HOST:PORT: CreateProduct, CreateOrder, GetOrder, GetOrderHistory (paged),
CancelOrder (stock restored), plus a NOT_FOUND error whose rich details are
decoded from the `grpc-status-details-bin` trailer.

Run by tests/api/python_client.rs with the virtualenv of scripts/python-env. SKUs
and customer ids are unique per run, so reruns against one database never
clash. Exits 0 when every check passes, 1 with a message otherwise.
"""

import importlib
import subprocess
import sys
import tempfile
import types
import uuid
from decimal import Decimal
from pathlib import Path

import grpc
import grpc_tools
from google.rpc import error_details_pb2
from grpc_status import rpc_status

PROTO_ROOT = Path(__file__).resolve().parents[2] / "proto"
# google/protobuf/timestamp.proto and the other well-known types ship with grpc_tools.
WELL_KNOWN_PROTOS = Path(grpc_tools.__file__).parent / "_proto"
TIMEOUT_SECONDS = 10
NANOS_PER_UNIT = Decimal(1_000_000_000)


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


def to_decimal(money):
    """The exact amount of an orders.v1.Money."""
    return Decimal(money.units) + Decimal(money.nanos) / NANOS_PER_UNIT


class Client:
    """The generated stubs for one channel, with the steps of the test."""

    def __init__(self, channel, pb):
        self.pb = pb
        self.catalog = pb.catalog_grpc.CatalogServiceStub(channel)
        self.orders = pb.orders_grpc.OrderServiceStub(channel)
        self.customer_id = f"py-customer-{uuid.uuid4()}"

    def create_product(self, name, units, nanos, stock):
        money = self.pb.money.Money(currency_code="EUR", units=units, nanos=nanos)
        request = self.pb.catalog.CreateProductRequest(
            sku=f"py-{uuid.uuid4()}", name=name, price=money, stock=stock)
        product = self.catalog.CreateProduct(request, timeout=TIMEOUT_SECONDS).product
        check(product.product_id and product.sku == request.sku and product.stock == stock,
              f"CreateProduct returned an unexpected product:\n{product}")
        return product

    def stock_of(self, product):
        request = self.pb.catalog.GetProductRequest(product_id=product.product_id)
        return self.catalog.GetProduct(request, timeout=TIMEOUT_SECONDS).product.stock

    def create_order(self, lines):
        """Places an order of (product, quantity) lines."""
        pb = self.pb.orders
        request = pb.CreateOrderRequest(
            customer_id=self.customer_id,
            request_id=str(uuid.uuid4()),
            line_items=[pb.CreateOrderRequest.LineItem(product_id=p.product_id, quantity=q) for p, q in lines],
            shipping_address=self.pb.address.Address(
                recipient="Ada Lovelace", line1="12 St James's Square", city="London",
                postal_code="SW1Y 4JH", country_code="GB"),
        )
        order = self.orders.CreateOrder(request, timeout=TIMEOUT_SECONDS).order
        check(order.state == pb.ORDER_STATE_PLACED, f"a new order is not PLACED:\n{order}")
        check(order.customer_id == self.customer_id, f"wrong customer on the new order:\n{order}")
        return order

    def history_page(self, page_size, page_token=""):
        request = self.pb.orders.GetOrderHistoryRequest(
            customer_id=self.customer_id, page_size=page_size, page_token=page_token)
        return self.orders.GetOrderHistory(request, timeout=TIMEOUT_SECONDS)


def load_stubs(stub_dir):
    """Imports the generated modules (stub_dir must be on sys.path)."""
    names = {
        "money": "orders.v1.money_pb2",
        "address": "orders.v1.address_pb2",
        "catalog": "orders.v1.catalog_pb2",
        "catalog_grpc": "orders.v1.catalog_pb2_grpc",
        "orders": "orders.v1.orders_pb2",
        "orders_grpc": "orders.v1.orders_pb2_grpc",
    }
    sys.path.insert(0, str(stub_dir))
    return types.SimpleNamespace(**{key: importlib.import_module(module) for key, module in names.items()})


def check_order_lines_and_total(order, lines):
    """Each line copies its product and price; the totals are exact."""
    check(len(order.line_items) == len(lines), f"expected {len(lines)} lines:\n{order}")
    expected_total = Decimal(0)
    for item, (product, quantity) in zip(order.line_items, lines):
        check((item.product_id, item.sku, item.name, item.quantity)
              == (product.product_id, product.sku, product.name, quantity),
              f"line does not match its product {product.sku} x {quantity}:\n{item}")
        line_total = to_decimal(product.price) * quantity
        check(to_decimal(item.line_total) == line_total,
              f"line total {to_decimal(item.line_total)} != {line_total} for {product.sku}")
        expected_total += line_total
    check(order.total.currency_code == "EUR" and to_decimal(order.total) == expected_total,
          f"order total {to_decimal(order.total)} {order.total.currency_code} != {expected_total} EUR")


def check_history(client, newest, older):
    """The history lists `newest` first, then `older`, one per page."""
    first = client.history_page(page_size=1)
    check([o.order_id for o in first.orders] == [newest.order_id],
          f"the first history page is not just the newest order:\n{first}")
    check(first.orders[0] == newest, f"the history's order differs from CreateOrder's:\n{first.orders[0]}")
    check(first.next_page_token, "a one-order page of a two-order history has no next_page_token")

    # Follow the tokens to the end; an empty token is the only end signal.
    seen, token = [o.order_id for o in first.orders], first.next_page_token
    for _ in range(5):
        if not token:
            break
        page = client.history_page(page_size=1, page_token=token)
        seen += [o.order_id for o in page.orders]
        token = page.next_page_token
    check(not token, "paging did not end within 5 pages")
    check(seen == [newest.order_id, older.order_id], f"paged history {seen} != newest, older")

    # A token is bound to its customer: another customer cannot use it.
    other = client.pb.orders.GetOrderHistoryRequest(
        customer_id=f"py-other-{uuid.uuid4()}", page_size=1, page_token=first.next_page_token)
    try:
        client.orders.GetOrderHistory(other, timeout=TIMEOUT_SECONDS)
        raise CheckFailed("another customer's page token was accepted")
    except grpc.RpcError as error:
        check(error.code() == grpc.StatusCode.INVALID_ARGUMENT,
              f"another customer's page token gave {error.code()}, not INVALID_ARGUMENT")


def check_not_found_details(client):
    """GetOrder of an unknown id: NOT_FOUND with ErrorInfo ORDER_NOT_FOUND."""
    request = client.pb.orders.GetOrderRequest(order_id=str(uuid.uuid4()))
    try:
        client.orders.GetOrder(request, timeout=TIMEOUT_SECONDS)
        raise CheckFailed("GetOrder of an unknown id succeeded")
    except grpc.RpcError as error:
        check(error.code() == grpc.StatusCode.NOT_FOUND, f"unknown order gave {error.code()}, not NOT_FOUND")
        # Decodes google.rpc.Status from the grpc-status-details-bin trailer.
        status = rpc_status.from_call(error)
        check(status is not None, "the error has no grpc-status-details-bin trailer")
        infos = []
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                infos.append(info)
        check(len(infos) == 1, f"expected one ErrorInfo in the details, got {len(infos)}:\n{status}")
        check((infos[0].reason, infos[0].domain) == ("ORDER_NOT_FOUND", "orders"),
              f"unexpected ErrorInfo:\n{infos[0]}")


def run(client):
    mug = client.create_product("Mug", units=19, nanos=990_000_000, stock=10)
    # 0.10 EUR: seven of them are exactly 0.70, which floating point would miss.
    pin = client.create_product("Pin", units=0, nanos=100_000_000, stock=100)
    print(f"created products {mug.sku} and {pin.sku}")

    older = client.create_order([(pin, 1)])
    lines = [(mug, 3), (pin, 7)]
    order = client.create_order(lines)
    check_order_lines_and_total(order, lines)
    check(client.stock_of(mug) == 7 and client.stock_of(pin) == 92, "CreateOrder did not take the stock")
    print(f"placed order {order.order_id}, total {to_decimal(order.total)} EUR")

    fetched = client.orders.GetOrder(
        client.pb.orders.GetOrderRequest(order_id=order.order_id), timeout=TIMEOUT_SECONDS).order
    check(fetched == order, f"GetOrder differs from CreateOrder:\n{fetched}\nvs\n{order}")
    check_history(client, newest=order, older=older)
    print("GetOrder and GetOrderHistory agree")

    cancel = client.pb.orders.CancelOrderRequest(
        order_id=order.order_id, customer_id=client.customer_id, reason="changed my mind")
    cancelled = client.orders.CancelOrder(cancel, timeout=TIMEOUT_SECONDS).order
    check(cancelled.state == client.pb.orders.ORDER_STATE_CANCELLED, f"not CANCELLED:\n{cancelled}")
    check(cancelled.cancel_reason == "changed my mind" and cancelled.HasField("cancel_time"),
          f"the cancellation is not recorded:\n{cancelled}")
    check(client.stock_of(mug) == 10 and client.stock_of(pin) == 99,
          "CancelOrder did not put the stock back")
    print("cancelled the order; stock restored")

    check_not_found_details(client)
    print("NOT_FOUND carries ErrorInfo ORDER_NOT_FOUND")


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} HOST:PORT")
    address = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="orders-stubs-") as stub_dir:
        try:
            generate_stubs(stub_dir)
            stubs = load_stubs(stub_dir)
            with grpc.insecure_channel(address) as channel:
                grpc.channel_ready_future(channel).result(timeout=TIMEOUT_SECONDS)
                run(Client(channel, stubs))
        except CheckFailed as failure:
            sys.exit(f"FAILED: {failure}")
        except grpc.RpcError as error:
            sys.exit(f"FAILED: unexpected gRPC error {error.code()}: {error.details()}")
        except grpc.FutureTimeoutError:
            sys.exit(f"FAILED: could not connect to {address} within {TIMEOUT_SECONDS} s")
    print("python client: all checks passed")


if __name__ == "__main__":
    main()
