//! What each email says, rendered from its template, without sending it.

use super::*;

#[test]
fn money_shows_cents_and_finer_amounts_exactly() {
    let eur = |units, nanos| proto::Money {
        currency_code: "EUR".into(),
        units,
        nanos,
    };
    assert_eq!(money(Some(&eur(12, 500_000_000))), "EUR 12.50");
    assert_eq!(money(Some(&eur(3, 0))), "EUR 3.00");
    assert_eq!(money(Some(&eur(0, 1_250_000))), "EUR 0.00125");
}

/// A paid order of two mugs, EUR 29.00, with a card token.
fn paid_order() -> proto::Order {
    let eur = |units| {
        Some(proto::Money {
            currency_code: "EUR".into(),
            units,
            nanos: 0,
        })
    };
    let line = proto::LineItem {
        name: "Mug".into(),
        sku: "MUG".into(),
        quantity: 2,
        unit_price: eur(14),
        line_total: eur(29),
        ..Default::default()
    };
    proto::Order {
        order_id: "01939a5e-0000-7000-8000-0000abcdef12".into(),
        customer_email: "ada@example.com".into(),
        line_items: vec![line],
        total: eur(29),
        payment: Some(proto::OrderPayment {
            payment_method: "pm_card_visa".into(),
            status: proto::PaymentStatus::Captured as i32,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The text and HTML of the email of `kind` about `order`.
fn rendered(kind: Kind, order: &proto::Order, from_state: proto::OrderState) -> (String, String) {
    let notice = Notice {
        kind,
        order,
        from_state,
    };
    let view = view(&notice, "abcdef12");
    let template = kind.as_db();
    (
        render(template, "txt", &view).unwrap(),
        render(template, "html", &view).unwrap(),
    )
}

#[test]
fn every_kind_has_both_templates_and_a_subject_with_the_short_id() {
    for &kind in Kind::ALL {
        let (text, html) = rendered(kind, &paid_order(), proto::OrderState::Placed);
        assert!(
            text.contains("Order id: 01939a5e-0000-7000-8000-0000abcdef12"),
            "{kind:?}: {text}"
        );
        assert!(html.starts_with("<!DOCTYPE html>"), "{kind:?}: {html}");
        assert!(subject(kind, "abcdef12").contains(" abcdef12"), "{kind:?}");
    }
}

#[test]
fn a_payment_confirmation_says_the_total_and_never_the_card_token() {
    let (text, html) = rendered(Kind::PaymentConfirmation, &paid_order(), proto::OrderState::Placed);
    assert!(
        text.contains("we received your payment of EUR 29.00 for your order abcdef12."),
        "{text}"
    );
    assert!(text.contains("2 x Mug (MUG) at EUR 14.00 = EUR 29.00"), "{text}");
    assert!(html.contains("payment of <strong>EUR 29.00</strong>"), "{html}");
    assert!(!text.contains("pm_card") && !html.contains("pm_card"), "{text}{html}");
    let subject = subject(Kind::PaymentConfirmation, "abcdef12");
    assert_eq!(subject, "We received your payment for order abcdef12");
}

#[test]
fn a_refund_says_the_whole_total_was_given_back() {
    let (text, html) = rendered(Kind::OrderRefunded, &paid_order(), proto::OrderState::Cancelled);
    let said = "your order abcdef12 was cancelled, and your payment of EUR 29.00 has been refunded in full.";
    assert!(text.contains(said), "{text}");
    assert!(
        html.contains("payment of <strong>EUR 29.00</strong> has been refunded in full"),
        "{html}"
    );
    assert_eq!(
        subject(Kind::OrderRefunded, "abcdef12"),
        "Your payment for order abcdef12 was refunded"
    );
}

#[test]
fn a_declined_card_is_the_reason_and_nothing_is_refunded() {
    let mut order = paid_order();
    order.cancel_reason = "PAYMENT_DECLINED".into();
    order.payment = Some(proto::OrderPayment {
        status: proto::PaymentStatus::Declined as i32,
        decline_code: "card_declined".into(),
        ..Default::default()
    });
    let (text, html) = rendered(Kind::OrderCancelled, &order, proto::OrderState::Placed);
    let said = "your card was declined (the card was declined); nothing was charged and the order is cancelled.";
    assert!(text.contains(said) && html.contains(said), "{text}{html}");
    assert!(!text.contains("PAYMENT_DECLINED") && !text.contains("refund"), "{text}");
}

#[test]
fn a_timed_out_payment_says_how_long_we_waited() {
    let mut order = paid_order();
    order.cancel_reason = "PAYMENT_TIMEOUT".into();
    order.payment = None;
    let (text, _) = rendered(Kind::OrderCancelled, &order, proto::OrderState::Placed);
    let said = "we did not receive your payment within the time allowed; nothing was charged and the order is \
                cancelled.";
    assert!(text.contains(said), "{text}");
}

#[test]
fn a_paid_order_cancelled_by_its_customer_shows_their_reason_escaped_and_the_refund() {
    let mut order = paid_order();
    order.cancel_reason = "<b>ordered twice</b> & sorry".into();
    let (text, html) = rendered(Kind::OrderCancelled, &order, proto::OrderState::Paid);
    let said = "your order abcdef12 has been cancelled, for this reason: \"<b>ordered twice</b> & sorry\". Your \
                payment of EUR 29.00 will be refunded in full.";
    assert!(text.contains(said), "{text}");
    assert!(
        html.contains("&ldquo;&lt;b&gt;ordered twice&lt;&#x2f;b&gt; &amp; sorry&rdquo;"),
        "{html}"
    );
    assert!(!html.contains("<b>"), "{html}");
    order.payment = None;
    let (unpaid, _) = rendered(Kind::OrderCancelled, &order, proto::OrderState::Placed);
    assert!(!unpaid.contains("refund"), "{unpaid}");
}
