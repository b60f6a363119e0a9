//! The payment service (`payments.v1.PaymentService`), served alone on its
//! own address and a fresh database of its own, as `--services payments`
//! runs it: the harness ([`spawn_payments`]) and the calls the tests are
//! written with; the tests, one concern each, in the modules below.

mod alone;
mod events;
mod faults;
mod idempotency;
mod ledger_sql;
mod rpcs;

use std::sync::Arc;

use diesel_async::{AsyncConnection, AsyncPgConnection};
use orders::{
    config::{ServiceName, Settings},
    payments::processor::ProcessorFaults,
    proto::{
        Money,
        payments::v1::{self as pb, payment_service_client::PaymentServiceClient},
    },
    startup::{Application, StartupError},
};
use tokio::{sync::oneshot, task::JoinHandle};
use tonic::{Status, transport::Channel};
use uuid::Uuid;

pub use crate::app::Payments;
use crate::{
    app::{Bearer, connect_channel, test_settings},
    assertions::assert_error_in,
    test_database::TestDatabase,
};

/// A server running only the payment service, on its own fresh database.
pub struct PaymentsApp {
    pub addr: std::net::SocketAddr,
    pub client: Payments,
    pub channel: Channel,
    /// The payments database's URL, for direct SQL.
    pub db_url: String,
    /// The development processor's faults, switched at run time.
    pub faults: Arc<ProcessorFaults>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<Result<(), StartupError>>>,
    _database: TestDatabase,
}

/// [`spawn_payments_with`] the default settings.
pub async fn spawn_payments() -> PaymentsApp {
    spawn_payments_with(|_| {}).await
}

/// Starts the payment service alone (`services = [Payments]`) on a free
/// port of `--payments-addr`, after `configure`.
pub async fn spawn_payments_with(configure: impl FnOnce(&mut Settings)) -> PaymentsApp {
    let database = TestDatabase::create_empty().await;
    let mut settings = test_settings(&database.url);
    settings.services = vec![ServiceName::Payments];
    settings.payments.payments_database_url = Some(database.url.as_str().into());
    settings.payments.payments_addr = "127.0.0.1:0".parse().unwrap();
    configure(&mut settings);
    let app = Application::build(settings).await.expect("the payment service builds");
    let addr = app.local_addr();
    let faults = app.payment_faults().expect("the app runs the payment service");
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let channel = connect_channel(addr).await;
    PaymentsApp {
        addr,
        client: PaymentServiceClient::with_interceptor(channel.clone(), Bearer::default()),
        channel,
        db_url: database.url.clone(),
        faults,
        stop: Some(stop),
        server: Some(server),
        _database: database,
    }
}

impl PaymentsApp {
    /// A connection to the payments database.
    pub async fn db(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.db_url).await.expect("connects")
    }

    /// A single number from the payments database (`... AS n`).
    pub async fn count(&self, sql: &str) -> i64 {
        crate::direct_sql::query_n_on(&mut self.db().await, sql).await
    }

    /// How many ledger entries the database holds, of every payment.
    pub async fn movements(&self) -> i64 {
        self.count("SELECT count(*) AS n FROM payment_movements").await
    }

    /// Authorizes `units` EUR on `method` for a new order of alice.
    pub async fn authorize(&self, method: &str, units: i64) -> Result<pb::Payment, Status> {
        let request = authorize_request(Uuid::new_v4(), method, units);
        let response = self.client.clone().authorize_payment(request).await?;
        Ok(response.into_inner().payment.expect("a payment"))
    }

    /// An authorized payment of `units` EUR.
    pub async fn authorized(&self, units: i64) -> pb::Payment {
        self.authorize("pm_card_visa", units).await.expect("authorizes")
    }

    pub async fn capture(&self, payment: &pb::Payment, amount: Option<Money>) -> Result<pb::Payment, Status> {
        let request = capture_request(&payment.payment_id, amount);
        let response = self.client.clone().capture_payment(request).await?;
        Ok(response.into_inner().payment.expect("a payment"))
    }

    pub async fn cancel(&self, payment: &pb::Payment) -> Result<pb::Payment, Status> {
        let request = cancel_request(&payment.payment_id);
        let response = self.client.clone().cancel_payment(request).await?;
        Ok(response.into_inner().payment.expect("a payment"))
    }

    pub async fn refund(&self, payment: &pb::Payment, amount: Option<Money>) -> Result<pb::Payment, Status> {
        let request = refund_request(&payment.payment_id, amount);
        let response = self.client.clone().refund_payment(request).await?;
        Ok(response.into_inner().payment.expect("a payment"))
    }

    pub async fn get(&self, payment_id: &str) -> Result<pb::Payment, Status> {
        let request = pb::GetPaymentRequest {
            payment_id: payment_id.to_owned(),
        };
        let response = self.client.clone().get_payment(request).await?;
        Ok(response.into_inner().payment.expect("a payment"))
    }
}

impl Drop for PaymentsApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// `units` and `nanos` of EUR.
pub fn eur(units: i64, nanos: i32) -> Money {
    Money {
        currency_code: "EUR".into(),
        units,
        nanos,
    }
}

pub fn authorize_request(order_id: Uuid, method: &str, units: i64) -> pb::AuthorizePaymentRequest {
    pb::AuthorizePaymentRequest {
        request_id: Uuid::new_v4().to_string(),
        order_id: order_id.to_string(),
        customer_id: "alice".into(),
        amount: Some(eur(units, 0)),
        payment_method: method.into(),
    }
}

pub fn capture_request(payment_id: &str, amount: Option<Money>) -> pb::CapturePaymentRequest {
    pb::CapturePaymentRequest {
        request_id: Uuid::new_v4().to_string(),
        payment_id: payment_id.to_owned(),
        amount,
    }
}

pub fn cancel_request(payment_id: &str) -> pb::CancelPaymentRequest {
    pb::CancelPaymentRequest {
        request_id: Uuid::new_v4().to_string(),
        payment_id: payment_id.to_owned(),
        reason: "customer changed their mind".into(),
    }
}

pub fn refund_request(payment_id: &str, amount: Option<Money>) -> pb::RefundPaymentRequest {
    pb::RefundPaymentRequest {
        request_id: Uuid::new_v4().to_string(),
        payment_id: payment_id.to_owned(),
        amount,
        reason: "returned".into(),
    }
}

/// A payment's ledger as `"<kind> <amount>"` lines, e.g. `"CAPTURED EUR 6.000000000"`.
pub fn ledger(payment: &pb::Payment) -> Vec<String> {
    (payment.movements.iter())
        .map(|m| format!("{} {}", kind(m.kind()), crate::assertions::show_money(&m.amount)))
        .collect()
}

fn kind(kind: pb::MovementKind) -> &'static str {
    kind.as_str_name().trim_start_matches("MOVEMENT_KIND_")
}

/// A payment's state and amounts: `(state, authorized, captured, refunded)`.
pub fn amounts(payment: &pb::Payment) -> (pb::PaymentState, String, String, String) {
    use crate::assertions::show_money;
    (
        payment.state(),
        show_money(&payment.amount_authorized),
        show_money(&payment.amount_captured),
        show_money(&payment.amount_refunded),
    )
}

/// Asserts a payments error: `code`, `reason`, domain "payments".
#[track_caller]
pub fn assert_payments_error(status: &Status, code: tonic::Code, reason: &str) -> tonic_types::ErrorDetails {
    assert_error_in("payments", status, code, reason)
}
