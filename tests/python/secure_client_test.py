"""A Python client of an orders server that requires TLS and bearer tokens.

    ORDERS_ADMIN_TOKEN=...      (a token with the role catalog-admin)
    ORDERS_CUSTOMER_TOKEN=...   (role customer, subject "alice")
    ORDERS_WAREHOUSE_TOKEN=...  (role warehouse)
    python tests/python/secure_client_test.py HOST:PORT CA_PEM

CA_PEM is the certificate of the CA that signed the server's certificate;
HOST must be a name that certificate is valid for. Tokens come from the
environment rather than the command line, where `ps` would show them.

The idiomatic gRPC way: TLS channel credentials that trust CA_PEM, combined
with access-token call credentials, so that every call on the channel sends
`authorization: Bearer <token>`. One channel per token (per identity).

The checks: the catalog admin creates a product; alice places an order and
reads it back with its state history; alice may not ship it
(PERMISSION_DENIED, ROLE_NOT_ALLOWED); a channel without a token is
UNAUTHENTICATED (TOKEN_MISSING); the warehouse ships it.

Run by tests/api/tls.rs with the virtualenv of scripts/python-env. Exits 0
when every check passes, 1 with a message otherwise.
"""

import contextlib
import os
import sys
import tempfile
import uuid

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

# Stub generation and the check helper are the plaintext client test's.
from client_test import TIMEOUT_SECONDS, CheckFailed, check, generate_stubs, load_stubs

# The customer id must be the `sub` of the customer's token.
CUSTOMER_ID = "alice"
TOKEN_VARIABLES = ("ORDERS_ADMIN_TOKEN", "ORDERS_CUSTOMER_TOKEN", "ORDERS_WAREHOUSE_TOKEN")


def secure_channel(address, root_certificates, token=None):
    """A TLS channel trusting root_certificates; with a token, every call sends it."""
    credentials = grpc.ssl_channel_credentials(root_certificates=root_certificates)
    if token is not None:
        credentials = grpc.composite_channel_credentials(
            credentials, grpc.access_token_call_credentials(token))
    return grpc.secure_channel(address, credentials)


class Client:
    """The stubs for one channel, that is for one identity."""

    def __init__(self, channel, pb):
        self.pb = pb
        self.catalog = pb.catalog_grpc.CatalogServiceStub(channel)
        self.orders = pb.orders_grpc.OrderServiceStub(channel)


def error_reason(error):
    """The ErrorInfo.reason of a failed call, from its rich error details."""
    status = rpc_status.from_call(error)
    check(status is not None, f"the {error.code()} error has no grpc-status-details-bin trailer")
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            check(info.domain == "orders", f"ErrorInfo of another domain:\n{info}")
            return info.reason
    raise CheckFailed(f"no ErrorInfo in the details of the {error.code()} error:\n{status}")


def expect_error(what, call, code, reason):
    """Runs call(), which must fail with `code` and ErrorInfo `reason`."""
    try:
        call()
    except grpc.RpcError as error:
        got = (error.code(), error_reason(error))
        check(got == (code, reason),
              f"{what}: expected {code.name} {reason}, got {got[0].name} {got[1]}: {error.details()}")
        return
    raise CheckFailed(f"{what} succeeded; expected {code.name} {reason}")


def create_product(admin):
    money = admin.pb.money.Money(currency_code="EUR", units=4, nanos=500_000_000)
    request = admin.pb.catalog.CreateProductRequest(
        sku=f"py-tls-{uuid.uuid4()}", name="Green tea", price=money, stock=10)
    product = admin.catalog.CreateProduct(request, timeout=TIMEOUT_SECONDS).product
    check(product.sku == request.sku and product.stock == 10, f"unexpected product:\n{product}")
    return product


def place_order(customer, product):
    pb = customer.pb.orders
    request = pb.CreateOrderRequest(
        customer_id=CUSTOMER_ID,
        request_id=str(uuid.uuid4()),
        line_items=[pb.CreateOrderRequest.LineItem(product_id=product.product_id, quantity=2)],
        shipping_address=customer.pb.address.Address(
            recipient="Ada Lovelace", line1="12 St James's Square", city="London",
            postal_code="SW1Y 4JH", country_code="GB"),
    )
    order = customer.orders.CreateOrder(request, timeout=TIMEOUT_SECONDS).order
    check(order.state == pb.ORDER_STATE_PLACED and order.customer_id == CUSTOMER_ID,
          f"unexpected new order:\n{order}")
    return order


def check_history(customer, order):
    """GetOrder returns the order and its one state change, made by alice as a customer."""
    pb = customer.pb.orders
    response = customer.orders.GetOrder(pb.GetOrderRequest(order_id=order.order_id), timeout=TIMEOUT_SECONDS)
    check(response.order == order, f"GetOrder differs from CreateOrder:\n{response.order}\nvs\n{order}")
    history = response.state_history
    check(len(history) == 1, f"expected one state change, got {len(history)}:\n{history}")
    change = history[0]
    check((change.from_state, change.to_state) == (pb.ORDER_STATE_UNSPECIFIED, pb.ORDER_STATE_PLACED),
          f"the creation is not UNSPECIFIED -> PLACED:\n{change}")
    check((change.actor.subject, change.actor.role) == (CUSTOMER_ID, "customer"),
          f"the creation was not recorded as alice, customer:\n{change.actor}")


def check_refusals(alice, anonymous, order):
    """A customer may not ship; a call without a token is not even looked at."""
    pb = alice.pb
    ship = pb.orders.ShipOrderRequest(order_id=order.order_id)
    expect_error("ShipOrder as a customer",
                 lambda: alice.orders.ShipOrder(ship, timeout=TIMEOUT_SECONDS),
                 grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")
    expect_error("ListProducts without a token",
                 lambda: anonymous.catalog.ListProducts(pb.catalog.ListProductsRequest(), timeout=TIMEOUT_SECONDS),
                 grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")


def ship_order(warehouse, order):
    pb = warehouse.pb.orders
    shipped = warehouse.orders.ShipOrder(pb.ShipOrderRequest(order_id=order.order_id), timeout=TIMEOUT_SECONDS).order
    check(shipped.state == pb.ORDER_STATE_SHIPPED, f"not SHIPPED:\n{shipped}")


def run(admin, alice, warehouse, anonymous):
    product = create_product(admin)
    print(f"catalog admin created {product.sku}")
    order = place_order(alice, product)
    check_history(alice, order)
    print(f"alice placed order {order.order_id}; its history names her")
    check_refusals(alice, anonymous, order)
    print("a customer may not ship; no token is UNAUTHENTICATED")
    ship_order(warehouse, order)
    print("the warehouse shipped it")


def connect_and_run(address, root_certificates, tokens):
    """One channel per token, plus one without; the stubs are generated first."""
    with tempfile.TemporaryDirectory(prefix="orders-stubs-") as stub_dir, contextlib.ExitStack() as stack:
        generate_stubs(stub_dir)
        pb = load_stubs(stub_dir)
        channels = [stack.enter_context(secure_channel(address, root_certificates, token))
                    for token in [*tokens, None]]
        # The TLS handshake, with the check of the server's certificate, happens here.
        grpc.channel_ready_future(channels[0]).result(timeout=TIMEOUT_SECONDS)
        run(*(Client(channel, pb) for channel in channels))


def main():
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} HOST:PORT CA_PEM (tokens in {', '.join(TOKEN_VARIABLES)})")
    address, ca_path = sys.argv[1:]
    missing = [name for name in TOKEN_VARIABLES if not os.environ.get(name)]
    if missing:
        sys.exit(f"FAILED: set {', '.join(missing)}")
    with open(ca_path, "rb") as ca:
        root_certificates = ca.read()
    try:
        connect_and_run(address, root_certificates, [os.environ[name] for name in TOKEN_VARIABLES])
    except CheckFailed as failure:
        sys.exit(f"FAILED: {failure}")
    except grpc.RpcError as error:
        sys.exit(f"FAILED: unexpected gRPC error {error.code()}: {error.details()}")
    except grpc.FutureTimeoutError:
        sys.exit(f"FAILED: no TLS connection to {address} within {TIMEOUT_SECONDS} s")
    print("secure python client: all checks passed")


if __name__ == "__main__":
    main()
