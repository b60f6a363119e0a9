// Search as you type: each keystroke (after a short pause) asks
// SearchProducts; an answer to an older query is dropped (its call is
// cancelled), so the results always match what the box says.
import type { Api } from "../api";
import type { Product } from "../../../gen/orders/v1/catalog_pb";
import { byId, h, say } from "../dom";
import { describeError, isCancelled } from "../errors";
import { formatMoney } from "../money";

/** How long typing must pause before a search is sent. */
const PAUSE_MS = 200;
const PAGE_SIZE = 10;

export function mountSearch(api: Api, addToCart: (product: Product) => void): void {
  const form = byId<HTMLFormElement>("search-form");
  const input = byId<HTMLInputElement>("search-query");
  const status = byId("search-status");
  const error = byId("search-error");
  const results = byId<HTMLUListElement>("search-results");
  const more = byId<HTMLButtonElement>("search-more");

  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: AbortController | undefined;
  let nextPageToken = "";
  let shown = 0;

  async function search(query: string, pageToken: string) {
    running?.abort();
    const controller = (running = new AbortController());
    try {
      const response = await api.catalog.searchProducts(
        { query, pageSize: PAGE_SIZE, pageToken },
        { signal: controller.signal },
      );
      if (controller.signal.aborted) return;
      say(error, "");
      const items = response.results.flatMap((r) => (r.product ? [result(r.product)] : []));
      if (pageToken) results.append(...items);
      else results.replaceChildren(...items);
      shown = (pageToken ? shown : 0) + items.length;
      nextPageToken = response.nextPageToken;
      more.hidden = nextPageToken === "";
      status.textContent =
        shown === 0
          ? `Nothing found for “${query}”.`
          : `${shown} product${shown === 1 ? "" : "s"} found for “${query}”${nextPageToken ? ", more below" : ""}.`;
    } catch (e) {
      if (isCancelled(e) || controller.signal.aborted) return;
      say(error, describeError(e));
      status.textContent = "";
    }
  }

  function result(product: Product) {
    const stock = Number(product.stock);
    const nameId = `product-${product.productId}`;
    return h(
      "li",
      { class: "product", "aria-labelledby": nameId },
      h("h3", { id: nameId }, product.name),
      h("p", { class: "sku" }, `SKU ${product.sku}`),
      product.description ? h("p", { class: "description" }, product.description) : null,
      h(
        "p",
        { class: "buy" },
        h("span", { class: "price" }, formatMoney(product.price)),
        h("span", { class: stock > 0 ? "stock" : "stock out" }, stock > 0 ? `${stock} in stock` : "Out of stock"),
        h(
          "button",
          {
            type: "button",
            "aria-label": `Add ${product.name} to the cart`,
            disabled: stock <= 0,
            onclick: () => addToCart(product),
          },
          "Add to cart",
        ),
      ),
    );
  }

  const clear = () => {
    running?.abort();
    results.replaceChildren();
    status.textContent = "";
    say(error, "");
    more.hidden = true;
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const query = input.value.trim();
    if (query === "") return clear();
    timer = setTimeout(() => search(query, ""), PAUSE_MS);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    const query = input.value.trim();
    if (query === "") return clear();
    void search(query, "");
  });
  more.addEventListener("click", () => {
    const query = input.value.trim();
    if (query && nextPageToken) void search(query, nextPageToken);
  });
}
