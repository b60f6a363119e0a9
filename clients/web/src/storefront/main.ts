// The storefront: search, cart, checkout, the order's progress, the order
// history. Each part is a module of its own; this wires them together.
import { createApi } from "../api";
import { loadConfig } from "../config";
import { byId, say } from "../dom";
import { mountSignIn } from "../signin";
import { Cart, mountCart } from "./cart";
import { mountCheckout } from "./checkout";
import { mountHistory } from "./history";
import { mountProgress } from "./progress";
import { mountSearch } from "./search";

async function main() {
  const config = await loadConfig();
  let history: { refresh(): Promise<void> } | undefined;
  const signIn = mountSignIn(byId("sign-in"), config, "customer", () => void history?.refresh());
  const api = createApi(config, () => signIn.current()?.token);

  const cart = new Cart();
  mountCart(cart);
  mountSearch(api, (product) => cart.add(product));
  const progress = mountProgress(api);
  history = mountHistory(api, () => signIn.current(), (order) => progress.changed(order));
  mountCheckout(api, cart, () => signIn.current(), () => signIn.focus(), (order) => {
    progress.track(order, () => void history?.refresh());
    void history?.refresh();
  });
  await history.refresh();
}

main().catch((e: unknown) => say(byId("page-problem"), e instanceof Error ? e.message : String(e)));
