// An order's life through the Node client (./client.ts), against a live
// server that requires tokens and runs the payment service:
//
//   create a product (catalog admin) → place an order paid by card
//   (customer) → paid → in the customer's history → cancel → refunded,
//   stock back → errors with their google.rpc details.
//
//   npm run test:node -- <url> <catalog-admin-token> <customer-token>
//   npm run test:node -- http://127.0.0.1:50051 "$ADMIN_TOKEN" "$ALICE_TOKEN"
//
// The customer is the customer token's subject (`sub`). Run `npm run gen`
// first. Each step prints `ok <step>`; the first
// failure prints what was expected and what came, and exits with status 1.
// Tests/api/typescript_client.rs runs it against a test server.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

import { Code, ConnectError, connectToOrders, detail, errorInfo, type OrdersClients } from "./client";
import { OrderState, PaymentStatus, type GetOrderResponse, type Order } from "../gen/orders/v1/orders_pb";
import { MovementKind, PaymentState } from "../gen/payments/v1/payments_pb";
import { PreconditionFailureSchema } from "../gen/google/rpc/error_details_pb";

/** How long the payment saga may take to pay, and then to refund, an order. */
const SAGA_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 100;

const usage = "usage: client-test.ts <url> <catalog-admin-token> <customer-token>";

async function main(): Promise<void> {
  const [url, adminToken, customerToken, ...extra] = process.argv.slice(2);
  if (!url || !adminToken || !customerToken || extra.length > 0) {
    throw new Error(usage);
  }
  const customerId = subjectOf(customerToken);

  const connection = connectToOrders(url);
  try {
    const admin = connection.clientsWithToken(adminToken);
    const customer = connection.clientsWithToken(customerToken);
    await orderLife(admin, customer, customerId);
    await errors(connection.clientsWithoutToken(), customer, customerId);
  } finally {
    connection.close();
  }
}

async function orderLife(admin: OrdersClients, customer: OrdersClients, customerId: string): Promise<void> {
  const sku = `NODE-${randomUUID().slice(0, 8).toUpperCase()}`;
  const productId = await step("create a product (catalog admin)", async () => {
    const { product } = await admin.catalog.createProduct({
      sku,
      name: "Green tea, 100 g",
      price: { currencyCode: "EUR", units: 12n, nanos: 500_000_000 },
      stock: 10n,
      requestId: randomUUID(),
    });
    assert.ok(product, "CreateProduct returns the product");
    assert.equal(product.sku, sku);
    assert.equal(product.stock, 10n);
    return product.productId;
  });

  const stock = async () => (await customer.catalog.getProduct({ productId })).product?.stock;

  const placed = await step("place an order paid by card (customer)", async () => {
    const { order } = await customer.orders.createOrder({
      customerId,
      lineItems: [{ productId, quantity: 2 }],
      shippingAddress: {
        recipient: "Ada Lovelace",
        line1: "12 St James's Square",
        city: "London",
        postalCode: "SW1Y 4JH",
        countryCode: "GB",
      },
      paymentMethod: "pm_card_visa",
      requestId: randomUUID(),
    });
    assert.ok(order, "CreateOrder returns the order");
    assert.equal(name(OrderState, order.state), "PLACED");
    assert.equal(order.customerId, customerId);
    assert.deepEqual(
      order.lineItems.map((l) => [l.productId, l.sku, l.quantity]),
      [[productId, sku, 2]],
    );
    assert.equal(money(order.total), "25.000000000 EUR", "2 × 12.50 EUR");
    assert.equal(order.payment?.paymentMethod, "pm_card_visa");
    assert.equal(name(PaymentStatus, order.payment?.status), "PENDING");
    assert.equal(await stock(), 8n, "the order took 2 of 10");
    return order;
  });
  const orderId = placed.orderId;

  const paid = await step("the payment saga pays it", async () => {
    const got = await waitForOrder(
      customer,
      orderId,
      "PAID with its payment CAPTURED",
      (o) => o.state === OrderState.PAID && o.payment?.status === PaymentStatus.CAPTURED,
      (o) => o.state === OrderState.CANCELLED, // declined, or timed out
    );
    const order = got.order!;
    assert.match(order.payment!.paymentId, /^[0-9a-f-]{36}$/, "the payment service's id");
    assert.deepEqual(history(got), [
      ["UNSPECIFIED", "PLACED", "", customerId, "customer"],
      ["PLACED", "PLACED", "PAYMENT_AUTHORIZED", "orders", "system"],
      ["PLACED", "PAID", "", "orders", "system"],
    ]);
    const { payment } = await customer.payments.getPayment({ paymentId: order.payment!.paymentId });
    assert.ok(payment, "GetPayment returns the payment");
    assert.equal(name(PaymentState, payment.state), "CAPTURED");
    assert.equal(payment.orderId, orderId);
    assert.equal(payment.customerId, customerId);
    assert.equal(money(payment.amountCaptured), "25.000000000 EUR");
    return order;
  });

  await step("GetOrderHistory lists it, newest first", async () => {
    const { orders } = await customer.orders.getOrderHistory({ customerId, pageSize: 10 });
    assert.ok(orders.length >= 1, "the customer has an order");
    assert.equal(orders[0].orderId, orderId, "the newest order is the one just placed");
    assert.equal(name(OrderState, orders[0].state), "PAID");
    assert.equal(money(orders[0].total), "25.000000000 EUR");
  });

  await step("cancel it: CANCELLED at once, stock back", async () => {
    const { order } = await customer.orders.cancelOrder({ orderId, customerId, reason: "changed my mind" });
    assert.ok(order, "CancelOrder returns the order");
    assert.equal(name(OrderState, order.state), "CANCELLED");
    assert.equal(order.cancelReason, "changed my mind");
    assert.ok(order.cancelTime, "cancel_time is set");
    // The refund is the saga's next job, after CancelOrder has answered.
    assert.equal(name(PaymentStatus, order.payment?.status), "CAPTURED");
    assert.equal(await stock(), 10n, "the 2 units are back");
  });

  await step("the saga refunds the payment in full", async () => {
    const got = await waitForOrder(
      customer,
      orderId,
      "CANCELLED with its payment REFUNDED",
      (o) => o.state === OrderState.CANCELLED && o.payment?.status === PaymentStatus.REFUNDED,
      (o) => o.payment?.status !== PaymentStatus.CAPTURED, // only CAPTURED becomes REFUNDED
    );
    assert.equal(name(OrderState, got.order!.state), "CANCELLED");
    assert.deepEqual(history(got), [
      ["UNSPECIFIED", "PLACED", "", customerId, "customer"],
      ["PLACED", "PLACED", "PAYMENT_AUTHORIZED", "orders", "system"],
      ["PLACED", "PAID", "", "orders", "system"],
      ["PAID", "CANCELLED", "changed my mind", customerId, "customer"],
      ["CANCELLED", "CANCELLED", "PAYMENT_REFUNDED", "orders", "system"],
    ]);
    const { payment } = await customer.payments.getPayment({ paymentId: paid.payment!.paymentId });
    assert.ok(payment, "GetPayment returns the payment");
    assert.equal(name(PaymentState, payment.state), "REFUNDED");
    assert.equal(money(payment.amountRefunded), "25.000000000 EUR");
    assert.deepEqual(
      payment.movements.map((m) => [Number(m.sequence), name(MovementKind, m.kind), money(m.amount)]),
      [
        [1, "AUTHORIZED", "25.000000000 EUR"],
        [2, "CAPTURED", "25.000000000 EUR"],
        [3, "REFUNDED", "25.000000000 EUR"],
      ],
    );
    assert.equal(await stock(), 10n, "the stock came back once");
  });

  await step("cancelling it again changes nothing", async () => {
    const { order } = await customer.orders.cancelOrder({ orderId, customerId, reason: "again" });
    assert.equal(name(OrderState, order?.state), "CANCELLED");
    assert.equal(order?.cancelReason, "changed my mind");
    assert.equal(await stock(), 10n);
  });

  await step("too many units: FAILED_PRECONDITION, INSUFFICIENT_STOCK naming the product", async () => {
    const error = await failure(
      customer.orders.createOrder({
        customerId,
        lineItems: [{ productId, quantity: 11 }],
        shippingAddress: { recipient: "Ada Lovelace", line1: "12 St James's Square", city: "London", countryCode: "GB" },
        paymentMethod: "pm_card_visa",
      }),
    );
    assert.equal(Code[error.code], "FailedPrecondition", error.message);
    const info = errorInfo(error);
    assert.deepEqual([info?.domain, info?.reason], ["orders", "INSUFFICIENT_STOCK"]);
    const violations = detail(error, PreconditionFailureSchema)?.violations ?? [];
    assert.deepEqual(
      violations.map((v) => [v.type, v.subject]),
      [["STOCK", `products/${productId}`]],
    );
    assert.equal(await stock(), 10n, "nothing was taken");
  });
}

async function errors(anonymous: OrdersClients, customer: OrdersClients, customerId: string): Promise<void> {
  await step("a customer creating a product: PERMISSION_DENIED, ROLE_NOT_ALLOWED", async () => {
    const error = await failure(
      customer.catalog.createProduct({
        sku: `NODE-${randomUUID().slice(0, 8)}`,
        name: "Not allowed",
        price: { currencyCode: "EUR", units: 1n },
        stock: 1n,
      }),
    );
    assert.equal(Code[error.code], "PermissionDenied", error.message);
    const info = errorInfo(error);
    assert.deepEqual([info?.domain, info?.reason], ["orders", "ROLE_NOT_ALLOWED"]);
  });

  await step("no token: UNAUTHENTICATED, TOKEN_MISSING", async () => {
    const error = await failure(anonymous.orders.getOrderHistory({ customerId }));
    assert.equal(Code[error.code], "Unauthenticated", error.message);
    const info = errorInfo(error);
    assert.deepEqual([info?.domain, info?.reason], ["orders", "TOKEN_MISSING"]);
  });

  await step("another's payment: NOT_FOUND, PAYMENT_NOT_FOUND in the domain payments", async () => {
    const error = await failure(customer.payments.getPayment({ paymentId: randomUUID() }));
    assert.equal(Code[error.code], "NotFound", error.message);
    const info = errorInfo(error);
    assert.deepEqual([info?.domain, info?.reason], ["payments", "PAYMENT_NOT_FOUND"]);
  });
}

/**
 * Polls GetOrder until `done`, for at most SAGA_TIMEOUT_MS; fails at once
 * when the order is `hopeless` (somewhere it can never leave for `done`).
 */
async function waitForOrder(
  client: OrdersClients,
  orderId: string,
  what: string,
  done: (order: Order) => boolean,
  hopeless: (order: Order) => boolean,
): Promise<GetOrderResponse> {
  const deadline = Date.now() + SAGA_TIMEOUT_MS;
  for (;;) {
    const response = await client.orders.getOrder({ orderId });
    const order = response.order;
    assert.ok(order, "GetOrder returns the order");
    if (done(order)) {
      return response;
    }
    const state = `${name(OrderState, order.state)} (payment ${name(PaymentStatus, order.payment?.status)})`;
    if (hopeless(order)) {
      throw new Error(`order ${orderId} is ${state}, cancel reason "${order.cancelReason}": it will never be ${what}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`order ${orderId} is still ${state} after ${SAGA_TIMEOUT_MS} ms, not ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/** The order's state history as [from, to, reason, subject, role]. */
function history(response: GetOrderResponse): string[][] {
  return response.stateHistory.map((c) => [
    name(OrderState, c.fromState),
    name(OrderState, c.toState),
    c.reason,
    c.actor?.subject ?? "",
    c.actor?.role ?? "",
  ]);
}

/** The error a call that must fail failed with. */
async function failure(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("the call succeeded but should have failed");
}

/** An enum value's name without its prefix (`PAID`), for readable failures. */
function name(enumObject: Record<number, string>, value: number | undefined): string {
  return value === undefined ? "(unset)" : (enumObject[value] ?? `unknown value ${value}`);
}

/** `{units: 12n, nanos: 500000000, currencyCode: "EUR"}` as `12.500000000 EUR`. */
function money(amount: { currencyCode: string; units: bigint; nanos: number } | undefined): string {
  if (!amount) {
    return "(unset)";
  }
  return `${amount.units}.${String(Math.abs(amount.nanos)).padStart(9, "0")} ${amount.currencyCode}`;
}

/** The `sub` claim of a JWT: the customer the token speaks for. */
function subjectOf(token: string): string {
  const payload = token.split(".")[1];
  const sub = payload ? JSON.parse(Buffer.from(payload, "base64url").toString("utf8")).sub : undefined;
  if (typeof sub !== "string" || sub === "") {
    throw new Error("the customer token is not a JWT with a `sub` claim");
  }
  return sub;
}

/** Runs one step, printing `ok <title>`; a failure names the step. */
async function step<T>(title: string, body: () => Promise<T>): Promise<T> {
  try {
    const result = await body();
    console.log(`ok   ${title}`);
    return result;
  } catch (error) {
    throw new Error(`step "${title}" failed: ${describe(error)}`, { cause: error });
  }
}

function describe(error: unknown): string {
  if (error instanceof ConnectError) {
    const info = errorInfo(error);
    return `${Code[error.code]}: ${error.rawMessage}${info ? ` (${info.domain}/${info.reason})` : ""}`;
  }
  return error instanceof Error ? error.message : String(error);
}

main().then(
  () => {
    console.log("all steps passed");
  },
  (error: unknown) => {
    console.error(`FAILED: ${describe(error)}`);
    process.exitCode = 1;
  },
);
