//! Authorization: the README's table of who may call what is the policy in
//! `src/auth/policy.rs`, and the server behaves as the table says in every
//! cell.
//!
//! Each cell is called with a valid request through a secured server:
//! `any` succeeds for a customer who is not the caller; `own` succeeds for
//! the caller's own customer id and is refused for anyone else's
//! (PERMISSION_DENIED, or NOT_FOUND for an order read by id); `–` is
//! PERMISSION_DENIED / `ROLE_NOT_ALLOWED` and changes nothing. A token with
//! no role of this service, and no token at all, are refused everywhere.

use orders::{
    auth::policy::{Access, Role, access},
    proto::{self, Method, payments::v1 as pb},
};
use tonic::{Code, Status};

use crate::{
    api_calls::{get_order, place_order, product_id},
    app::{Clients, TestApp, spawn_app_with_payments},
    assertions::{assert_error, assert_error_in, assert_not_found},
    direct_sql::{count_rows, query_n},
    local_machine::repo,
    payments::{authorize_request, cancel_request as cancel_payment, capture_request, refund_request},
    requests::{cancel_request, order_request, product_request},
    tokens::{self, ALL_ROLES, token},
};

/// A secured app running the orders and the payment services, each on a
/// fresh database of its own.
async fn spawn_secured_app() -> TestApp {
    spawn_app_with_payments(tokens::require_tokens).await
}

const TABLE_START: &str = "<!-- access-table:start -->";
const TABLE_END: &str = "<!-- access-table:end -->";

/// The README's table: for each method, the access of each role in
/// [`Role::ALL`] order.
fn readme_table() -> Vec<(Method, Vec<Access>)> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme.find(TABLE_START).expect("README has the access table") + TABLE_START.len();
    let end = readme[start..].find(TABLE_END).expect("the table ends") + start;
    let mut lines = readme[start..end].lines().filter(|l| l.starts_with('|'));
    let header: Vec<String> = cells(lines.next().expect("a header row"));
    let roles: Vec<String> = Role::ALL.iter().map(|r| format!("`{}`", r.name())).collect();
    assert_eq!(header[1..], roles[..], "the table's columns are the roles, in order");
    lines
        .skip(1) // the |---| row
        .map(|line| {
            let cells = cells(line);
            let name = format!(".{}", cells[0].trim_matches('`'));
            let method = (Method::ALL.into_iter().find(|m| m.path().ends_with(&name)))
                .unwrap_or_else(|| panic!("no method {name}"));
            (method, cells[1..].iter().map(|c| parse_access(c)).collect())
        })
        .collect()
}

fn cells(line: &str) -> Vec<String> {
    line.trim()
        .trim_matches('|')
        .split('|')
        .map(|c| c.trim().to_owned())
        .collect()
}

fn parse_access(cell: &str) -> Access {
    match cell {
        "any" => Access::Any,
        "own" => Access::Own,
        "–" => Access::Denied,
        other => panic!("unknown access {other:?} in the README table"),
    }
}

#[test]
fn the_readme_table_is_the_policy_for_every_method_and_role() {
    let table = readme_table();
    let methods: Vec<Method> = table.iter().map(|(m, _)| *m).collect();
    assert_eq!(methods, Method::ALL, "one row per RPC, in the API's order");
    for (method, row) in table {
        for (role, documented) in Role::ALL.into_iter().zip(row) {
            assert_eq!(access(role, method), documented, "{role} × {method:?}");
        }
    }
}

/// Someone whose data the callers in the matrix do not own.
const STRANGER: &str = "zoe";

/// Products and a way to make orders, set up with the all-roles token.
struct Fixture {
    product: String,
}

impl Fixture {
    async fn new(app: &TestApp) -> Fixture {
        Fixture {
            product: product_id(app, "MATRIX-1", 1_000).await,
        }
    }

    /// A fresh placed order of `customer`.
    async fn order_of(&self, app: &TestApp, customer: &str) -> String {
        place_order(app, customer, &[(&self.product, 1)]).await.order_id
    }

    /// A fresh authorized payment of `customer`, captured if `captured`,
    /// made with a token of every role.
    async fn payment_of(&self, app: &TestApp, customer: &str, captured: bool) -> pb::Payment {
        let mut admin = app.with_token(&token("admin", &ALL_ROLES)).payments;
        let mut request = authorize_request(uuid::Uuid::new_v4(), "pm_card_visa", 10);
        request.customer_id = customer.to_owned();
        let payment = admin
            .authorize_payment(request)
            .await
            .unwrap()
            .into_inner()
            .payment
            .unwrap();
        if !captured {
            return payment;
        }
        let capture = capture_request(&payment.payment_id, None);
        admin
            .capture_payment(capture)
            .await
            .unwrap()
            .into_inner()
            .payment
            .unwrap()
    }
}

/// Calls a payment `method` as `clients` for `customer`'s payment (or
/// order). ListPayments answers someone else's order with an empty list,
/// which stands here for NOT_FOUND: the caller saw nothing.
async fn call_payments(
    app: &TestApp,
    fx: &Fixture,
    clients: &Clients,
    method: Method,
    customer: &str,
) -> Result<(), Status> {
    let mut payments = clients.payments.clone();
    let payment = fx.payment_of(app, customer, method == Method::RefundPayment).await;
    let id = payment.payment_id.clone();
    match method {
        Method::AuthorizePayment => {
            let mut request = authorize_request(uuid::Uuid::new_v4(), "pm_card_visa", 10);
            request.customer_id = customer.to_owned();
            payments.authorize_payment(request).await.map(drop)
        }
        Method::CapturePayment => payments.capture_payment(capture_request(&id, None)).await.map(drop),
        Method::CancelPayment => payments.cancel_payment(cancel_payment(&id)).await.map(drop),
        Method::RefundPayment => payments.refund_payment(refund_request(&id, None)).await.map(drop),
        Method::GetPayment => payments
            .get_payment(pb::GetPaymentRequest { payment_id: id })
            .await
            .map(drop),
        Method::ListPayments => {
            let request = pb::ListPaymentsRequest {
                order_id: payment.order_id,
            };
            let listed = payments.list_payments(request).await?.into_inner().payments;
            match listed.is_empty() {
                true => Err(Status::not_found("the list is empty")),
                false => Ok(()),
            }
        }
        other => panic!("{other:?} is not a payment method"),
    }
}

/// Calls `method` as `clients` with a valid request that acts for
/// `customer` (its customer id, or an order it owns).
async fn call(app: &TestApp, fx: &Fixture, clients: &Clients, method: Method, customer: &str) -> Result<(), Status> {
    let (mut orders, mut catalog) = (clients.orders.clone(), clients.catalog.clone());
    match method {
        Method::CreateOrder => orders
            .create_order(order_request(customer, &[(&fx.product, 1)]))
            .await
            .map(drop),
        Method::GetOrder => {
            let order_id = fx.order_of(app, customer).await;
            orders.get_order(proto::GetOrderRequest { order_id }).await.map(drop)
        }
        Method::GetOrderHistory => {
            let request = proto::GetOrderHistoryRequest {
                customer_id: customer.to_owned(),
                ..Default::default()
            };
            orders.get_order_history(request).await.map(drop)
        }
        Method::CancelOrder => {
            let order_id = fx.order_of(app, customer).await;
            orders
                .cancel_order(cancel_request(&order_id, customer, ""))
                .await
                .map(drop)
        }
        Method::ShipOrder => {
            let order_id = fx.order_of(app, customer).await;
            orders.ship_order(proto::ShipOrderRequest { order_id }).await.map(drop)
        }
        Method::ListOrders => {
            let request = proto::ListOrdersRequest {
                state: proto::OrderState::Placed.into(),
                ..Default::default()
            };
            orders.list_orders(request).await.map(drop)
        }
        Method::AuthorizePayment
        | Method::CapturePayment
        | Method::CancelPayment
        | Method::RefundPayment
        | Method::GetPayment
        | Method::ListPayments => call_payments(app, fx, clients, method, customer).await,
        Method::CreateProduct => {
            let sku = format!("SKU-{}", uuid::Uuid::new_v4().simple());
            catalog
                .create_product(product_request(&sku, (1, 0, "EUR"), 1))
                .await
                .map(drop)
        }
        Method::GetProduct => {
            let request = proto::GetProductRequest {
                product_id: fx.product.clone(),
            };
            catalog.get_product(request).await.map(drop)
        }
        Method::ListProducts => catalog
            .list_products(proto::ListProductsRequest::default())
            .await
            .map(drop),
        Method::RestockProduct => {
            let request = proto::RestockProductRequest {
                product_id: fx.product.clone(),
                quantity: 1,
                request_id: String::new(),
            };
            catalog.restock_product(request).await.map(drop)
        }
        Method::SearchProducts => {
            let request = proto::SearchProductsRequest {
                query: "matrix".into(),
                ..Default::default()
            };
            catalog.search_products(request).await.map(drop)
        }
        Method::UpdateProduct => {
            let product = proto::Product {
                product_id: fx.product.clone(),
                description: format!("Changed by {customer}"),
                ..Default::default()
            };
            let request = proto::UpdateProductRequest {
                product: Some(product),
                ..Default::default()
            };
            catalog.update_product(request).await.map(drop)
        }
        // Archived, then brought back: the matrix's product stays orderable.
        Method::ArchiveProduct | Method::UnarchiveProduct => {
            let product_id = fx.product.clone();
            let archive = proto::ArchiveProductRequest {
                product_id: product_id.clone(),
                ..Default::default()
            };
            let archived = catalog.archive_product(archive).await.map(drop);
            let unarchive = proto::UnarchiveProductRequest {
                product_id,
                ..Default::default()
            };
            archived.and(catalog.unarchive_product(unarchive).await.map(drop))
        }
        Method::ListAuditEvents => (clients.audit.clone())
            .list_audit_events(proto::ListAuditEventsRequest::default())
            .await
            .map(drop),
    }
}

/// The subject of the matrix's token for `role` (a customer's is its id).
fn subject(role: Role) -> &'static str {
    match role {
        Role::Customer => "alice",
        Role::Warehouse => "dock-7",
        Role::CatalogAdmin => "merchandiser",
        Role::Service => "checkout",
        Role::Auditor => "inspector",
    }
}

#[tokio::test]
async fn every_cell_of_the_table_behaves_as_documented() {
    let app = spawn_secured_app().await;
    let fx = Fixture::new(&app).await;
    for (method, row) in readme_table() {
        for (role, documented) in Role::ALL.into_iter().zip(row) {
            let me = subject(role);
            let clients = app.with_token(&token(me, &[role.name()]));
            let cell = format!("{role} × {method:?}");
            match documented {
                Access::Any => {
                    let result = call(&app, &fx, &clients, method, STRANGER).await;
                    assert!(result.is_ok(), "{cell} for {STRANGER}: {result:?}");
                }
                Access::Own => {
                    let result = call(&app, &fx, &clients, method, me).await;
                    assert!(result.is_ok(), "{cell} for itself: {result:?}");
                    let status = call(&app, &fx, &clients, method, STRANGER).await.unwrap_err();
                    assert_refused_for_someone_else(&status, method, &cell);
                }
                Access::Denied => {
                    let status = call(&app, &fx, &clients, method, me).await.unwrap_err();
                    assert_error(&status, Code::PermissionDenied, "ROLE_NOT_ALLOWED");
                }
            }
        }
    }
}

/// Asking for someone else is PERMISSION_DENIED; reading someone else's
/// order by id is NOT_FOUND, as if it did not exist.
fn assert_refused_for_someone_else(status: &Status, method: Method, cell: &str) {
    match method {
        Method::GetOrder => {
            assert_eq!(status.code(), Code::NotFound, "{cell}: {status:?}");
            assert_error(status, Code::NotFound, "ORDER_NOT_FOUND");
        }
        Method::GetPayment => {
            assert_error_in("payments", status, Code::NotFound, "PAYMENT_NOT_FOUND");
        }
        Method::ListPayments => {
            assert_eq!(
                (status.code(), status.message()),
                (Code::NotFound, "the list is empty"),
                "{cell}"
            );
        }
        _ => {
            assert_eq!(status.code(), Code::PermissionDenied, "{cell}: {status:?}");
            assert_error(status, Code::PermissionDenied, "CUSTOMER_MISMATCH");
        }
    }
}

#[tokio::test]
async fn a_customer_cancelling_someone_elses_order_in_its_own_name_finds_nothing() {
    let app = spawn_secured_app().await;
    let fx = Fixture::new(&app).await;
    let zoes = fx.order_of(&app, STRANGER).await;
    let alice = app.with_token(&token("alice", &["customer"]));
    let status = (alice.orders.clone())
        .cancel_order(cancel_request(&zoes, "alice", ""))
        .await
        .unwrap_err();
    assert_not_found(&status, "ORDER_NOT_FOUND", "orders.v1.Order", &zoes);
    assert_eq!(get_order(&app, &zoes).await.state(), proto::OrderState::Placed);
}

#[tokio::test]
async fn denied_calls_change_nothing_and_say_which_role_is_needed() {
    let app = spawn_secured_app().await;
    let fx = Fixture::new(&app).await;
    let order = fx.order_of(&app, "alice").await;
    let (products, audit) = (
        count_rows(&app, "products").await,
        count_rows(&app, "audit_events").await,
    );
    let alice = app.with_token(&token("alice", &["customer"]));
    let status = (alice.orders.clone())
        .ship_order(proto::ShipOrderRequest {
            order_id: order.clone(),
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::PermissionDenied, "ROLE_NOT_ALLOWED");
    assert_eq!(
        status.message(),
        "orders.v1.OrderService/ShipOrder needs the role warehouse; the token grants only customer"
    );
    let status = call(&app, &fx, &alice, Method::CreateProduct, "alice")
        .await
        .unwrap_err();
    assert_eq!(
        status.message(),
        "orders.v1.CatalogService/CreateProduct needs the role catalog-admin; the token grants only customer"
    );
    assert_eq!(get_order(&app, &order).await.state(), proto::OrderState::Placed);
    assert_eq!(count_rows(&app, "products").await, products);
    assert_eq!(count_rows(&app, "audit_events").await, audit);
}

#[tokio::test]
async fn a_token_without_a_role_of_this_service_and_no_token_are_refused_everywhere() {
    // One anonymous call per method is more failed authentications than one
    // peer's burst (20): without the limit (failed_auth.rs tests it), each
    // call shows its own refusal.
    let app = spawn_app_with_payments(|settings| {
        tokens::require_tokens(settings);
        settings.security.auth.auth_failure_rate = 0.0;
    })
    .await;
    let fx = Fixture::new(&app).await;
    let roleless = app.with_token(&token("mallory", &["admin", "root"]));
    let anonymous = app.without_token();
    for method in Method::ALL {
        let status = call(&app, &fx, &roleless, method, "mallory").await.unwrap_err();
        assert_error(&status, Code::PermissionDenied, "ROLE_NOT_ALLOWED");
        assert!(
            status.message().ends_with("the token grants no role of this service"),
            "{status:?}"
        );
        let status = call(&app, &fx, &anonymous, method, "mallory").await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "TOKEN_MISSING");
    }
}

#[tokio::test]
async fn a_token_with_several_roles_gets_the_widest_and_the_audit_names_it() {
    let app = spawn_secured_app().await;
    let fx = Fixture::new(&app).await;
    let both = app.with_token(&token("alice", &["customer", "service"]));
    // As a service it may act for Zoe; the change is recorded under that role.
    call(&app, &fx, &both, Method::CreateOrder, STRANGER).await.unwrap();
    let roles = "SELECT count(*) AS n FROM audit_events \
                 WHERE action = 'ORDER_CREATED' AND actor_subject = 'alice' AND actor_role = 'service'";
    assert_eq!(query_n(&app, roles).await, 1);
}
