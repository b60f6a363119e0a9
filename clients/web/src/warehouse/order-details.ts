// One order as the warehouse prepares it: its lines (SKU, name, how many),
// where it goes, and the button that ships it.
import type { Api } from "../api";
import { OrderState, type Order } from "../../../gen/orders/v1/orders_pb";
import { byId, h, say, whileBusy } from "../dom";
import { describeError } from "../errors";
import { formatTime, paymentLabel, shortId, stateLabel, stateName } from "../labels";

export interface OrderDetails {
  open(orderId: string): Promise<void>;
}

/** `shipped` hears every order shipped (to refresh the pick list). */
export function mountOrderDetails(api: Api, shipped: () => void): OrderDetails {
  const section = byId("order");
  const heading = byId("order-heading");
  const status = byId("order-status");
  const error = byId("order-error");
  const details = byId("order-details");

  function render(order: Order) {
    section.dataset.state = stateName(order.state);
    heading.replaceChildren(
      `Order ${shortId(order.orderId)} `,
      h("span", { class: `badge ${stateName(order.state)}`, "data-testid": "order-state" }, stateLabel(order.state)),
    );
    const address = order.shippingAddress;
    const shippable =
      order.state === OrderState.PAID || (order.state === OrderState.PLACED && order.payment === undefined);
    const ship = h("button", { type: "button", id: "ship-order" }, "Mark as shipped");
    ship.addEventListener("click", () => shipOrder(order, ship));
    details.replaceChildren(
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Order id"),
        h("dd", {}, h("code", {}, order.orderId)),
        h("dt", {}, "Customer"),
        h("dd", {}, order.customerId),
        h("dt", {}, "Placed"),
        h("dd", {}, formatTime(order.createTime)),
        h("dt", {}, "Payment"),
        h("dd", {}, paymentLabel(order)),
      ),
      h("h3", {}, "Lines"),
      h(
        "table",
        { class: "lines" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "SKU"), h("th", { scope: "col" }, "Product"), h("th", { scope: "col", class: "number" }, "Quantity"))),
        h(
          "tbody",
          {},
          ...order.lineItems.map((line) =>
            h("tr", {}, h("td", {}, h("code", {}, line.sku)), h("td", {}, line.name), h("td", { class: "number" }, String(line.quantity))),
          ),
        ),
      ),
      h("h3", {}, "Ship to"),
      address
        ? h(
            "address",
            {},
            ...[
              address.recipient,
              address.line1,
              address.line2,
              [address.postalCode, address.city].filter(Boolean).join(" "),
              address.region,
              address.countryCode,
            ]
              .filter(Boolean)
              .flatMap((line) => [line, h("br")]),
          )
        : h("p", {}, "No address."),
      shippable ? ship : h("p", { class: order.state === OrderState.SHIPPED ? "status" : "note" }, shipNote(order)),
    );
  }

  async function shipOrder(order: Order, button: HTMLButtonElement) {
    await whileBusy(button, async () => {
      try {
        const response = await api.orders.shipOrder({ orderId: order.orderId });
        if (response.order) render(response.order);
        status.textContent = `Order ${shortId(order.orderId)} is shipped.`;
        say(error, "");
        heading.focus();
        shipped();
      } catch (e) {
        say(error, describeError(e));
      }
    });
  }

  return {
    async open(orderId) {
      section.hidden = false;
      status.textContent = "";
      say(error, "");
      try {
        const response = await api.orders.getOrder({ orderId });
        if (response.order) render(response.order);
        heading.focus();
      } catch (e) {
        details.replaceChildren();
        say(error, describeError(e));
      }
    },
  };
}

function shipNote(order: Order): string {
  switch (order.state) {
    case OrderState.SHIPPED:
      return `Shipped ${formatTime(order.shipTime)}.`;
    case OrderState.CANCELLED:
      return "Cancelled: do not ship.";
    default:
      return "Waiting for its card payment: do not ship yet.";
  }
}
