//! AuditService.ListAuditEvents: an auditor reads the trail of one small
//! day of a shop ([`Shop::open`]): every change newest first with who made
//! it, in which role, under which request, and what it changed; narrowed by
//! order, product, actor, kind and time; in pages that cover it once; and
//! every reading is itself in the trail. Who may read it at all is in
//! `authz.rs` with the rest of the access table.

use orders::proto::{self, AuditEventKind as Kind};
use prost_types::{Timestamp, value::Kind as JsonKind};
use tonic::Code;

use crate::{
    app::{Clients, TestApp, spawn_secured_app},
    assertions::{assert_error, assert_invalid_fields},
    catalog_admin::update_price,
    requests::{cancel_request, keyed_product_request, order_request},
    tokens::token,
};

/// A secured shop where a catalog admin added a product, Alice placed two
/// orders, the warehouse shipped one, Alice cancelled the other and the
/// admin changed the product's price, in that order.
struct Shop {
    app: TestApp,
    auditor: Clients,
    product: String,
    /// The `request_id` the product was created with.
    product_request_id: String,
    cancelled: String,
    shipped: String,
}

impl Shop {
    async fn open() -> Shop {
        let app = spawn_secured_app().await;
        let admin = app.with_token(&token("merch", &["catalog-admin"]));
        let alice = app.with_token(&token("alice", &["customer"]));
        let warehouse = app.with_token(&token("dock-7", &["warehouse"]));
        let request = keyed_product_request("AUDIT-1", (10, 0, "EUR"), 50);
        let product_request_id = request.request_id.clone();
        let created = admin.catalog.clone().create_product(request).await.unwrap();
        let product = created.into_inner().product.unwrap().product_id;
        let place = async || {
            let request = order_request("alice", &[(&product, 2)]);
            let order = alice.orders.clone().create_order(request).await.unwrap();
            order.into_inner().order.unwrap().order_id
        };
        let (cancelled, shipped) = (place().await, place().await);
        let ship = proto::ShipOrderRequest {
            order_id: shipped.clone(),
        };
        warehouse.orders.clone().ship_order(ship).await.unwrap();
        let cancel = cancel_request(&cancelled, "alice", "changed my mind");
        alice.orders.clone().cancel_order(cancel).await.unwrap();
        update_price(&admin.catalog, &product, (12, 500_000_000, "EUR")).await;
        let auditor = app.with_token(&token("inspector", &["auditor"]));
        Shop {
            app,
            auditor,
            product,
            product_request_id,
            cancelled,
            shipped,
        }
    }

    async fn list(&self, request: proto::ListAuditEventsRequest) -> proto::ListAuditEventsResponse {
        let response = self.auditor.audit.clone().list_audit_events(request).await;
        response
            .unwrap_or_else(|s| panic!("ListAuditEvents failed: {s:?}"))
            .into_inner()
    }

    /// Every event the filter matches, page after page of `page_size`.
    async fn list_all(&self, filter: proto::ListAuditEventsRequest, page_size: i32) -> Vec<proto::AuditEvent> {
        let mut events = Vec::new();
        let mut page_token = String::new();
        loop {
            let request = proto::ListAuditEventsRequest {
                page_size,
                page_token,
                ..filter.clone()
            };
            let page = self.list(request).await;
            assert!(page.audit_events.len() <= page_size as usize);
            events.extend(page.audit_events);
            if page.next_page_token.is_empty() {
                return events;
            }
            page_token = page.next_page_token;
        }
    }

    /// The kinds and resources of the events the filter matches, newest first.
    async fn kinds_of(&self, filter: proto::ListAuditEventsRequest) -> Vec<(Kind, String)> {
        let events = self.list_all(filter, 100).await;
        events.into_iter().map(|e| (e.kind(), e.resource_id)).collect()
    }
}

/// One event, as a line a person would read in a report.
fn line(event: &proto::AuditEvent) -> String {
    let actor = event.actor.as_ref().unwrap();
    format!(
        "{} {}/{} by {} as {}: {:?} -> {:?} {:?} x{}",
        event.kind().as_str_name().trim_start_matches("AUDIT_EVENT_KIND_"),
        event.resource_type,
        event.resource_id,
        actor.subject,
        actor.role,
        event.from_state(),
        event.to_state(),
        event.reason,
        event.quantity,
    )
}

fn kinds(kinds: &[Kind]) -> proto::ListAuditEventsRequest {
    proto::ListAuditEventsRequest {
        kinds: kinds.iter().map(|k| *k as i32).collect(),
        ..Default::default()
    }
}

/// The changes of the shop's day, as [`Shop::open`] made them.
const CHANGES: [Kind; 6] = [
    Kind::ProductUpdated,
    Kind::OrderCancelled,
    Kind::OrderShipped,
    Kind::OrderCreated,
    Kind::OrderCreated,
    Kind::ProductCreated,
];

#[tokio::test]
async fn an_auditor_reads_every_change_newest_first_with_who_did_what_and_when() {
    let shop = Shop::open().await;
    let events = shop.list(proto::ListAuditEventsRequest::default()).await.audit_events;
    let (p, c, s) = (&shop.product, &shop.cancelled, &shop.shipped);
    let product = "orders.v1.Product";
    let order = "orders.v1.Order";
    let expected = [
        format!("PRODUCT_UPDATED {product}/{p} by merch as catalog-admin: Unspecified -> Unspecified \"\" x0"),
        format!("ORDER_CANCELLED {order}/{c} by alice as customer: Placed -> Cancelled \"changed my mind\" x0"),
        format!("ORDER_SHIPPED {order}/{s} by dock-7 as warehouse: Placed -> Shipped \"\" x0"),
        format!("ORDER_CREATED {order}/{s} by alice as customer: Unspecified -> Placed \"\" x0"),
        format!("ORDER_CREATED {order}/{c} by alice as customer: Unspecified -> Placed \"\" x0"),
        format!("PRODUCT_CREATED {product}/{p} by merch as catalog-admin: Unspecified -> Unspecified \"\" x50"),
    ];
    assert_eq!(events.iter().map(line).collect::<Vec<_>>(), expected);
    let ids: Vec<i64> = events.iter().map(|e| e.audit_event_id.parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    assert!(
        events
            .iter()
            .all(|e| !e.request_id.is_empty() && e.event_time.is_some())
    );
    assert_eq!(events[5].request_id, shop.product_request_id);
    // What the price change changed, before and after.
    let price = |value: &Option<prost_types::Struct>| {
        let price = &value.as_ref().unwrap().fields["price"];
        let Some(JsonKind::StructValue(money)) = &price.kind else {
            panic!("a price object: {price:?}")
        };
        let number = |field: &str| match money.fields[field].kind {
            Some(JsonKind::NumberValue(n)) => n,
            ref other => panic!("{field} is a number: {other:?}"),
        };
        (number("units"), number("nanos"))
    };
    assert_eq!(price(&events[0].value_before), (10.0, 0.0));
    assert_eq!(price(&events[0].value_after), (12.0, 500_000_000.0));
}

#[tokio::test]
async fn filters_narrow_the_trail_to_an_order_a_product_an_actor_kinds_and_a_time_range() {
    let shop = Shop::open().await;
    let (p, c, s) = (shop.product.clone(), shop.cancelled.clone(), shop.shipped.clone());
    let of_order = proto::ListAuditEventsRequest {
        order_id: c.clone(),
        ..Default::default()
    };
    assert_eq!(
        shop.kinds_of(of_order).await,
        [(Kind::OrderCancelled, c.clone()), (Kind::OrderCreated, c.clone())]
    );
    let of_product = proto::ListAuditEventsRequest {
        product_id: p.clone(),
        ..Default::default()
    };
    let product_changes = [(Kind::ProductUpdated, p.clone()), (Kind::ProductCreated, p.clone())];
    assert_eq!(shop.kinds_of(of_product).await, product_changes);
    let by_warehouse = proto::ListAuditEventsRequest {
        actor_subject: "dock-7".into(),
        ..Default::default()
    };
    assert_eq!(shop.kinds_of(by_warehouse).await, [(Kind::OrderShipped, s.clone())]);
    let by_alice_cancelling = proto::ListAuditEventsRequest {
        actor_subject: "alice".into(),
        ..kinds(&[Kind::OrderCancelled, Kind::OrderShipped])
    };
    assert_eq!(
        shop.kinds_of(by_alice_cancelling).await,
        [(Kind::OrderCancelled, c.clone())]
    );
    // From the shipment (included) to the price change (excluded).
    let changes = shop.list_all(kinds(&CHANGES), 100).await;
    let window = proto::ListAuditEventsRequest {
        start_time: changes[2].event_time,
        end_time: changes[0].event_time,
        ..kinds(&CHANGES)
    };
    assert_eq!(
        shop.kinds_of(window).await,
        [(Kind::OrderCancelled, c), (Kind::OrderShipped, s)]
    );
    let nobody = proto::ListAuditEventsRequest {
        actor_subject: "mallory".into(),
        ..Default::default()
    };
    assert_eq!(shop.kinds_of(nobody).await, []);
}

#[tokio::test]
async fn pages_cover_the_trail_once_while_new_events_arrive() {
    let shop = Shop::open().await;
    let filter = kinds(&CHANGES);
    let first = shop
        .list(proto::ListAuditEventsRequest {
            page_size: 4,
            ..filter.clone()
        })
        .await;
    assert_eq!(first.audit_events.len(), 4);
    // A change after the first page is newer than the whole listing: the
    // next page goes on where the first ended.
    update_price(&shop.app.catalog, &shop.product, (13, 0, "EUR")).await;
    let rest = shop
        .list(proto::ListAuditEventsRequest {
            page_size: 4,
            page_token: first.next_page_token,
            ..filter.clone()
        })
        .await;
    assert_eq!(rest.next_page_token, "", "the last page says so");
    let paged: Vec<Kind> = (first.audit_events.iter().chain(&rest.audit_events))
        .map(|e| e.kind())
        .collect();
    assert_eq!(paged, CHANGES);
    let one_by_one: Vec<Kind> = shop.list_all(filter, 1).await.iter().map(|e| e.kind()).collect();
    assert_eq!(one_by_one, [&[Kind::ProductUpdated][..], &CHANGES].concat());
}

#[tokio::test]
async fn a_page_token_works_only_with_the_filters_it_was_issued_for() {
    let shop = Shop::open().await;
    let alices = proto::ListAuditEventsRequest {
        actor_subject: "alice".into(),
        page_size: 1,
        ..Default::default()
    };
    let token = shop.list(alices).await.next_page_token;
    assert!(!token.is_empty());
    let merchs = proto::ListAuditEventsRequest {
        actor_subject: "merch".into(),
        page_token: token,
        ..Default::default()
    };
    let status = shop.auditor.audit.clone().list_audit_events(merchs).await.unwrap_err();
    assert_invalid_fields(&status, &["page_token"]);
}

#[tokio::test]
async fn reading_the_trail_is_itself_in_the_trail() {
    let shop = Shop::open().await;
    let alices = proto::ListAuditEventsRequest {
        actor_subject: "alice".into(),
        kinds: vec![Kind::OrderCancelled as i32],
        ..Default::default()
    };
    assert_eq!(shop.list_all(alices, 1).await.len(), 1);
    let readings = shop.list(kinds_of_readings()).await.audit_events;
    assert_eq!(readings.len(), 1, "the listing of readings sees the earlier ones only");
    let reading = &readings[0];
    assert_eq!(
        line(reading),
        "AUDIT_EVENTS_LISTED orders.v1.AuditEvent/ by inspector as auditor: Unspecified -> Unspecified \"\" x1"
    );
    let filter = reading.value_after.as_ref().unwrap();
    let text = |field: &str| match &filter.fields[field].kind {
        Some(JsonKind::StringValue(s)) => s.clone(),
        other => panic!("{field}: {other:?}"),
    };
    assert_eq!(text("actor_subject"), "alice");
    let Some(JsonKind::ListValue(asked)) = &filter.fields["kinds"].kind else {
        panic!("kinds is a list: {filter:?}")
    };
    assert_eq!(asked.values.len(), 1);
    assert!(!reading.request_id.is_empty());
    // The second reading (of readings) is there now, with its own filter.
    let readings = shop.list(kinds_of_readings()).await.audit_events;
    assert_eq!(readings.len(), 2);
}

fn kinds_of_readings() -> proto::ListAuditEventsRequest {
    kinds(&[Kind::AuditEventsListed])
}

#[tokio::test]
async fn bad_filters_are_refused_naming_every_field_and_record_nothing() {
    let shop = Shop::open().await;
    let bad = proto::ListAuditEventsRequest {
        order_id: "order-1".into(),
        actor_subject: "a\u{0}b".into(),
        kinds: vec![Kind::OrderCreated as i32, 0],
        start_time: Some(Timestamp {
            seconds: 1_700_000_000,
            nanos: 0,
        }),
        end_time: Some(Timestamp {
            seconds: 1_600_000_000,
            nanos: 0,
        }),
        page_size: -5,
        ..Default::default()
    };
    let status = shop.auditor.audit.clone().list_audit_events(bad).await.unwrap_err();
    assert_invalid_fields(
        &status,
        &["order_id", "actor_subject", "kinds[1]", "end_time", "page_size"],
    );
    let both = proto::ListAuditEventsRequest {
        order_id: shop.cancelled.clone(),
        product_id: shop.product.clone(),
        ..Default::default()
    };
    let status = shop.auditor.audit.clone().list_audit_events(both).await.unwrap_err();
    assert_invalid_fields(&status, &["product_id"]);
    assert_eq!(shop.list(kinds_of_readings()).await.audit_events.len(), 0);
}

#[tokio::test]
async fn only_auditors_read_the_trail() {
    let shop = Shop::open().await;
    let alice = shop.app.with_token(&token("alice", &["customer"]));
    let request = proto::ListAuditEventsRequest::default();
    let status = alice.audit.clone().list_audit_events(request).await.unwrap_err();
    assert_error(&status, Code::PermissionDenied, "ROLE_NOT_ALLOWED");
    assert_eq!(
        status.message(),
        "orders.v1.AuditService/ListAuditEvents needs the role auditor; the token grants only customer"
    );
    assert_eq!(shop.list(kinds_of_readings()).await.audit_events.len(), 0);
}
