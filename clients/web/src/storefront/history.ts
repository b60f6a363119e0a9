// The customer's orders, newest first, a page at a time, each with its
// lines; an order not yet shipped can be cancelled.
import type { Api } from "../api";
import { OrderState, PaymentStatus, type Order } from "../../../gen/orders/v1/orders_pb";
import { byId, h, say, whileBusy } from "../dom";
import { describeError } from "../errors";
import { cancelReasonLabel, formatTime, isoTime, paymentLabel, shortId, stateLabel, stateName } from "../labels";
import { formatMoney } from "../money";
import type { Session } from "../session";

const PAGE_SIZE = 5;

export interface History {
  /** Shows the first page again (after a sign-in, an order, a cancellation). */
  refresh(): Promise<void>;
}

/** `cancelled` hears every order cancelled here. */
export function mountHistory(
  api: Api,
  session: () => Session | undefined,
  cancelled: (order: Order) => void,
): History {
  const list = byId("history-orders");
  const status = byId("history-status");
  const error = byId("history-error");
  const newer = byId<HTMLButtonElement>("history-newer");
  const older = byId<HTMLButtonElement>("history-older");

  // The page tokens of the pages before the one shown ("" is the first).
  let tokens: string[] = [];
  let current = "";
  let next = "";

  /** Shows the page at `pageToken`, which comes after the pages at `before`. */
  async function show(pageToken: string, before: string[], announce = "") {
    const customer = session();
    if (!customer) {
      list.replaceChildren();
      status.textContent = "Sign in to see your orders.";
      newer.hidden = older.hidden = true;
      return;
    }
    try {
      const response = await api.orders.getOrderHistory({
        customerId: customer.subject,
        pageSize: PAGE_SIZE,
        pageToken,
      });
      say(error, "");
      tokens = before;
      current = pageToken;
      next = response.nextPageToken;
      list.replaceChildren(...response.orders.map(orderCard));
      newer.hidden = tokens.length === 0;
      older.hidden = next === "";
      const page = tokens.length + 1;
      status.textContent =
        announce ||
        (response.orders.length === 0 && page === 1
          ? "You have no orders yet."
          : `Page ${page} of your orders, newest first.`);
    } catch (e) {
      say(error, describeError(e));
    }
  }

  function orderCard(order: Order) {
    const headingId = `order-${order.orderId}`;
    const actions = h("div", { class: "actions" });
    const cancellable = order.state === OrderState.PLACED || order.state === OrderState.PAID;
    if (cancellable) actions.append(cancelButton(order, actions));
    const reason = order.state === OrderState.CANCELLED ? cancelReasonLabel(order) : "";
    return h(
      "article",
      { class: "order", "aria-labelledby": headingId, "data-order-id": order.orderId, "data-state": stateName(order.state) },
      h(
        "h3",
        { id: headingId },
        `Order ${shortId(order.orderId)} `,
        h("span", { class: `badge ${stateName(order.state)}` }, stateLabel(order.state)),
      ),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Placed"),
        h("dd", {}, h("time", { datetime: isoTime(order.createTime) }, formatTime(order.createTime))),
        h("dt", {}, "Total"),
        h("dd", {}, formatMoney(order.total)),
        h("dt", {}, "Payment"),
        h("dd", {}, paymentLabel(order)),
      ),
      reason ? h("p", { class: "note" }, reason) : null,
      h(
        "ul",
        { class: "lines" },
        ...order.lineItems.map((line) =>
          h("li", {}, `${line.quantity} × ${line.name} `, h("span", { class: "price" }, formatMoney(line.lineTotal))),
        ),
      ),
      actions,
    );
  }

  function cancelButton(order: Order, actions: HTMLElement) {
    const name = `order ${shortId(order.orderId)}`;
    return h(
      "button",
      {
        type: "button",
        class: "secondary",
        "aria-label": `Cancel ${name}`,
        onclick: () => {
          // Cancelling cannot be undone: ask once more, in place.
          const yes = h("button", { type: "button", class: "danger" }, "Yes, cancel it");
          const no = h("button", { type: "button", class: "secondary" }, "Keep it");
          const question = h("p", { class: "confirm" }, `Cancel ${name}? This cannot be undone. `, yes, " ", no);
          no.addEventListener("click", () => {
            actions.replaceChildren(cancelButton(order, actions));
            actions.querySelector("button")?.focus();
          });
          yes.addEventListener("click", () => cancel(order, yes));
          actions.replaceChildren(question);
          yes.focus();
        },
      },
      "Cancel order",
    );
  }

  async function cancel(order: Order, button: HTMLButtonElement) {
    const customer = session();
    if (!customer) return;
    await whileBusy(button, async () => {
      try {
        const response = await api.orders.cancelOrder({
          orderId: order.orderId,
          customerId: customer.subject,
          reason: "Cancelled by the customer on the storefront",
        });
        const now = response.order ?? order;
        cancelled(now);
        const money =
          order.state === OrderState.PAID
            ? " Your payment will be refunded in full."
            : now.payment && now.payment.status !== PaymentStatus.DECLINED
              ? " Nothing was charged."
              : "";
        await show(current, tokens, `Order ${shortId(order.orderId)} is cancelled.${money}`);
        byId("history-heading").focus();
      } catch (e) {
        say(error, describeError(e));
      }
    });
  }

  newer.addEventListener("click", () => void show(tokens.at(-1) ?? "", tokens.slice(0, -1)));
  older.addEventListener("click", () => void show(next, [...tokens, current]));

  return { refresh: () => show("", []) };
}
