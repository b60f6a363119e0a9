//! Cancelling an order paid by card: before its money is taken the hold is
//! released, after it the money is refunded in full; either way the stock
//! comes back once and nothing is kept.

use orders::proto::{OrderState::*, PaymentStatus};

use super::{history, short, spawn_paying_shop};
use crate::api_calls::{cancel, stock_of};

#[tokio::test]
async fn cancelling_a_paid_order_refunds_it_in_full() {
    let shop = spawn_paying_shop(|_| {}).await;
    let mug = shop.mug(10).await;
    let placed = shop.place(&mug, 2, "pm_card_visa").await;
    shop.wait_for(&placed.order_id, Paid, PaymentStatus::Captured).await;
    let cancelled = cancel(&shop.app, &placed.order_id, "ada", "changed my mind")
        .await
        .unwrap();
    assert_eq!(cancelled.state(), Cancelled);
    assert_eq!(stock_of(&shop.app, &mug).await, 10);

    let refunded = shop
        .wait_for(&placed.order_id, Cancelled, PaymentStatus::Refunded)
        .await;
    assert_eq!(
        shop.ledger(&placed.order_id).await,
        vec![
            ("MOVEMENT_KIND_AUTHORIZED".to_owned(), 25, 0),
            ("MOVEMENT_KIND_CAPTURED".to_owned(), 25, 0),
            ("MOVEMENT_KIND_REFUNDED".to_owned(), 25, 0),
        ]
    );
    let steps: Vec<_> = history(&refunded).into_iter().skip(2).collect();
    assert_eq!(
        steps,
        vec![
            (Placed, Paid, String::new(), "system".to_owned()),
            (Paid, Cancelled, "changed my mind".to_owned(), "none".to_owned()),
            (Cancelled, Cancelled, "PAYMENT_REFUNDED".to_owned(), "system".to_owned()),
        ]
    );
    assert_eq!(
        shop.order_events(&placed.order_id, 4).await,
        vec!["OrderPlaced", "OrderPaid", "OrderCancelled", "OrderRefunded",]
    );
    assert_eq!(
        shop.email_subjects(4).await,
        vec![
            format!("Your order {} is confirmed", short(&placed)),
            format!("We received your payment for order {}", short(&placed)),
            format!("Your order {} was cancelled", short(&placed)),
            format!("Your payment for order {} was refunded", short(&placed)),
        ]
    );
}

#[tokio::test]
async fn cancelling_an_order_while_its_amount_is_held_gives_back_everything() {
    // A slow capture leaves the order authorized long enough to cancel it.
    let shop = spawn_paying_shop(|s| s.payments.payment_processor_delay = std::time::Duration::from_millis(1500)).await;
    let mug = shop.mug(10).await;
    let placed = shop.place(&mug, 1, "pm_card_visa").await;
    shop.wait_for(&placed.order_id, Placed, PaymentStatus::Authorized).await;
    cancel(&shop.app, &placed.order_id, "ada", "found it cheaper")
        .await
        .unwrap();

    let settled = [PaymentStatus::Released, PaymentStatus::Refunded];
    let settled = shop.wait_for_any(&placed.order_id, Cancelled, &settled).await;
    // Whichever came first at the payment service, the capture or the
    // release, nothing is kept: released untaken, or taken and refunded.
    let ledger = shop.ledger(&placed.order_id).await;
    let taken: i64 = ledger
        .iter()
        .filter(|m| m.0 == "MOVEMENT_KIND_CAPTURED")
        .map(|m| m.1)
        .sum();
    let refunded: i64 = ledger
        .iter()
        .filter(|m| m.0 == "MOVEMENT_KIND_REFUNDED")
        .map(|m| m.1)
        .sum();
    assert_eq!(taken, refunded, "{ledger:?}");
    assert_eq!(stock_of(&shop.app, &mug).await, 10);
    assert_eq!(settled.order.unwrap().cancel_reason, "found it cheaper");
}
