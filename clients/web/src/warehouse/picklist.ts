// The pick list: the orders of one state, oldest first, a page at a time.
// PAID orders are ready to ship; PLACED ones without a card payment are
// paid on delivery and ready too, those with one wait for it.
import type { Api } from "../api";
import { OrderState, type Order } from "../../../gen/orders/v1/orders_pb";
import { byId, h, say } from "../dom";
import { describeError } from "../errors";
import { formatTime, isoTime, paymentLabel, shortId } from "../labels";
import { formatMoney } from "../money";

const PAGE_SIZE = 10;

export interface PickList {
  /** Shows the first page again. */
  refresh(): Promise<void>;
}

export function mountPickList(api: Api, open: (orderId: string) => void): PickList {
  const form = byId<HTMLFormElement>("picklist-form");
  const stateSelect = byId<HTMLSelectElement>("picklist-state");
  const list = byId<HTMLUListElement>("picklist-orders");
  const status = byId("picklist-status");
  const error = byId("picklist-error");
  const previous = byId<HTMLButtonElement>("picklist-previous");
  const nextButton = byId<HTMLButtonElement>("picklist-next");

  let tokens: string[] = [];
  let current = "";
  let next = "";

  const state = () => (stateSelect.value === "PLACED" ? OrderState.PLACED : OrderState.PAID);

  async function show(pageToken: string, before: string[]) {
    try {
      const response = await api.orders.listOrders({ state: state(), pageSize: PAGE_SIZE, pageToken });
      say(error, "");
      tokens = before;
      current = pageToken;
      next = response.nextPageToken;
      list.replaceChildren(...response.orders.map(entry));
      previous.hidden = tokens.length === 0;
      nextButton.hidden = next === "";
      const count = response.orders.length;
      status.textContent =
        count === 0 && tokens.length === 0
          ? "Nothing to prepare."
          : `${count} order${count === 1 ? "" : "s"} on this page, oldest first.`;
    } catch (e) {
      list.replaceChildren();
      status.textContent = "";
      say(error, describeError(e));
    }
  }

  function entry(order: Order) {
    const units = order.lineItems.reduce((n, l) => n + l.quantity, 0);
    const waiting = order.state === OrderState.PLACED && order.payment !== undefined;
    return h(
      "li",
      { class: "pick", "data-order-id": order.orderId },
      h(
        "button",
        {
          type: "button",
          class: "link",
          "aria-label": `Open order ${shortId(order.orderId)}`,
          onclick: () => open(order.orderId),
        },
        `Order ${shortId(order.orderId)}`,
      ),
      h(
        "span",
        { class: "meta" },
        h("time", { datetime: isoTime(order.createTime) }, formatTime(order.createTime)),
        ` · ${units} item${units === 1 ? "" : "s"} · ${formatMoney(order.total)} · ${paymentLabel(order)}`,
      ),
      waiting ? h("span", { class: "note" }, "Waiting for its card payment: do not ship yet.") : null,
    );
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void show("", []);
  });
  stateSelect.addEventListener("change", () => void show("", []));
  previous.addEventListener("click", () => void show(tokens.at(-1) ?? "", tokens.slice(0, -1)));
  nextButton.addEventListener("click", () => void show(next, [...tokens, current]));

  return { refresh: () => show("", []) };
}
