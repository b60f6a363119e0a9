// The cart: products and quantities, kept in sessionStorage so that a
// reload keeps it. Prices are the catalog's at the time of adding; the
// order takes the current ones (the server copies them).
import type { Money } from "../../../gen/orders/v1/money_pb";
import type { Product } from "../../../gen/orders/v1/catalog_pb";
import { byId, h } from "../dom";
import { formatMoney, fromNanos, sum, times, toNanos } from "../money";

export interface CartLine {
  productId: string;
  sku: string;
  name: string;
  price: Money;
  /** The stock when the product was added: the most one can ask for. */
  stock: number;
  quantity: number;
}

/** The most units of one product an order line may have. */
const MAX_QUANTITY = 1000;
const STORAGE_KEY = "orders.cart";

export class Cart {
  lines: CartLine[] = [];
  private listeners: ((message: string) => void)[] = [];

  constructor() {
    try {
      const stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? "[]") as (Omit<CartLine, "price"> & {
        currencyCode: string;
        priceNanos: string;
      })[];
      this.lines = stored.map(({ currencyCode, priceNanos, ...line }) => ({
        ...line,
        price: fromNanos(currencyCode, BigInt(priceNanos)),
      }));
    } catch {
      this.lines = [];
    }
  }

  /** `listener(message)` after every change; `message` says what changed. */
  onChange(listener: (message: string) => void): void {
    this.listeners.push(listener);
  }

  add(product: Product): void {
    const line = this.lines.find((l) => l.productId === product.productId);
    const stock = Math.min(Number(product.stock), MAX_QUANTITY);
    if (line) {
      line.stock = stock;
      line.quantity = Math.min(line.quantity + 1, Math.max(stock, 1));
      return this.changed(`${product.name}: ${line.quantity} in your cart.`);
    }
    this.lines.push({
      productId: product.productId,
      sku: product.sku,
      name: product.name,
      price: product.price!,
      stock,
      quantity: 1,
    });
    this.changed(`${product.name} added to your cart.`);
  }

  setQuantity(productId: string, quantity: number): void {
    const line = this.lines.find((l) => l.productId === productId);
    if (!line || !Number.isInteger(quantity) || quantity < 1) return;
    line.quantity = Math.min(quantity, MAX_QUANTITY);
    this.changed(`${line.name}: ${line.quantity} in your cart.`);
  }

  remove(productId: string): void {
    const line = this.lines.find((l) => l.productId === productId);
    this.lines = this.lines.filter((l) => l.productId !== productId);
    if (line) this.changed(`${line.name} removed from your cart.`);
  }

  clear(): void {
    this.lines = [];
    this.changed("");
  }

  /** The total, or undefined for an empty cart or one of several currencies. */
  total(): Money | undefined {
    return this.lines.length ? sum(this.lines.map((l) => times(l.price, l.quantity))) : undefined;
  }

  /** Product names by id, for error messages about products. */
  names(): Map<string, string> {
    return new Map(this.lines.map((l) => [l.productId, l.name]));
  }

  private changed(message: string): void {
    const stored = this.lines.map(({ price, ...line }) => ({
      ...line,
      currencyCode: price.currencyCode,
      priceNanos: toNanos(price).toString(),
    }));
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(stored));
    for (const listener of this.listeners) listener(message);
  }
}

/** Shows `cart` in the page's cart section, and keeps it shown. */
export function mountCart(cart: Cart): void {
  const list = byId<HTMLUListElement>("cart-lines");
  const total = byId("cart-total");
  const status = byId("cart-status");

  const render = () => {
    list.replaceChildren(...cart.lines.map(lineItem));
    const amount = cart.total();
    if (cart.lines.length === 0) total.textContent = "Your cart is empty: search for products and add them.";
    else if (amount) total.replaceChildren("Total: ", h("strong", { "data-testid": "cart-total" }, formatMoney(amount)));
    else total.textContent = "Your cart holds products priced in different currencies.";
  };

  const lineItem = (line: CartLine) => {
    const id = `cart-quantity-${line.productId}`;
    const quantity = h("input", {
      id,
      type: "number",
      inputmode: "numeric",
      min: 1,
      max: Math.max(1, Math.min(line.stock, MAX_QUANTITY)),
      value: line.quantity,
      class: "quantity",
    });
    quantity.addEventListener("change", () => cart.setQuantity(line.productId, quantity.valueAsNumber));
    return h(
      "li",
      { class: "cart-line" },
      h("span", { class: "name" }, line.name),
      h("label", { for: id, class: "visually-hidden" }, `Quantity of ${line.name}`),
      quantity,
      h("span", { class: "price" }, formatMoney(times(line.price, line.quantity))),
      h(
        "button",
        {
          type: "button",
          class: "secondary small",
          "aria-label": `Remove ${line.name}`,
          onclick: () => {
            cart.remove(line.productId);
            // The button is gone: keep the focus in the cart.
            (list.querySelector<HTMLElement>("input") ?? byId("cart-heading")).focus();
          },
        },
        "Remove",
      ),
    );
  };

  cart.onChange((message) => {
    render();
    status.textContent = message;
  });
  render();
}
