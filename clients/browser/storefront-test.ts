// The pages in a real browser: Debian's Chromium, driven by playwright-core.
//
//   npm run test:browser -- <web url> <screenshot dir>
//
// tests/api/browser.rs runs it against a server it started with the web
// pages on, the development secret (so /dev/token hands out tokens), card
// payments, and email to an SMTP sink; the Rust test checks the emails
// afterwards, with the order ids this script prints on its last line:
//
//   RESULT {"customer":"ada","paid":"<id>","declined":"<id>","cancelled":"<id>"}
//
// The catalog must hold "Espresso Machine" (found by "espr") and "Milk Jug"
// (found by "milk"), in one currency, with a few units in stock.
//
// What it does, as people would: a page without a token searches and reads
// why it cannot; ada signs in, searches, adds two products (one by
// keyboard), checks out with pm_card_visa and watches the order become
// PAID; checks out again with pm_card_chargeDeclined and sees the decline;
// the warehouse opens the pick list, the paid order's lines and address,
// and ships it; ada's history shows it SHIPPED; a third order, paid, is
// cancelled from the history. Besides: an origin that is not allowed gets
// no CORS headers from the gRPC-Web endpoint, and every form control has a
// label. Screenshots of each page go to <screenshot dir>.
//
// CHROMIUM names the browser (default /usr/bin/chromium; the Rust test
// passes what scripts/install-chromium printed).
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

const [webUrl, screenshotDir] = process.argv.slice(2).filter((a) => a !== "--");
if (!webUrl || !screenshotDir) {
  console.error("usage: npm run test:browser -- <web url> <screenshot dir>");
  process.exit(2);
}
const web = webUrl.replace(/\/$/, "");
const CUSTOMER = "ada";
const EMAIL = "ada@example.com";
/** How long the saga may take to pay or decline an order (it takes about a second). */
const SAGA_MS = 20_000;

/** Fails the test with `message`. */
function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

const started = Date.now();
function step(text: string) {
  console.log(`browser test: ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s  ${text}`);
}

async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}

/** Every input, select and textarea of the page has a label people (and screen readers) see. */
async function checkLabels(page: Page) {
  const unlabelled = await page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLInputElement>("input, select, textarea"))
      .filter((e) => e.type !== "hidden" && e.labels?.length === 0 && !e.getAttribute("aria-label"))
      .map((e) => e.id || e.name),
  );
  check(unlabelled.length === 0, `form controls without a label on ${page.url()}: ${unlabelled.join(", ")}`);
}

/** The gRPC-Web endpoint answers CORS for the page's own origin only. */
async function checkCors(grpcWebUrl: string) {
  const url = `${grpcWebUrl.replace(/\/$/, "")}/orders.v1.CatalogService/SearchProducts`;
  const preflight = (origin: string) =>
    fetch(url, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type,x-grpc-web,x-user-agent",
      },
    });
  const allowed = await preflight(new URL(web).origin);
  check(
    allowed.headers.get("access-control-allow-origin") === new URL(web).origin,
    `the page's own origin ${new URL(web).origin} is not allowed by CORS (preflight answered ${allowed.status})`,
  );
  const stranger = "http://not-allowed.example";
  const refused = await preflight(stranger);
  const corsHeaders = [...refused.headers.keys()].filter((k) => k.startsWith("access-control-"));
  check(corsHeaders.length === 0, `a preflight from ${stranger} got CORS headers: ${corsHeaders.join(", ")}`);
  const post = await fetch(url, {
    method: "POST",
    headers: { origin: stranger, "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
    body: new Uint8Array([0, 0, 0, 0, 0]),
  });
  check(
    post.headers.get("access-control-allow-origin") === null,
    `a call from ${stranger} got access-control-allow-origin: ${post.headers.get("access-control-allow-origin")}`,
  );
}

/** Searches the storefront for `query` and waits for `name` among the results. */
async function search(page: Page, query: string, name: string) {
  await page.getByLabel("Search the catalog").fill(query);
  await page.getByRole("heading", { name, exact: true }).waitFor();
}

async function fillCheckout(page: Page, paymentLabel: string) {
  await page.getByLabel("Full name").fill("Ada Lovelace");
  await page.getByLabel("Street and number").fill("12 Analytical Street");
  await page.getByLabel("Postal code").fill("10115");
  await page.getByLabel("City").fill("Berlin");
  await page.getByLabel("Country code").fill("DE");
  await page.getByLabel("Email for the confirmation").fill(EMAIL);
  await page.getByLabel(paymentLabel).check();
}

/** Places the order in the cart and waits until its progress shows `state`; returns its id. */
async function placeOrder(page: Page, state: string): Promise<string> {
  await page.getByRole("button", { name: "Place order" }).click();
  const progress = page.locator("#progress");
  await progress.locator(`[data-testid="progress-state"]`, { hasText: state }).waitFor({ timeout: SAGA_MS });
  const orderId = await progress.getAttribute("data-order-id");
  check(orderId, "the progress section names no order");
  return orderId;
}

/** The order card of `orderId` in the storefront's history. */
const historyCard = (page: Page, orderId: string) => page.locator(`#history-orders article[data-order-id="${orderId}"]`);

async function run(context: BrowserContext) {
  const config = (await (await fetch(`${web}/config.json`)).json()) as { grpcWebUrl: string; auth: string };
  check(config.auth === "development", `the server must run with the development secret; /config.json says auth ${config.auth}`);

  step("an origin that is not allowed gets no CORS headers");
  await checkCors(config.grpcWebUrl);

  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));

  step("a page without a token is told, in words, that it is not signed in");
  await page.goto(`${web}/`);
  await checkLabels(page);
  await page.getByLabel("Search the catalog").fill("espr");
  const refused = page.locator("#search-error");
  await refused.filter({ hasText: "You are not signed in" }).waitFor();
  const words = (await refused.textContent()) ?? "";
  check(!/UNAUTHENTICATED|TOKEN_MISSING|\[unauthenticated\]/i.test(words), `a raw code shown to people: ${words}`);
  await screenshot(page, "storefront-signed-out");

  step(`${CUSTOMER} signs in and fills the cart`);
  await page.getByLabel("Your name").fill(CUSTOMER);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("signed-in-as").filter({ hasText: CUSTOMER }).waitFor();
  await search(page, "espr", "Espresso Machine");
  await page.getByRole("button", { name: "Add Espresso Machine to the cart" }).click();
  // The second product by keyboard alone: from the search box, Tab reaches
  // the first result's button, Enter adds it.
  await search(page, "milk", "Milk Jug");
  await page.getByLabel("Search the catalog").focus();
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => document.activeElement?.getAttribute("aria-label"));
  check(focused === "Add Milk Jug to the cart", `Tab from the search box reached ${focused}, not the first result's button`);
  await page.keyboard.press("Enter");
  await page.locator("#cart-lines li", { hasText: "Milk Jug" }).waitFor();
  await page.getByLabel("Quantity of Milk Jug").fill("2");
  await page.getByLabel("Quantity of Milk Jug").press("Tab");
  check((await page.locator("#cart-lines li").count()) === 2, "the cart does not hold two products");
  await fillCheckout(page, "Visa test card (pays)");
  await screenshot(page, "storefront-cart");

  step("checkout with pm_card_visa: the order becomes PAID without a reload");
  const paid = await placeOrder(page, "Paid");
  await page.locator("#progress-status", { hasText: "is paid" }).waitFor();
  await historyCard(page, paid).waitFor();
  await screenshot(page, "storefront-paid");

  step("checkout with pm_card_chargeDeclined: the decline is shown");
  await search(page, "milk", "Milk Jug");
  await page.getByRole("button", { name: "Add Milk Jug to the cart" }).click();
  await page.getByLabel("Test card that is declined").check();
  const declined = await placeOrder(page, "Cancelled");
  await page.locator("#progress-steps", { hasText: "Payment declined: Your card was declined." }).waitFor();
  await screenshot(page, "storefront-declined");

  step("the warehouse ships the paid order");
  const warehouse = await context.newPage();
  warehouse.on("pageerror", (e) => pageErrors.push(e.message));
  await warehouse.goto(`${web}/warehouse`);
  await warehouse.getByRole("button", { name: "Sign in as the warehouse" }).click();
  await checkLabels(warehouse);
  const pick = warehouse.locator(`#picklist-orders li[data-order-id="${paid}"]`);
  await pick.waitFor();
  check(
    (await warehouse.locator(`#picklist-orders li[data-order-id="${declined}"]`).count()) === 0,
    "the declined order is on the pick list",
  );
  await pick.getByRole("button").click();
  const details = warehouse.locator("#order-details");
  await details.getByText("12 Analytical Street").waitFor();
  for (const product of ["Espresso Machine", "Milk Jug"]) await details.getByText(product).waitFor();
  await screenshot(warehouse, "warehouse-order");
  await warehouse.getByRole("button", { name: "Mark as shipped" }).click();
  await warehouse.getByTestId("order-state").filter({ hasText: "Shipped" }).waitFor();
  await pick.waitFor({ state: "detached" });
  await screenshot(warehouse, "warehouse-shipped");
  await warehouse.close();

  step(`${CUSTOMER}'s history shows the order SHIPPED`);
  await page.reload();
  await historyCard(page, paid).locator(".badge", { hasText: "Shipped" }).waitFor();
  await historyCard(page, declined).locator(".badge", { hasText: "Cancelled" }).waitFor();

  step("a third order, paid, is cancelled from the history");
  await search(page, "espr", "Espresso Machine");
  await page.getByRole("button", { name: "Add Espresso Machine to the cart" }).click();
  await fillCheckout(page, "Mastercard test card (pays)");
  const cancelled = await placeOrder(page, "Paid");
  const card = historyCard(page, cancelled);
  await card.getByRole("button", { name: /^Cancel order/ }).click();
  await card.getByRole("button", { name: "Yes, cancel it" }).click();
  await page.locator("#history-status", { hasText: "Your payment will be refunded in full." }).waitFor();
  await historyCard(page, cancelled).locator(".badge", { hasText: "Cancelled" }).waitFor();
  await page.locator("#history-heading").scrollIntoViewIfNeeded();
  await screenshot(page, "storefront-history");

  step("the storefront on a phone");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await historyCard(page, paid).waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
  await search(page, "espr", "Espresso Machine");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  check(overflow <= 0, `the storefront is ${overflow}px wider than a phone's screen`);
  await page.screenshot({ path: join(screenshotDir, "storefront-phone.png") });

  check(pageErrors.length === 0, `errors in the pages: ${pageErrors.join("; ")}`);
  console.log(`RESULT ${JSON.stringify({ customer: CUSTOMER, email: EMAIL, paid, declined, cancelled })}`);
}

async function main() {
  mkdirSync(screenshotDir, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), "orders-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
    locale: "en-GB",
  });
  context.setDefaultTimeout(10_000);
  try {
    await run(context);
    step(`passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    for (const [i, page] of context.pages().entries()) {
      await page.screenshot({ path: join(screenshotDir, `failure-${i}.png`), fullPage: true }).catch(() => {});
    }
    throw error;
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`browser test failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
