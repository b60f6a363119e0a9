//! The server around the services: health, reflection (v1 and v1alpha),
//! graceful shutdown, UNAVAILABLE while the database is gone (and recovery),
//! the global concurrency limit, the call deadline, and error messages that
//! never leak database internals.

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use orders::proto;
use prost::Message;
use tonic::{Code, transport::Channel};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

use crate::{
    api_calls::{place_order, product_id, try_create_order, try_restock},
    app::{TestApp, spawn_app},
    assertions::{DOMAIN, assert_clean_message, assert_error, details},
    requests::{order_request, product_request},
    timing::{eventually, within},
};

const HEALTH: &str = "grpc.health.v1.Health";
const SERVICES: [&str; 4] = [
    "",
    "orders.v1.OrderService",
    "orders.v1.CatalogService",
    "orders.v1.AuditService",
];

async fn health(app: &TestApp, service: &str) -> Result<ServingStatus, tonic::Status> {
    let request = HealthCheckRequest {
        service: service.to_owned(),
    };
    let response = app.health.clone().check(request).await?;
    Ok(response.into_inner().status())
}

/// Waits until every name in [`SERVICES`] reports `status`.
async fn wait_for_health(app: &TestApp, status: ServingStatus, seconds: u64) {
    eventually(seconds, &format!("{status:?}"), async || {
        for service in SERVICES {
            if health(app, service).await.ok() != Some(status) {
                return false;
            }
        }
        true
    })
    .await;
}

async fn get_product_status(app: &TestApp, product_id: &str) -> Result<proto::Product, tonic::Status> {
    let request = proto::GetProductRequest {
        product_id: product_id.to_owned(),
    };
    let response = within(15, app.catalog.clone().get_product(request)).await?;
    Ok(response.into_inner().product.unwrap())
}

#[tokio::test]
async fn health_is_serving_for_the_server_and_each_service() {
    let app = spawn_app().await;
    // The first database probe runs in the background right after start.
    wait_for_health(&app, ServingStatus::Serving, 5).await;
    for service in SERVICES {
        assert_eq!(
            health(&app, service).await.unwrap(),
            ServingStatus::Serving,
            "{service:?}"
        );
    }
    let status = health(&app, "orders.v1.NoSuchService").await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
}

/// A service the server hosts must never be reported as unknown (NOT_FOUND),
/// not even before the first database probe has finished: a load balancer
/// would take that as "not hosted here". A race, so tried on many servers.
#[tokio::test]
async fn hosted_services_are_known_to_health_from_the_first_call() {
    let (attempts, mut unknown) = (8, Vec::new());
    for _ in 0..attempts {
        let app = spawn_app().await;
        for service in SERVICES.iter().rev() {
            if let Err(status) = health(&app, service).await {
                unknown.push(format!("{service:?}: {:?} {:?}", status.code(), status.message()));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "on {attempts} fresh servers, right after start: {unknown:#?}"
    );
}

#[tokio::test]
async fn after_shutdown_new_calls_fail() {
    let mut app = spawn_app().await;
    let id = product_id(&app, "A", 1).await;
    within(15, app.shutdown()).await.expect("a clean shutdown");
    let status = get_product_status(&app, &id).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(within(15, health(&app, "")).await.is_err());
}

/// Lists the services and fetches the file of `orders.v1.OrderService` with
/// one version of the reflection API.
macro_rules! reflect {
    ($version:ident, $channel:expr) => {{
        use tonic_reflection::pb::$version::{
            ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
            server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
        };
        let mut client = ServerReflectionClient::new($channel);
        let requests = [
            MessageRequest::ListServices(String::new()),
            MessageRequest::FileContainingSymbol("orders.v1.OrderService".into()),
        ]
        .map(|message| ServerReflectionRequest {
            host: String::new(),
            message_request: Some(message),
        });
        let mut stream = within(10, client.server_reflection_info(tokio_stream::iter(requests)))
            .await
            .expect("reflection answers")
            .into_inner();
        let (mut services, mut files) = (Vec::new(), Vec::new());
        while let Some(response) = within(10, stream.message()).await.expect("a reflection response") {
            match response.message_response.expect("a message") {
                MessageResponse::ListServicesResponse(list) => {
                    services.extend(list.service.into_iter().map(|s| s.name))
                }
                MessageResponse::FileDescriptorResponse(f) => files.extend(f.file_descriptor_proto),
                other => panic!("unexpected reflection response {other:?}"),
            }
        }
        (services, files)
    }};
}

#[tokio::test]
async fn reflection_lists_the_services_on_both_versions() {
    let app = spawn_app().await;
    let endpoint = Channel::from_shared(format!("http://{}", app.addr)).unwrap();
    let channel = endpoint.connect().await.unwrap();
    let v1 = reflect!(v1, channel.clone());
    let v1alpha = reflect!(v1alpha, channel);
    for (services, files) in [v1, v1alpha] {
        for expected in [
            "orders.v1.OrderService",
            "orders.v1.CatalogService",
            "orders.v1.AuditService",
            HEALTH,
        ] {
            assert!(
                services.iter().any(|s| s == expected),
                "{expected} missing from {services:?}"
            );
        }
        let descriptors: Vec<_> = (files.iter())
            .map(|bytes| prost_types::FileDescriptorProto::decode(bytes.as_slice()).expect("a file descriptor"))
            .collect();
        let orders_file = (descriptors.iter())
            .find(|f| f.name() == "orders/v1/orders.proto")
            .expect("the file of orders.v1.OrderService");
        assert!(orders_file.service.iter().any(|s| s.name() == "OrderService"));
    }
}

/// An admin connection to the server of `app`, and the name of its database.
async fn admin(app: &TestApp) -> (AsyncPgConnection, String) {
    let admin_url = orders::db::launcher::with_database(&app.db_url, "postgres");
    let (_, name) = app.db_url.split('?').next().unwrap().rsplit_once('/').unwrap();
    let admin = AsyncPgConnection::establish(&admin_url)
        .await
        .expect("admin connection");
    (admin, name.to_owned())
}

#[tokio::test]
async fn a_lost_database_is_unavailable_then_recovers() {
    let app = spawn_app().await;
    let id = product_id(&app, "A", 1).await;
    wait_for_health(&app, ServingStatus::Serving, 5).await;
    let (mut admin, name) = admin(&app).await;
    let allow = |yes: bool| format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {yes}");
    admin.batch_execute(&allow(false)).await.unwrap();
    let terminate = format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'");
    admin.batch_execute(&terminate).await.unwrap();

    for _ in 0..3 {
        let status = get_product_status(&app, &id).await.unwrap_err();
        let details = assert_error(&status, Code::Unavailable, "DATABASE_UNAVAILABLE");
        assert!(details.retry_info().is_some(), "UNAVAILABLE tells when to retry");
    }
    let status = within(15, try_create_order(&app, order_request("c", &[(&id, 1)]))).await;
    assert_error(&status.unwrap_err(), Code::Unavailable, "DATABASE_UNAVAILABLE");
    wait_for_health(&app, ServingStatus::NotServing, 3).await;

    admin.batch_execute(&allow(true)).await.unwrap();
    eventually(10, "serving again", async || {
        get_product_status(&app, &id).await.is_ok()
    })
    .await;
    wait_for_health(&app, ServingStatus::Serving, 5).await;
    let order = place_order(&app, "c", &[(&id, 1)]).await;
    assert_eq!(order.state(), proto::OrderState::Placed);
}

#[tokio::test]
async fn no_error_message_mentions_the_database() {
    let app = spawn_app().await;
    let a = product_id(&app, "A", 1).await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let create = async |request| app.catalog.clone().create_product(request).await.unwrap_err();
    let list = proto::ListProductsRequest {
        page_size: 1,
        page_token: "x".into(),
        show_archived: false,
    };
    let ship = proto::ShipOrderRequest {
        order_id: unknown.clone(),
    };
    let statuses = [
        create(product_request("A", (1, 0, "EUR"), 1)).await,
        create(product_request("a b", (0, 0, "eur"), -1)).await,
        get_product_status(&app, &unknown).await.unwrap_err(),
        get_product_status(&app, "'; DROP TABLE products; --")
            .await
            .unwrap_err(),
        app.catalog.clone().list_products(list).await.unwrap_err(),
        try_restock(&app, &a, 1_000_000_000, "").await.unwrap_err(),
        try_create_order(&app, order_request("c", &[(&a, 5)]))
            .await
            .unwrap_err(),
        try_create_order(&app, order_request("c", &[(&unknown, 1)]))
            .await
            .unwrap_err(),
        app.orders.clone().ship_order(ship).await.unwrap_err(),
    ];
    for status in &statuses {
        assert_clean_message(status);
        let info = details(status).error_info().cloned();
        assert_eq!(info.map(|i| i.domain).as_deref(), Some(DOMAIN), "{status:?}");
        assert_ne!(status.code(), Code::Internal, "{status:?}");
    }
}
