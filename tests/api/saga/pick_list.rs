//! ListOrders, the warehouse's pick list: one state's orders, oldest
//! first, page by page.

use orders::proto::{self, OrderState};
use tonic::Code;

use crate::{
    api_calls::{cancel, place_order, product_id},
    app::spawn_app,
    assertions::assert_invalid_fields,
};

fn listing(state: OrderState, page_size: i32, page_token: &str) -> proto::ListOrdersRequest {
    proto::ListOrdersRequest {
        state: state.into(),
        page_size,
        page_token: page_token.to_owned(),
    }
}

#[tokio::test]
async fn the_pick_list_pages_through_one_states_orders_oldest_first() {
    let app = spawn_app().await;
    let mug = product_id(&app, "MUG", 100).await;
    let mut placed = Vec::new();
    for customer in ["ada", "bob", "cy", "dee", "eve"] {
        placed.push(place_order(&app, customer, &[(&mug, 1)]).await.order_id);
    }
    cancel(&app, &placed[1], "bob", "").await.unwrap();

    let mut listed = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .orders
            .clone()
            .list_orders(listing(OrderState::Placed, 2, &token))
            .await
            .unwrap()
            .into_inner();
        assert!(page.orders.len() <= 2);
        assert!(
            page.orders
                .iter()
                .all(|o| o.state() == OrderState::Placed && o.line_items.len() == 1)
        );
        listed.extend(page.orders.into_iter().map(|o| o.order_id));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(
        listed,
        [&placed[0], &placed[2], &placed[3], &placed[4]].map(String::clone)
    );
    let cancelled = app
        .orders
        .clone()
        .list_orders(listing(OrderState::Cancelled, 0, ""))
        .await
        .unwrap();
    let cancelled: Vec<String> = cancelled.into_inner().orders.into_iter().map(|o| o.order_id).collect();
    assert_eq!(cancelled, vec![placed[1].clone()]);
}

#[tokio::test]
async fn a_state_must_be_given_and_a_token_serves_only_its_own_state() {
    let app = spawn_app().await;
    let mug = product_id(&app, "MUG", 100).await;
    for customer in ["ada", "bob"] {
        place_order(&app, customer, &[(&mug, 1)]).await;
    }
    let unset = app
        .orders
        .clone()
        .list_orders(listing(OrderState::Unspecified, 0, ""))
        .await
        .unwrap_err();
    assert_invalid_fields(&unset, &["state"]);
    let first = app
        .orders
        .clone()
        .list_orders(listing(OrderState::Placed, 1, ""))
        .await
        .unwrap()
        .into_inner();
    assert!(!first.next_page_token.is_empty());
    let elsewhere = listing(OrderState::Shipped, 1, &first.next_page_token);
    let refused = app.orders.clone().list_orders(elsewhere).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_invalid_fields(&refused, &["page_token"]);
    let negative = app
        .orders
        .clone()
        .list_orders(listing(OrderState::Placed, -1, ""))
        .await
        .unwrap_err();
    assert_invalid_fields(&negative, &["page_size"]);
}
