//! Order events → the MIME message a customer receives: a subject, a plain
//! text and an HTML alternative rendered from the templates in
//! `src/notifications/templates/` (compiled in), UTF-8 throughout, with a
//! `Message-ID` made from the event id (so a resent email is recognisably
//! the same) and a `Date`.

use std::sync::LazyLock;

use lettre::message::{Mailbox, Message, MultiPart};
use minijinja::Environment;
use serde::Serialize;

use super::cancellation::{self, Why};
use crate::{notifications::db::emails::Kind, proto};

/// Why an order event cannot become an email: it is parked, not retried.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the customer email {0:?} is not a valid address")]
    Recipient(String),
    #[error("template {0}: {1}")]
    Template(String, String),
    #[error("building the message: {0}")]
    Message(String),
}

/// `name.txt` and `name.html` of each template name, compiled in.
macro_rules! text_and_html {
    ($($name:literal),+ $(,)?) => {
        [$(
            (concat!($name, ".txt"), include_str!(concat!("../templates/", $name, ".txt"))),
            (concat!($name, ".html"), include_str!(concat!("../templates/", $name, ".html"))),
        )+]
    };
}

/// The templates, one pair per [`Kind`] (named as it is stored) and the
/// parts they include.
static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut environment = Environment::new();
    let templates = text_and_html!(
        "lines",
        "address",
        "order_confirmation",
        "order_cancelled",
        "order_shipped",
        "payment_confirmation",
        "order_refunded",
    );
    for (name, source) in templates {
        environment
            .add_template(name, source)
            .expect("the compiled-in templates parse");
    }
    environment
});

/// What an email is about: which notice, the order as the event carries
/// it, and the state the event's change started from.
pub struct Notice<'a> {
    pub kind: Kind,
    pub order: &'a proto::Order,
    pub from_state: proto::OrderState,
}

/// What the templates see.
#[derive(Serialize)]
struct View<'a> {
    order_id: &'a str,
    short_id: &'a str,
    lines: Vec<LineView<'a>>,
    total: String,
    address: Option<AddressView<'a>>,
    /// Why it was cancelled (for a cancellation only).
    why: Option<Why<'a>>,
}

#[derive(Serialize)]
struct AddressView<'a> {
    recipient: &'a str,
    line1: &'a str,
    line2: &'a str,
    city: &'a str,
    region: &'a str,
    postal_code: &'a str,
    country_code: &'a str,
}

#[derive(Serialize)]
struct LineView<'a> {
    name: &'a str,
    sku: &'a str,
    quantity: i32,
    unit_price: String,
    line_total: String,
}

/// The email of `notice`, from `from`, identified by `event_id`.
pub fn email(notice: &Notice<'_>, from: &Mailbox, event_id: uuid::Uuid) -> Result<Message, RenderError> {
    let order = notice.order;
    let to: Mailbox = order
        .customer_email
        .parse()
        .map_err(|_| RenderError::Recipient(order.customer_email.clone()))?;
    // The last 8 hex digits: the first ones of a UUIDv7 are its time, the
    // same for every order placed within a minute.
    let short_id = order
        .order_id
        .get(order.order_id.len().saturating_sub(8)..)
        .unwrap_or(&order.order_id);
    let view = view(notice, short_id);
    let template = notice.kind.as_db();
    let text = render(template, "txt", &view)?;
    let html = render(template, "html", &view)?;
    let domain = from.email.domain().to_owned();
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject(notice.kind, short_id))
        .message_id(Some(format!("<{event_id}@{domain}>")))
        .date_now()
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(|e| RenderError::Message(e.to_string()))
}

/// The subject line of each kind of email.
fn subject(kind: Kind, short_id: &str) -> String {
    match kind {
        Kind::OrderConfirmation => format!("Your order {short_id} is confirmed"),
        Kind::OrderCancelled => format!("Your order {short_id} was cancelled"),
        Kind::OrderShipped => format!("Your order {short_id} is on its way"),
        Kind::PaymentConfirmation => format!("We received your payment for order {short_id}"),
        Kind::OrderRefunded => format!("Your payment for order {short_id} was refunded"),
    }
}

fn view<'a>(notice: &Notice<'a>, short_id: &'a str) -> View<'a> {
    let order = notice.order;
    let lines = order.line_items.iter().map(|line| LineView {
        name: &line.name,
        sku: &line.sku,
        quantity: line.quantity,
        unit_price: money(line.unit_price.as_ref()),
        line_total: money(line.line_total.as_ref()),
    });
    View {
        order_id: &order.order_id,
        short_id,
        lines: lines.collect(),
        total: money(order.total.as_ref()),
        address: order.shipping_address.as_ref().map(|a| AddressView {
            recipient: &a.recipient,
            line1: &a.line1,
            line2: &a.line2,
            city: &a.city,
            region: &a.region,
            postal_code: &a.postal_code,
            country_code: &a.country_code,
        }),
        why: (notice.kind == Kind::OrderCancelled).then(|| cancellation::why(order, notice.from_state)),
    }
}

fn render(template: &str, format: &str, view: &View<'_>) -> Result<String, RenderError> {
    let name = format!("{template}.{format}");
    let failed = |e: minijinja::Error| RenderError::Template(name.clone(), e.to_string());
    TEMPLATES
        .get_template(&name)
        .and_then(|t| t.render(view))
        .map_err(failed)
}

/// `EUR 12.50`: at least two decimals, more only where the amount has them.
pub fn money(money: Option<&proto::Money>) -> String {
    let Some(m) = money else { return String::new() };
    let nanos = format!("{:09}", m.nanos.unsigned_abs());
    let decimals = nanos.trim_end_matches('0');
    let decimals = if decimals.len() < 2 { &nanos[..2] } else { decimals };
    let sign = if m.units < 0 || m.nanos < 0 { "-" } else { "" };
    format!("{} {sign}{}.{decimals}", m.currency_code, m.units.unsigned_abs())
}

#[cfg(test)]
mod tests;
