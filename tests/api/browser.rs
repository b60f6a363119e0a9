//! The storefront and warehouse pages (`clients/web`, embedded in the
//! binary) in a real browser: `clients/browser/storefront-test.ts` drives
//! Debian's Chromium with playwright-core against the whole shop (orders,
//! payments and notifications in one test server, tokens required with the
//! development secret, so the pages sign in at `/dev/token`), then this test
//! checks through the API and at the SMTP sink what the pages did.
//!
//! The script searches, fills a cart, checks out with `pm_card_visa` (PAID)
//! and `pm_card_chargeDeclined` (declined), ships the paid order from the
//! warehouse page, sees it SHIPPED in the history and cancels a third order
//! there; it also checks that an origin that is not allowed gets no CORS
//! headers and that a page without a token shows the UNAUTHENTICATED error
//! as a sentence. Screenshots of each page go to `target/screenshots/`
//! (the README shows copies from `docs/screenshots/`); when the script
//! fails, `failure-<n>.png` there shows each page as it was.
//!
//! Chromium comes from `scripts/install-chromium` (on PATH, or Debian's
//! package), the npm packages of `clients/` from `scripts/node-env` (as for
//! the Node client's test; its lock keeps the two from installing at once).

use std::{path::PathBuf, time::Duration};

use orders::proto::{self, OrderState, PaymentStatus};
use serde_json::Value;
use tokio::process::Command;

use crate::{
    api_calls::stock_of,
    app::TestApp,
    local_machine::{path_printed_by, repo, run_to_success},
    requests::product_request,
    saga::spawn_paying_shop,
    tokens,
    web::serve_pages,
};

/// Installing Chromium from Debian downloads about 100 MB.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(900);
/// Generous: a cold `npm ci` downloads about 60 MB.
const NODE_ENV_TIMEOUT: Duration = Duration::from_secs(600);
/// The script takes about 15 s; Chromium's first start on a cold machine more.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(240);

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_buys_in_the_storefront_and_the_warehouse_ships_it() {
    let chromium = path_printed_by("scripts/install-chromium", INSTALL_TIMEOUT).await;
    let clients = path_printed_by("scripts/node-env", NODE_ENV_TIMEOUT).await;
    let shop = spawn_paying_shop(|settings| {
        tokens::require_tokens(settings);
        serve_pages(settings);
    })
    .await;
    let espresso = product(&shop.app, "ESP-1", "Espresso Machine", (249, 0), 5).await;
    let jug = product(&shop.app, "JUG-1", "Milk Jug", (14, 500_000_000), 20).await;
    product(&shop.app, "GRD-1", "Coffee Grinder", (89, 0), 3).await;

    let web = format!("http://{}", shop.app.web.expect("the app serves the web pages"));
    let screenshots = screenshot_dir();
    let mut script = Command::new("npm");
    script
        .current_dir(&clients)
        .args(["run", "--silent", "test:browser", "--", &web])
        .arg(&screenshots)
        .env("CHROMIUM", &chromium);
    let output = run_to_success(&mut script, BROWSER_TIMEOUT, "the browser test (clients/browser)").await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    let result = result_line(&stdout);
    let id = |key: &str| {
        result[key]
            .as_str()
            .unwrap_or_else(|| panic!("RESULT has no {key}"))
            .to_owned()
    };
    let (paid, declined, cancelled) = (id("paid"), id("declined"), id("cancelled"));

    // The paid order, as the pages placed and shipped it.
    let shipped = shop.get(&paid).await;
    let order = shipped.order.clone().unwrap();
    assert_eq!(
        (order.state(), payment_status(&order)),
        (OrderState::Shipped, PaymentStatus::Captured)
    );
    assert_eq!(
        (order.customer_id.as_str(), order.customer_email.as_str()),
        ("ada", "ada@example.com")
    );
    let lines: Vec<_> = (order.line_items.iter())
        .map(|l| (l.name.as_str(), l.quantity))
        .collect();
    assert_eq!(lines, [("Espresso Machine", 1), ("Milk Jug", 2)]);
    let address = order.shipping_address.clone().unwrap();
    assert_eq!(
        (
            address.recipient.as_str(),
            address.city.as_str(),
            address.country_code.as_str()
        ),
        ("Ada Lovelace", "Berlin", "DE")
    );
    assert_eq!(order.payment.as_ref().unwrap().payment_method, "pm_card_visa");
    let actors: Vec<_> = (shipped.state_history.iter())
        .map(|c| {
            let actor = c.actor.clone().unwrap_or_default();
            (c.to_state(), actor.subject, actor.role)
        })
        .collect();
    assert_eq!(
        actors.first(),
        Some(&(OrderState::Placed, "ada".to_owned(), "customer".to_owned()))
    );
    assert_eq!(
        actors.last(),
        Some(&(OrderState::Shipped, "warehouse".to_owned(), "warehouse".to_owned()))
    );

    // The declined one, and the one cancelled from the history (refunded).
    let declined_order = shop.get(&declined).await.order.unwrap();
    assert_eq!(
        (declined_order.state(), declined_order.cancel_reason.as_str()),
        (OrderState::Cancelled, "PAYMENT_DECLINED")
    );
    assert_eq!(declined_order.payment.clone().unwrap().decline_code, "card_declined");
    let refunded = shop
        .wait_for(&cancelled, OrderState::Cancelled, PaymentStatus::Refunded)
        .await;
    let refunded = refunded.order.unwrap();
    assert_eq!(refunded.cancel_reason, "Cancelled by the customer on the storefront");
    assert_eq!(refunded.payment.as_ref().unwrap().payment_method, "pm_card_mastercard");

    // Stock: only the shipped order's units are gone.
    assert_eq!(stock_of(&shop.app, &espresso).await, 4);
    assert_eq!(stock_of(&shop.app, &jug).await, 18);

    // The emails at the SMTP sink: each order's, in its order.
    let emails = shop.smtp.wait_for(9, 30).await;
    assert!(emails.iter().all(|e| e.recipients == ["ada@example.com"]));
    // An order's emails name it by the last 8 characters of its id.
    let short = |order_id: &str| order_id[order_id.len() - 8..].to_owned();
    let subjects_of = |order_id: &str| -> Vec<String> {
        let subjects = emails.iter().map(|e| e.header("Subject"));
        subjects.filter(|s| s.contains(&short(order_id))).collect()
    };
    let (p, d, c) = (short(&paid), short(&declined), short(&cancelled));
    assert_eq!(
        subjects_of(&paid),
        [
            format!("Your order {p} is confirmed"),
            format!("We received your payment for order {p}"),
            format!("Your order {p} is on its way"),
        ]
    );
    assert_eq!(
        subjects_of(&declined),
        [
            format!("Your order {d} is confirmed"),
            format!("Your order {d} was cancelled")
        ]
    );
    assert_eq!(
        subjects_of(&cancelled),
        [
            format!("Your order {c} is confirmed"),
            format!("We received your payment for order {c}"),
            format!("Your order {c} was cancelled"),
            format!("Your payment for order {c} was refunded"),
        ]
    );
    let confirmation = (emails.iter())
        .find(|e| e.header("Subject") == format!("Your order {p} is confirmed"))
        .unwrap()
        .part("text/plain");
    for says in ["Espresso Machine", "Milk Jug", "Ada Lovelace", "12 Analytical Street"] {
        assert!(
            confirmation.contains(says),
            "{says:?} not in the confirmation:\n{confirmation}"
        );
    }

    for page in [
        "storefront-signed-out",
        "storefront-cart",
        "storefront-paid",
        "storefront-declined",
        "warehouse-order",
        "warehouse-shipped",
        "storefront-history",
        "storefront-phone",
    ] {
        let file = screenshots.join(format!("{page}.png"));
        let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("no screenshot {}: {e}", file.display()));
        assert!(bytes.starts_with(b"\x89PNG"), "{} is not a PNG", file.display());
    }
}

/// A product `name` priced (units, nanos) EUR with `stock` units; its id.
async fn product(app: &TestApp, sku: &str, name: &str, price: (i64, i32), stock: i64) -> String {
    let mut request = product_request(sku, (price.0, price.1, "EUR"), stock);
    request.name = name.to_owned();
    request.description = format!("{name}, for the browser test.");
    let response = app
        .catalog
        .clone()
        .create_product(request)
        .await
        .expect("CreateProduct");
    response.into_inner().product.unwrap().product_id
}

fn payment_status(order: &proto::Order) -> PaymentStatus {
    order.payment.as_ref().map(|p| p.status()).unwrap_or_default()
}

/// The JSON on the script's `RESULT` line.
fn result_line(stdout: &str) -> Value {
    let line = (stdout.lines())
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("the browser test printed no RESULT line:\n{stdout}"));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("RESULT is not JSON ({e}): {line}"))
}

/// `target/screenshots` (under `CARGO_TARGET_DIR` when set), emptied.
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo().join("target"), PathBuf::from);
    let dir = target.join("screenshots");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creates {}: {e}", dir.display()));
    dir
}
