// The warehouse: the pick list (ListOrders of one state, oldest first),
// an order's lines and address, and shipping it.
import { createApi } from "../api";
import { loadConfig } from "../config";
import { byId, say } from "../dom";
import { mountSignIn } from "../signin";
import { mountOrderDetails } from "./order-details";
import { mountPickList } from "./picklist";

async function main() {
  const config = await loadConfig();
  let pickList: { refresh(): Promise<void> } | undefined;
  const signIn = mountSignIn(byId("sign-in"), config, "warehouse", () => void pickList?.refresh());
  const api = createApi(config, () => signIn.current()?.token);

  const details = mountOrderDetails(api, () => void pickList?.refresh());
  pickList = mountPickList(api, (orderId) => details.open(orderId));
  await pickList.refresh();
}

main().catch((e: unknown) => say(byId("page-problem"), e instanceof Error ? e.message : String(e)));
