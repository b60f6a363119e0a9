// Checkout: the shipping address, an email for the confirmation and a test
// payment method; CreateOrder with a request_id that stays the same while
// the same order is retried (a lost answer never places it twice).
import { create } from "@bufbuild/protobuf";
import { newRequestId, type Api } from "../api";
import { AddressSchema } from "../../../gen/orders/v1/address_pb";
import type { Order } from "../../../gen/orders/v1/orders_pb";
import { byId, h, say, whileBusy } from "../dom";
import { describeError } from "../errors";
import type { Session } from "../session";
import type { Cart } from "./cart";

/** The development processor's test methods (Stripe's), and paying on delivery. */
const PAYMENT_METHODS = [
  { value: "pm_card_visa", label: "Visa test card (pays)" },
  { value: "pm_card_mastercard", label: "Mastercard test card (pays)" },
  { value: "pm_card_chargeDeclined", label: "Test card that is declined" },
  { value: "pm_card_chargeDeclinedInsufficientFunds", label: "Test card without funds (declined)" },
  { value: "", label: "Pay on delivery" },
];

/** The request's fields as the form labels them, for error messages. */
const FIELD_LABELS: Record<string, string> = {
  customer_id: "Your name",
  customer_email: "Email",
  payment_method: "Payment",
  line_items: "Cart",
  "shipping_address.recipient": "Full name",
  "shipping_address.line1": "Street and number",
  "shipping_address.line2": "Flat, floor, c/o",
  "shipping_address.city": "City",
  "shipping_address.region": "Region",
  "shipping_address.postal_code": "Postal code",
  "shipping_address.country_code": "Country code",
};

/** Wires the checkout form; `placed` hears every order placed. */
export function mountCheckout(
  api: Api,
  cart: Cart,
  session: () => Session | undefined,
  needSignIn: () => void,
  placed: (order: Order) => void,
): void {
  const form = byId<HTMLFormElement>("checkout-form");
  const error = byId("checkout-error");
  const submit = byId<HTMLButtonElement>("checkout-submit");
  const methods = byId<HTMLFieldSetElement>("payment-methods");

  methods.append(
    ...PAYMENT_METHODS.map((method, i) => {
      const id = `payment-${method.value || "on-delivery"}`;
      return h(
        "div",
        { class: "choice" },
        h("input", { type: "radio", id, name: "paymentMethod", value: method.value, checked: i === 0 }),
        h("label", { for: id }, method.label, method.value ? h("code", {}, ` ${method.value}`) : null),
      );
    }),
  );

  // One request_id per order attempt: kept while the same order is sent
  // again, replaced as soon as the form or the cart changes.
  let requestId: string | undefined;
  form.addEventListener("input", () => (requestId = undefined));
  cart.onChange(() => (requestId = undefined));

  const field = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value.trim();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say(error, "");
    const customer = session();
    if (!customer) {
      say(error, "Sign in first (at the top of the page): your order is placed under your name.");
      return needSignIn();
    }
    if (cart.lines.length === 0) {
      say(error, "Your cart is empty: search for products and add them first.");
      return byId("search-query").focus();
    }
    const missing = Array.from(form.querySelectorAll<HTMLInputElement>("input[required]")).filter((i) => !i.checkValidity());
    if (missing.length) {
      const labels = missing.map((i) => form.querySelector(`label[for="${i.id}"]`)?.textContent ?? i.name);
      say(error, `Please fill in: ${labels.join(", ")}.`);
      return missing[0].focus();
    }

    requestId ??= newRequestId();
    await whileBusy(submit, async () => {
      try {
        const response = await api.orders.createOrder({
          requestId,
          customerId: customer.subject,
          customerEmail: field("email"),
          paymentMethod: (form.elements.namedItem("paymentMethod") as RadioNodeList).value,
          lineItems: cart.lines.map((l) => ({ productId: l.productId, quantity: l.quantity })),
          shippingAddress: create(AddressSchema, {
            recipient: field("recipient"),
            line1: field("line1"),
            line2: field("line2"),
            city: field("city"),
            region: field("region"),
            postalCode: field("postalCode"),
            countryCode: field("countryCode").toUpperCase(),
          }),
        });
        requestId = undefined;
        cart.clear();
        if (response.order) placed(response.order);
      } catch (e) {
        say(error, describeError(e, { productNames: cart.names(), fieldLabels: FIELD_LABELS }));
      }
    });
  });
}
