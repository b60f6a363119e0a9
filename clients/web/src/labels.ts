// What people read for the API's enums, ids and times.
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { OrderState, PaymentStatus, type Order } from "../../gen/orders/v1/orders_pb";

/** The order's short name, as its emails say it: the last 8 characters of its id. */
export function shortId(orderId: string): string {
  return orderId.slice(-8);
}

export function stateLabel(state: OrderState): string {
  switch (state) {
    case OrderState.PLACED:
      return "Placed";
    case OrderState.PAID:
      return "Paid";
    case OrderState.SHIPPED:
      return "Shipped";
    case OrderState.CANCELLED:
      return "Cancelled";
    default:
      return "Unknown";
  }
}

/** The state's API name (`PAID`), for data attributes and styles. */
export function stateName(state: OrderState): string {
  return OrderState[state] ?? "UNSPECIFIED";
}

/** Why a card was declined, from the payment's decline code. */
export function declineSentence(code: string): string {
  switch (code) {
    case "card_declined":
      return "Your card was declined.";
    case "insufficient_funds":
      return "Your card was declined: insufficient funds.";
    case "unknown_payment_method":
      return "The payment method is not one the payment processor knows.";
    default:
      return code ? `Your card was declined (${code}).` : "Your card was declined.";
  }
}

/** How the order is paid, in a few words. */
export function paymentLabel(order: Order): string {
  const payment = order.payment;
  if (!payment) return "Pay on delivery";
  switch (payment.status) {
    case PaymentStatus.PENDING:
      return "Card payment pending";
    case PaymentStatus.AUTHORIZED:
      return "Card payment authorized";
    case PaymentStatus.CAPTURED:
      return order.state === OrderState.CANCELLED ? "Paid by card, to be refunded in full" : "Paid by card";
    case PaymentStatus.DECLINED:
      return "Card declined, nothing charged";
    case PaymentStatus.RELEASED:
      return "Card payment released, nothing charged";
    case PaymentStatus.REFUNDED:
      return "Card payment refunded";
    default:
      return "Card payment";
  }
}

/** Why an order was cancelled, from its `cancel_reason`. */
export function cancelReasonLabel(order: Order): string {
  switch (order.cancelReason) {
    case "PAYMENT_DECLINED":
      return declineSentence(order.payment?.declineCode ?? "");
    case "PAYMENT_TIMEOUT":
      return "The payment did not arrive in time.";
    default:
      return order.cancelReason ? `Reason given: “${order.cancelReason}”.` : "";
  }
}

const dateFormat = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });

/** "7 Dec 2026, 14:05", or "" when unset. */
export function formatTime(time: Timestamp | undefined): string {
  return time ? dateFormat.format(timestampDate(time)) : "";
}

/** The `datetime` attribute of a `<time>`. */
export function isoTime(time: Timestamp | undefined): string {
  return time ? timestampDate(time).toISOString() : "";
}
