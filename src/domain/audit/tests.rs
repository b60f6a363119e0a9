use prost_types::Timestamp;

use super::*;
use crate::error::FieldViolation;

fn key() -> PageTokenKey {
    PageTokenKey::new(vec![5; 32]).unwrap()
}

/// The BadRequest field paths of a refused request.
fn refused(request: &proto::ListAuditEventsRequest) -> Vec<String> {
    match AuditPage::parse(request, &key()).unwrap_err() {
        ApiError::InvalidArgument { violations, .. } => {
            violations.iter().map(|v: &FieldViolation| v.field.clone()).collect()
        }
        other => panic!("unexpected {other:?}"),
    }
}

const ORDER: &str = "0193b2a4-7c1e-7f00-8000-000000000001";
const PRODUCT: &str = "0193b2a4-7c1e-7f00-8000-000000000002";

fn at(seconds: i64) -> Option<Timestamp> {
    Some(Timestamp { seconds, nanos: 0 })
}

#[test]
fn every_stored_action_is_a_kind_of_the_api_and_back() {
    for &action in Action::ALL {
        let kind = kind(action);
        assert_ne!(kind, proto::AuditEventKind::Unspecified);
        assert_eq!(action_of(kind as i32), Ok(action));
    }
    let kinds = (0..100).filter(|n| proto::AuditEventKind::try_from(*n).is_ok()).count();
    assert_eq!(kinds, Action::ALL.len() + 1, "one kind per action, and UNSPECIFIED");
}

#[test]
fn an_empty_request_lists_everything_from_the_start() {
    let page = AuditPage::parse(&proto::ListAuditEventsRequest::default(), &key()).unwrap();
    assert_eq!(page.filter, AuditFilter::default());
    assert_eq!((page.page_size, page.cursor), (20, None));
    assert_eq!(page.filter.to_json(), json!({}));
}

#[test]
fn the_filters_parse_and_are_recorded_under_the_requests_field_names() {
    let request = proto::ListAuditEventsRequest {
        order_id: ORDER.into(),
        actor_subject: "alice".into(),
        kinds: vec![
            proto::AuditEventKind::OrderCancelled as i32,
            proto::AuditEventKind::OrderShipped as i32,
        ],
        start_time: at(1_700_000_000),
        end_time: at(1_700_003_600),
        page_size: 5,
        ..Default::default()
    };
    let page = AuditPage::parse(&request, &key()).unwrap();
    assert_eq!(
        page.filter.resource,
        Some(Resource {
            resource_type: ORDER_RESOURCE,
            id: ORDER.parse().unwrap()
        })
    );
    assert_eq!(page.filter.kinds, [Action::OrderCancelled, Action::OrderShipped]);
    assert_eq!(page.page_size, 5);
    assert_eq!(
        page.filter.to_json(),
        json!({
            "order_id": ORDER,
            "actor_subject": "alice",
            "kinds": ["AUDIT_EVENT_KIND_ORDER_CANCELLED", "AUDIT_EVENT_KIND_ORDER_SHIPPED"],
            "start_time": "2023-11-14T22:13:20+00:00",
            "end_time": "2023-11-14T23:13:20+00:00",
        })
    );
}

#[test]
fn every_bad_filter_is_named_at_once() {
    let request = proto::ListAuditEventsRequest {
        order_id: "order-1".into(),
        actor_subject: "al\nice".into(),
        kinds: vec![proto::AuditEventKind::OrderCreated as i32, 0, 77],
        start_time: Some(Timestamp {
            seconds: 0,
            nanos: 1_000_000_000,
        }),
        page_size: -1,
        ..Default::default()
    };
    assert_eq!(
        refused(&request),
        [
            "order_id",
            "actor_subject",
            "kinds[1]",
            "kinds[2]",
            "start_time",
            "page_size"
        ]
    );
}

#[test]
fn an_event_is_about_one_order_or_one_product() {
    let request = proto::ListAuditEventsRequest {
        order_id: ORDER.into(),
        product_id: PRODUCT.into(),
        ..Default::default()
    };
    assert_eq!(refused(&request), ["product_id"]);
}

#[test]
fn the_time_range_must_not_be_empty() {
    let request = proto::ListAuditEventsRequest {
        start_time: at(1_700_000_000),
        end_time: at(1_700_000_000),
        ..Default::default()
    };
    assert_eq!(refused(&request), ["end_time"]);
}

#[test]
fn a_subject_longer_than_any_token_s_is_refused() {
    let request = proto::ListAuditEventsRequest {
        actor_subject: "a".repeat(MAX_SUBJECT_CHARS + 1),
        ..Default::default()
    };
    assert_eq!(refused(&request), ["actor_subject"]);
}

#[test]
fn a_page_token_works_only_with_the_filters_it_was_issued_for() {
    let alice = proto::ListAuditEventsRequest {
        actor_subject: "alice".into(),
        ..Default::default()
    };
    let filter = AuditPage::parse(&alice, &key()).unwrap().filter.to_json();
    let token = key().seal(Listing::AuditEvents { filter: &filter }, &AuditCursor { id: 42 });
    let next = proto::ListAuditEventsRequest {
        page_token: token.clone(),
        ..alice.clone()
    };
    assert_eq!(
        AuditPage::parse(&next, &key()).unwrap().cursor,
        Some(AuditCursor { id: 42 })
    );
    let bob = proto::ListAuditEventsRequest {
        actor_subject: "bob".into(),
        page_token: token,
        ..Default::default()
    };
    assert_eq!(refused(&bob), ["page_token"]);
}
