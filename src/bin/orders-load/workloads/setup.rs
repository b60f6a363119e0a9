//! Before the load: make sure the catalog has the load products with ample
//! stock, gather order ids for get-order, and check that searches find
//! something ([`search::check`]). Everything goes through the public API,
//! so a run works against any server, fresh or long-lived.

use std::{collections::HashMap, error::Error};

use futures_util::{StreamExt, TryStreamExt, stream};
use orders::proto::{
    CreateProductRequest, GetOrderHistoryRequest, ListProductsRequest, Money, Product, RestockProductRequest,
    catalog_service_client::CatalogServiceClient, order_service_client::OrderServiceClient,
};
use rand::{SeedableRng, rngs::SmallRng};
use tonic::{Code, transport::Channel};

use super::{
    Fixtures, Kind, Mix, calls,
    credentials::{Credentials, with_token},
    search::{self, Queries},
};
use crate::args::Args;

pub type SetupError = Box<dyn Error + Send + Sync>;

/// Products are created with the largest stock allowed, so that orders never
/// run short during a run, and topped up at the next start below this.
const FULL_STOCK: i64 = 1_000_000_000;
const LOW_STOCK: i64 = FULL_STOCK / 2;
/// Setup requests in flight at once.
const SETUP_CONCURRENCY: usize = 16;
/// get-order draws from this many ids; at least `MIN_ORDER_IDS` are ensured
/// by placing orders when the histories have fewer.
const ORDER_ID_POOL: usize = 1000;
const MIN_ORDER_IDS: usize = 100;
/// How many customers' first history pages are read for order ids.
const HISTORIES_READ: usize = 100;

/// The fixtures that `mix` needs, created through `channel`.
pub async fn fixtures(channel: Channel, args: &Args, mix: &Mix) -> Result<Fixtures, SetupError> {
    let customers: Vec<String> = (0..args.customers).map(|i| format!("cust-{i:06}")).collect();
    let credentials = Credentials::from_args(args, &customers)?;
    let mut fixtures = Fixtures {
        customers,
        products: Vec::new(),
        order_ids: Vec::new(),
        lines: args.lines,
        payment_method: args.payment_method.clone(),
        history_depth: args.history_depth,
        queries: Queries::new(),
        timeout: args.timeout,
        credentials,
    };
    if mix.includes(Kind::CreateOrder) || mix.includes(Kind::GetOrder) {
        let catalog = Catalog {
            client: CatalogServiceClient::new(channel.clone()),
            token: fixtures.credentials.setup().cloned(),
        };
        fixtures.products = ensure_products(catalog, args.products).await?;
    }
    if mix.includes(Kind::GetOrder) {
        fixtures.order_ids = gather_order_ids(OrderServiceClient::new(channel.clone()), &fixtures).await?;
    }
    search::check(channel, &fixtures, mix).await?;
    Ok(fixtures)
}

/// The catalog, as the setup caller.
#[derive(Clone)]
struct Catalog {
    client: CatalogServiceClient<Channel>,
    token: Option<super::credentials::Bearer>,
}

impl Catalog {
    fn request<T>(&self, message: T) -> tonic::Request<T> {
        with_token(tonic::Request::new(message), self.token.as_ref())
    }
}

/// The ids of products `load-000000` .. `load-{wanted-1}`, creating the
/// missing ones and restocking those running low.
async fn ensure_products(mut catalog: Catalog, wanted: u32) -> Result<Vec<String>, SetupError> {
    let skus: Vec<String> = (0..wanted).map(|i| format!("load-{i:06}")).collect();
    let mut existing = list_products(&mut catalog).await?;
    let missing: Vec<u32> = (0..wanted)
        .filter(|&i| !existing.contains_key(&skus[i as usize]))
        .collect();
    if !missing.is_empty() {
        eprintln!("orders-load: creating {} products", missing.len());
        for_each_concurrently(missing, |i| {
            create_product(catalog.clone(), skus[i as usize].clone(), i)
        })
        .await?;
        existing = list_products(&mut catalog).await?;
    }
    let products: Vec<&Product> = skus.iter().filter_map(|sku| existing.get(sku)).collect();
    if products.len() < skus.len() {
        return Err(format!(
            "only {} of {wanted} load products exist after creating them",
            products.len()
        )
        .into());
    }
    let low: Vec<&Product> = products.iter().copied().filter(|p| p.stock < LOW_STOCK).collect();
    for_each_concurrently(low, |p| {
        restock(catalog.clone(), p.product_id.clone(), FULL_STOCK - p.stock)
    })
    .await?;
    Ok(products.into_iter().map(|p| p.product_id.clone()).collect())
}

/// The whole catalog by SKU, page by page.
async fn list_products(catalog: &mut Catalog) -> Result<HashMap<String, Product>, SetupError> {
    let mut products = HashMap::new();
    let mut page_token = String::new();
    loop {
        let request = ListProductsRequest {
            page_size: 100,
            page_token,
            show_archived: true,
        };
        let request = catalog.request(request);
        let page = (catalog.client.list_products(request))
            .await
            .map_err(|s| format!("ListProducts: {s}"))?
            .into_inner();
        products.extend(page.products.into_iter().map(|p| (p.sku.clone(), p)));
        if page.next_page_token.is_empty() {
            return Ok(products);
        }
        page_token = page.next_page_token;
    }
}

async fn create_product(mut catalog: Catalog, sku: String, i: u32) -> Result<(), SetupError> {
    let request = CreateProductRequest {
        name: format!("Load product {i}"),
        description: "Created by orders-load.".into(),
        price: Some(Money {
            currency_code: "EUR".into(),
            units: i64::from(1 + i % 100),
            nanos: 990_000_000,
        }),
        stock: FULL_STOCK,
        request_id: uuid::Uuid::new_v4().to_string(),
        sku,
    };
    let request = catalog.request(request);
    match catalog.client.create_product(request).await {
        // Another run created it meanwhile: just as good.
        Ok(_) => Ok(()),
        Err(status) if status.code() == Code::AlreadyExists => Ok(()),
        Err(status) => Err(format!("CreateProduct: {status}").into()),
    }
}

async fn restock(mut catalog: Catalog, product_id: String, quantity: i64) -> Result<(), SetupError> {
    let request = RestockProductRequest {
        product_id,
        quantity,
        request_id: uuid::Uuid::new_v4().to_string(),
    };
    let request = catalog.request(request);
    (catalog.client.restock_product(request))
        .await
        .map_err(|s| format!("RestockProduct: {s}"))?;
    Ok(())
}

/// Runs `task` for every item, `SETUP_CONCURRENCY` at a time; the first error wins.
async fn for_each_concurrently<T, F>(items: Vec<T>, task: impl Fn(T) -> F) -> Result<(), SetupError>
where
    F: Future<Output = Result<(), SetupError>>,
{
    stream::iter(items)
        .map(task)
        .buffer_unordered(SETUP_CONCURRENCY)
        .try_collect()
        .await
}

/// Order ids from the first history pages of the customers, topped up with
/// new orders to at least `MIN_ORDER_IDS`.
async fn gather_order_ids(
    mut orders: OrderServiceClient<Channel>,
    fixtures: &Fixtures,
) -> Result<Vec<String>, SetupError> {
    let token = fixtures.credentials.setup();
    let mut ids = Vec::new();
    for customer in fixtures.customers.iter().take(HISTORIES_READ) {
        if ids.len() >= ORDER_ID_POOL {
            break;
        }
        let request = GetOrderHistoryRequest {
            customer_id: customer.clone(),
            page_size: 100,
            page_token: String::new(),
        };
        let page = orders
            .get_order_history(with_token(tonic::Request::new(request), token))
            .await
            .map_err(|s| format!("GetOrderHistory: {s}"))?;
        ids.extend(page.into_inner().orders.into_iter().map(|order| order.order_id));
    }
    let mut rng = SmallRng::from_rng(&mut rand::rng());
    while ids.len() < MIN_ORDER_IDS {
        let request = calls::order_request(fixtures, ids.len() % fixtures.customers.len(), &mut rng);
        let response = orders
            .create_order(with_token(tonic::Request::new(request), token))
            .await
            .map_err(|s| format!("CreateOrder: {s}"))?;
        ids.extend(response.into_inner().order.map(|order| order.order_id));
    }
    Ok(ids)
}
