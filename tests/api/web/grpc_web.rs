//! gRPC-Web on the gRPC port: the generated clients, through tonic-web's
//! client layer over an HTTP/1.1 connection (as a browser without TLS
//! calls), get what gRPC callers get, errors and authentication included.

use http::Uri;
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use orders::proto::{CreateProductRequest, GetProductRequest, Money, catalog_service_client::CatalogServiceClient};
use tonic::{Code, Request, body::Body};
use tonic_web::{GrpcWebCall, GrpcWebClientLayer, GrpcWebClientService};
use tower::ServiceBuilder;

use crate::{
    app::{spawn_app, spawn_secured_app},
    assertions::{assert_error, assert_not_found},
    tokens,
};

type WebChannel = GrpcWebClientService<Client<HttpConnector, GrpcWebCall<Body>>>;

/// A catalog client that speaks gRPC-Web over HTTP/1.1 only.
fn web_catalog(addr: std::net::SocketAddr) -> CatalogServiceClient<WebChannel> {
    let http1 = Client::builder(TokioExecutor::new()).build_http();
    let channel = ServiceBuilder::new().layer(GrpcWebClientLayer::new()).service(http1);
    let origin: Uri = format!("http://{addr}").parse().unwrap();
    CatalogServiceClient::with_origin(channel, origin)
}

fn new_product(sku: &str) -> CreateProductRequest {
    CreateProductRequest {
        sku: sku.into(),
        name: "Green tea".into(),
        description: "Loose leaf, 100 g".into(),
        price: Some(Money {
            currency_code: "EUR".into(),
            units: 4,
            nanos: 500_000_000,
        }),
        stock: 7,
        request_id: uuid::Uuid::new_v4().to_string(),
    }
}

#[tokio::test]
async fn a_grpc_web_call_over_http1_creates_and_reads_like_grpc() {
    let app = spawn_app().await;
    let mut catalog = web_catalog(app.addr);

    let created = catalog
        .create_product(new_product("TEA-WEB-1"))
        .await
        .expect("created")
        .into_inner();
    let created = created.product.expect("the product");
    let read = catalog
        .get_product(GetProductRequest {
            product_id: created.product_id.clone(),
        })
        .await
        .expect("read back")
        .into_inner()
        .product
        .expect("the product");

    assert_eq!((read.sku.as_str(), read.stock), ("TEA-WEB-1", 7));
    // And the same row through plain gRPC.
    let request = GetProductRequest {
        product_id: created.product_id,
    };
    let over_grpc = app.catalog.clone().get_product(request).await.unwrap();
    assert_eq!(over_grpc.into_inner().product.unwrap(), read);
}

#[tokio::test]
async fn grpc_web_errors_carry_the_same_rich_details() {
    let app = spawn_app().await;
    let missing = uuid::Uuid::new_v4().to_string();

    let status = web_catalog(app.addr)
        .get_product(GetProductRequest {
            product_id: missing.clone(),
        })
        .await
        .unwrap_err();

    assert_not_found(&status, "PRODUCT_NOT_FOUND", "orders.v1.Product", &missing);
}

#[tokio::test]
async fn grpc_web_calls_are_authenticated_exactly_as_grpc_calls() {
    let app = spawn_secured_app().await;
    let mut catalog = web_catalog(app.addr);

    let without = catalog.create_product(new_product("TEA-WEB-2")).await.unwrap_err();
    assert_error(&without, Code::Unauthenticated, "TOKEN_MISSING");

    let mut as_customer = Request::new(new_product("TEA-WEB-2"));
    let customer = tokens::token("alice", &["customer"]);
    as_customer
        .metadata_mut()
        .insert("authorization", format!("Bearer {customer}").parse().unwrap());
    let refused = catalog.create_product(as_customer).await.unwrap_err();
    assert_error(&refused, Code::PermissionDenied, "ROLE_NOT_ALLOWED");

    let mut as_admin = Request::new(new_product("TEA-WEB-2"));
    let admin = tokens::token("keeper", &["catalog-admin"]);
    as_admin
        .metadata_mut()
        .insert("authorization", format!("Bearer {admin}").parse().unwrap());
    let created = catalog.create_product(as_admin).await.expect("a catalog-admin may");
    assert_eq!(created.into_inner().product.unwrap().stock, 7);
}
