//! One request of each kind, built from shared [`Fixtures`] and sent with a
//! deadline. A [`Caller`] owns its clients, random numbers and history
//! cursor, so callers share nothing but the read-only fixtures.
//!
//! Responses are decoded only as far as the load generator uses them
//! ([`Discarded`], [`PageToken`]): prost skips the other fields unread, as
//! pgbench throws rows away without building anything from them. On this
//! 2-core machine the client's CPU is taken from the server and PostgreSQL,
//! so a client that built every order it receives would measure itself.

use std::{future::Future, sync::Arc, time::Duration};

use http::uri::PathAndQuery;
use orders::proto::{
    Address, CreateOrderRequest, GetOrderHistoryRequest, GetOrderRequest, SearchProductsRequest,
    create_order_request::LineItem,
};
use rand::{Rng, SeedableRng, rngs::SmallRng};
use tonic::{Code, Request, Response, Status, client::Grpc, transport::Channel};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};
use tonic_prost::ProstCodec;

use super::{
    Kind, Mix,
    credentials::{Credentials, with_token},
    search::Queries,
};

/// History pages are asked for in the size a shop front would use.
pub const HISTORY_PAGE_SIZE: i32 = 20;

/// Search results too: a first page of 20 (the server's default), as a shop
/// front shows them. Searches never page on: few customers do.
pub const SEARCH_PAGE_SIZE: i32 = 20;

/// What every call may draw on: customer and product ids, order ids gathered
/// at start, and the request settings. Built once, then only read.
#[derive(Debug)]
pub struct Fixtures {
    pub customers: Vec<String>,
    pub products: Vec<String>,
    pub order_ids: Vec<String>,
    /// Fixed lines per order, or `None` for 1–5.
    pub lines: Option<u8>,
    /// The payment method orders are placed with (empty: paid on delivery).
    pub payment_method: String,
    pub history_depth: u32,
    /// What the search kinds ask for.
    pub queries: Queries,
    pub timeout: Duration,
    /// The tokens calls carry (none for a server without authentication).
    pub credentials: Credentials,
}

/// Where a caller is in a customer's history, between two page requests.
#[derive(Debug)]
struct Cursor {
    customer: usize,
    token: String,
    pages: u32,
}

/// A response read for its status alone: every field is skipped.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Discarded {}

/// The one field of `GetOrderHistoryResponse` a caller needs to page on.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PageToken {
    #[prost(string, tag = "2")]
    pub next_page_token: String,
}

const CREATE_ORDER: &str = "/orders.v1.OrderService/CreateOrder";
const GET_ORDER: &str = "/orders.v1.OrderService/GetOrder";
const GET_ORDER_HISTORY: &str = "/orders.v1.OrderService/GetOrderHistory";
pub const SEARCH_PRODUCTS: &str = "/orders.v1.CatalogService/SearchProducts";

/// One simulated client: sends one request per [`Caller::call`].
pub struct Caller {
    /// For every service but health (the path names the method).
    grpc: Grpc<Channel>,
    health: HealthClient<Channel>,
    fixtures: Arc<Fixtures>,
    rng: SmallRng,
    cursor: Option<Cursor>,
}

impl Caller {
    /// A caller on `channel` (a clone shares the HTTP/2 connection).
    pub fn new(channel: Channel, fixtures: Arc<Fixtures>) -> Caller {
        Caller {
            grpc: Grpc::new(channel.clone()),
            health: HealthClient::new(channel),
            fixtures,
            rng: SmallRng::from_rng(&mut rand::rng()),
            cursor: None,
        }
    }

    /// Sends one request and returns its kind and status code. A history
    /// walk in progress takes precedence over the mix, so each deeper page is
    /// a request of its own, as a client paging through would send it.
    pub async fn call(&mut self, mix: &Mix) -> (Kind, Code) {
        if let Some(cursor) = self.cursor.take() {
            return (Kind::GetOrderHistory, self.history(Some(cursor)).await);
        }
        let kind = mix.pick(self.rng.random_range(0..mix.total()));
        let code = match kind {
            Kind::CreateOrder => self.create_order().await,
            Kind::GetOrderHistory => self.history(None).await,
            Kind::GetOrder => self.get_order().await,
            Kind::Health => self.health().await,
            Kind::SearchWord | Kind::SearchWords | Kind::SearchPrefix | Kind::SearchMisspelt => self.search(kind).await,
        };
        (kind, code)
    }

    async fn create_order(&mut self) -> Code {
        let fixtures = &*self.fixtures;
        let customer = self.rng.random_range(0..fixtures.customers.len());
        let order = order_request(fixtures, customer, &mut self.rng);
        let request = with_token(
            with_deadline(order, fixtures.timeout),
            fixtures.credentials.customer(customer),
        );
        let call = unary::<_, Discarded>(&mut self.grpc, CREATE_ORDER, request);
        code_of(within(fixtures.timeout, call).await)
    }

    async fn history(&mut self, cursor: Option<Cursor>) -> Code {
        let fixtures = &*self.fixtures;
        let cursor = cursor.unwrap_or_else(|| Cursor {
            customer: self.rng.random_range(0..fixtures.customers.len()),
            token: String::new(),
            pages: 0,
        });
        let request = GetOrderHistoryRequest {
            customer_id: fixtures.customers[cursor.customer].clone(),
            page_size: HISTORY_PAGE_SIZE,
            page_token: cursor.token,
        };
        let token = fixtures.credentials.customer(cursor.customer);
        let request = with_token(with_deadline(request, fixtures.timeout), token);
        let call = unary::<_, PageToken>(&mut self.grpc, GET_ORDER_HISTORY, request);
        let page = match within(fixtures.timeout, call).await {
            Ok(page) => page,
            Err(code) => return code,
        };
        let pages = cursor.pages + 1;
        if !page.next_page_token.is_empty() && pages < fixtures.history_depth {
            self.cursor = Some(Cursor {
                customer: cursor.customer,
                token: page.next_page_token,
                pages,
            });
        }
        Code::Ok
    }

    async fn get_order(&mut self) -> Code {
        let ids = &self.fixtures.order_ids;
        let request = GetOrderRequest {
            order_id: ids[self.rng.random_range(0..ids.len())].clone(),
        };
        let worker = self.rng.random_range(0..super::credentials::WAREHOUSE_WORKERS);
        let token = self.fixtures.credentials.warehouse(worker);
        let request = with_token(with_deadline(request, self.fixtures.timeout), token);
        let call = unary::<_, Discarded>(&mut self.grpc, GET_ORDER, request);
        code_of(within(self.fixtures.timeout, call).await)
    }

    /// A first page of results for a query of `kind`'s list, as a random
    /// customer (searching is open to every role).
    async fn search(&mut self, kind: Kind) -> Code {
        let fixtures = &*self.fixtures;
        let queries = fixtures.queries.of(kind);
        let request = SearchProductsRequest {
            query: queries[self.rng.random_range(0..queries.len())].clone(),
            page_size: SEARCH_PAGE_SIZE,
            ..SearchProductsRequest::default()
        };
        let customer = self.rng.random_range(0..fixtures.customers.len());
        let token = fixtures.credentials.customer(customer);
        let request = with_token(with_deadline(request, fixtures.timeout), token);
        let call = unary::<_, Discarded>(&mut self.grpc, SEARCH_PRODUCTS, request);
        code_of(within(fixtures.timeout, call).await)
    }

    /// A check that answers anything but SERVING counts as UNAVAILABLE: that
    /// is what it means to a load balancer.
    async fn health(&mut self) -> Code {
        let request = HealthCheckRequest { service: String::new() };
        let call = self.health.check(with_deadline(request, self.fixtures.timeout));
        match within(self.fixtures.timeout, call).await {
            Ok(response) if response.status == ServingStatus::Serving as i32 => Code::Ok,
            Ok(_) => Code::Unavailable,
            Err(code) => code,
        }
    }
}

/// A valid order for customer number `customer`: 1–5 (or `--lines`)
/// distinct products, 1–3 units each, and a fresh idempotency key.
pub fn order_request(fixtures: &Fixtures, customer: usize, rng: &mut SmallRng) -> CreateOrderRequest {
    let products = &fixtures.products;
    let lines = fixtures
        .lines
        .map_or_else(|| rng.random_range(1..=5), usize::from)
        .min(products.len());
    let line_items = rand::seq::index::sample(rng, products.len(), lines)
        .into_iter()
        .map(|i| LineItem {
            product_id: products[i].clone(),
            quantity: rng.random_range(1..=3),
        })
        .collect();
    CreateOrderRequest {
        customer_id: fixtures.customers[customer].clone(),
        line_items,
        shipping_address: Some(address()),
        // From the caller's own generator: no system call per order.
        request_id: uuid::Builder::from_random_bytes(rng.random()).into_uuid().to_string(),
        customer_email: format!("{}@example.com", fixtures.customers[customer]),
        payment_method: fixtures.payment_method.clone(),
    }
}

fn address() -> Address {
    Address {
        recipient: "Load Test".into(),
        line1: "Hauptstr. 1".into(),
        line2: String::new(),
        city: "Berlin".into(),
        region: String::new(),
        postal_code: "10115".into(),
        country_code: "DE".into(),
    }
}

/// A request carrying `timeout` as its grpc-timeout, so the server gives up
/// when the client does.
pub fn with_deadline<T>(message: T, timeout: Duration) -> Request<T> {
    let mut request = Request::new(message);
    request.set_timeout(timeout);
    request
}

/// Calls the method at `path` as the generated client would, decoding the
/// response as `R` (which names only the fields it wants).
pub async fn unary<T, R>(
    grpc: &mut Grpc<Channel>,
    path: &'static str,
    request: Request<T>,
) -> Result<Response<R>, Status>
where
    T: prost::Message + Send + Sync + 'static,
    R: prost::Message + Default + Send + Sync + 'static,
{
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(format!("connection not ready: {e}")))?;
    grpc.unary(request, PathAndQuery::from_static(path), ProstCodec::<T, R>::default())
        .await
}

/// Awaits `call` for at most `timeout`; a local timeout is DEADLINE_EXCEEDED,
/// as in every gRPC client.
pub async fn within<T>(timeout: Duration, call: impl Future<Output = Result<Response<T>, Status>>) -> Result<T, Code> {
    match tokio::time::timeout(timeout, call).await {
        Ok(Ok(response)) => Ok(response.into_inner()),
        Ok(Err(status)) => Err(status.code()),
        Err(_elapsed) => Err(Code::DeadlineExceeded),
    }
}

fn code_of<T>(result: Result<T, Code>) -> Code {
    result.err().unwrap_or(Code::Ok)
}
