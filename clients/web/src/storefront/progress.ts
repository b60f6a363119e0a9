// An order's progress after checkout, from placed to paid (or declined),
// without reloading: GetOrder every half second until the order settles,
// for at most a minute.
import type { Api } from "../api";
import { OrderState, PaymentStatus, type Order, type OrderStateChange } from "../../../gen/orders/v1/orders_pb";
import { byId, h } from "../dom";
import { describeError } from "../errors";
import { cancelReasonLabel, declineSentence, formatTime, shortId, stateLabel, stateName } from "../labels";

const POLL_MS = 500;
const POLL_LIMIT_MS = 60_000;

export interface Progress {
  /** Shows `order` and follows it until it settles; `settled` hears when. */
  track(order: Order, settled: () => void): void;
  /** Shows `order` as it is now, if it is the one shown (it was cancelled elsewhere on the page). */
  changed(order: Order): void;
}

export function mountProgress(api: Api): Progress {
  const section = byId("progress");
  const heading = byId("progress-heading");
  const status = byId("progress-status");
  const steps = byId<HTMLOListElement>("progress-steps");
  let tracking = 0;
  let shown = "";
  let lastHistory: OrderStateChange[] = [];

  function render(order: Order, history: OrderStateChange[] = lastHistory, note = "") {
    lastHistory = history;
    section.dataset.state = stateName(order.state);
    section.dataset.orderId = shown = order.orderId;
    heading.replaceChildren(
      `Order ${shortId(order.orderId)} `,
      h("span", { class: `badge ${stateName(order.state)}`, "data-testid": "progress-state" }, stateLabel(order.state)),
    );
    // Unchanged text is not set again, so screen readers say each change once.
    const text = [summary(order), note].filter(Boolean).join(" ");
    if (status.textContent !== text) status.textContent = text;
    steps.replaceChildren(...stepsOf(order, history));
  }

  return {
    track(order, settled) {
      const id = ++tracking;
      section.hidden = false;
      render(order, []);
      heading.focus();
      const started = Date.now();
      const poll = async () => {
        if (id !== tracking) return; // another order is followed now
        try {
          const response = await api.orders.getOrder({ orderId: order.orderId });
          if (id !== tracking || !response.order) return;
          order = response.order;
          render(order, response.stateHistory);
        } catch (e) {
          if (id === tracking) render(order, lastHistory, describeError(e));
        }
        if (isSettled(order)) return settled();
        if (Date.now() - started > POLL_LIMIT_MS) {
          return render(order, lastHistory, "The payment is taking longer than usual: your orders below will show how it ends.");
        }
        setTimeout(poll, POLL_MS);
      };
      setTimeout(poll, isSettled(order) ? 0 : POLL_MS);
    },
    changed(order) {
      if (order.orderId !== shown) return;
      tracking++; // stop following it: it is settled now
      render(order);
    },
  };
}

/** Paid, cancelled, shipped, or placed to be paid on delivery: nothing more to wait for. */
function isSettled(order: Order): boolean {
  return order.state !== OrderState.PLACED || !order.payment;
}

/** Whether the order's card payment was taken (and, if cancelled, is given back). */
function wasCharged(order: Order): boolean {
  const status = order.payment?.status;
  return status === PaymentStatus.CAPTURED || status === PaymentStatus.REFUNDED;
}

function summary(order: Order): string {
  const name = `Order ${shortId(order.orderId)}`;
  const email = order.customerEmail ? ` A confirmation is on its way to ${order.customerEmail}.` : "";
  switch (order.state) {
    case OrderState.PLACED:
      return order.payment ? `${name} is placed; waiting for the card payment…` : `${name} is placed: you pay on delivery.${email}`;
    case OrderState.PAID:
      return `${name} is paid. Thank you!${email}`;
    case OrderState.SHIPPED:
      return `${name} has shipped.`;
    case OrderState.CANCELLED: {
      const money = !order.payment
        ? ""
        : order.payment.status === PaymentStatus.REFUNDED
          ? "Your payment was refunded in full."
          : wasCharged(order)
            ? "Your payment will be refunded in full."
            : "Nothing was charged.";
      return [`${name} was cancelled.`, cancelReasonLabel(order), money].filter(Boolean).join(" ");
    }
    default:
      return name;
  }
}

type Step = { label: string; done: boolean; failed?: boolean; time?: string };

function stepsOf(order: Order, history: OrderStateChange[]) {
  const change = (to: OrderState, reason = "") => history.find((c) => c.toState === to && c.reason === reason)?.changeTime;
  const payment = order.payment;
  const steps: Step[] = [{ label: "Placed", done: true, time: formatTime(order.createTime) }];
  if (!payment) {
    steps.push({ label: "Pay on delivery", done: true });
  } else if (payment.status === PaymentStatus.DECLINED) {
    steps.push({ label: `Payment declined: ${declineSentence(payment.declineCode)}`, done: true, failed: true });
  } else {
    const charged = wasCharged(order) || order.state === OrderState.PAID || order.state === OrderState.SHIPPED;
    const authorized = charged || payment.status === PaymentStatus.AUTHORIZED;
    const authorizedAt = change(OrderState.PLACED, "PAYMENT_AUTHORIZED");
    steps.push({ label: "Payment authorized", done: authorized, time: formatTime(authorizedAt) });
    // An order cancelled before its payment was taken never gets there.
    if (charged || order.state === OrderState.PLACED) {
      steps.push({ label: "Paid", done: charged, time: formatTime(change(OrderState.PAID)) });
    }
  }
  if (order.state === OrderState.SHIPPED) {
    steps.push({ label: "Shipped", done: true, time: formatTime(order.shipTime) });
  }
  if (order.state === OrderState.CANCELLED && payment?.status !== PaymentStatus.DECLINED) {
    steps.push({ label: "Cancelled", done: true, failed: true, time: formatTime(order.cancelTime) });
  }
  return steps.map((step) =>
    h(
      "li",
      { class: step.failed ? "step failed" : step.done ? "step done" : "step pending" },
      h("span", { class: "visually-hidden" }, step.failed ? "Stopped: " : step.done ? "Done: " : "Waiting: "),
      step.label,
      step.time ? h("span", { class: "time" }, ` ${step.time}`) : null,
    ),
  );
}
