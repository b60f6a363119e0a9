//! The payment service's client, as the saga calls it: over gRPC at
//! `--payments-url`, traced and measured ([`TraceClientLayer`]), with the
//! orders service's own bearer token (role `service`), and a deadline on
//! every call.
//!
//! The token: the file `--payments-token-file` (read at every call, so a
//! rotated token is used at once); else, when this process has the HS256
//! secret, a short-lived token it mints itself; else none (a payment
//! service without authentication).

use std::{path::PathBuf, time::Duration};

use tonic::{Code, Request, Status, metadata::MetadataValue, transport::Channel};
use tower::Layer;
use uuid::Uuid;

use crate::{
    auth::mint::Minter,
    config::AuthSettings,
    jobs::worker::JobError,
    middleware::trace_client::{TraceClient, TraceClientLayer},
    proto::{
        Money,
        payments::v1::{
            AuthorizePaymentRequest, CancelPaymentRequest, CapturePaymentRequest, ListPaymentsRequest, Payment,
            RefundPaymentRequest, payment_service_client::PaymentServiceClient,
        },
    },
};

/// The longest one call may take; the job retries after it.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a minted token is valid; one is minted per call.
const MINTED_TTL: Duration = Duration::from_secs(300);

/// Where the bearer token comes from.
pub enum TokenSource {
    File(PathBuf),
    Minted(Minter),
    None,
}

impl TokenSource {
    /// The file if configured, else minted with the HS256 secret if this
    /// process has one, else none.
    pub fn from_settings(token_file: Option<&PathBuf>, auth: &AuthSettings) -> TokenSource {
        match (token_file, Minter::from_settings(auth)) {
            (Some(file), _) => TokenSource::File(file.clone()),
            (None, Ok(minter)) => TokenSource::Minted(minter),
            (None, Err(_)) => TokenSource::None,
        }
    }

    fn token(&self) -> Result<Option<String>, CallError> {
        let unusable = |e: &dyn std::fmt::Display| CallError::Unreachable(format!("the payments token: {e}"));
        match self {
            TokenSource::File(file) => std::fs::read_to_string(file)
                .map(|token| Some(token.trim().to_owned()))
                .map_err(|e| unusable(&format!("{}: {e}", file.display()))),
            TokenSource::Minted(minter) => (minter.mint("orders", &["service".to_owned()], MINTED_TTL))
                .map(Some)
                .map_err(|e| unusable(&e)),
            TokenSource::None => Ok(None),
        }
    }
}

/// Why a call did not give an answer to go on with.
#[derive(Debug)]
pub enum CallError {
    /// The payment service answered, and refused (INVALID_ARGUMENT,
    /// FAILED_PRECONDITION, NOT_FOUND): asking again gets the same answer.
    Refused(Status),
    /// No answer (unreachable, too slow, overloaded, our token refused):
    /// worth asking again later.
    Unreachable(String),
}

impl From<Status> for CallError {
    fn from(status: Status) -> Self {
        match status.code() {
            Code::InvalidArgument | Code::FailedPrecondition | Code::NotFound | Code::OutOfRange => {
                CallError::Refused(status)
            }
            code => CallError::Unreachable(format!("{code:?}: {}", status.message())),
        }
    }
}

impl From<CallError> for JobError {
    fn from(error: CallError) -> Self {
        match error {
            CallError::Refused(status) => JobError::Retry(format!(
                "the payment service refused: {:?}: {}",
                status.code(),
                status.message()
            )),
            CallError::Unreachable(why) => JobError::Retry(format!("the payment service did not answer: {why}")),
        }
    }
}

/// The idempotency key of `step` of the order or payment `id`: the same
/// for every attempt, so a repeated call is a replay.
pub fn request_id(id: Uuid, step: &str) -> String {
    Uuid::new_v5(&id, step.as_bytes()).to_string()
}

/// The payment service, as the saga calls it.
pub struct PaymentsClient {
    client: PaymentServiceClient<TraceClient<Channel>>,
    token: TokenSource,
}

impl PaymentsClient {
    /// A client of the payment service on `channel` (connected lazily).
    pub fn new(channel: Channel, token: TokenSource) -> PaymentsClient {
        PaymentsClient {
            client: PaymentServiceClient::new(TraceClientLayer.layer(channel)),
            token,
        }
    }

    fn request<T>(&self, message: T) -> Result<Request<T>, CallError> {
        let mut request = Request::new(message);
        request.set_timeout(CALL_TIMEOUT);
        if let Some(token) = self.token.token()? {
            let value = MetadataValue::try_from(format!("Bearer {token}"))
                .map_err(|e| CallError::Unreachable(format!("the payments token is not a header value: {e}")))?;
            request.metadata_mut().insert("authorization", value);
        }
        Ok(request)
    }

    /// Authorizes `amount` on `payment_method` for the order.
    pub async fn authorize(
        &self,
        order_id: Uuid,
        customer_id: &str,
        amount: Money,
        payment_method: &str,
    ) -> Result<Payment, CallError> {
        let request = self.request(AuthorizePaymentRequest {
            request_id: request_id(order_id, "authorize"),
            order_id: order_id.to_string(),
            customer_id: customer_id.to_owned(),
            amount: Some(amount),
            payment_method: payment_method.to_owned(),
        })?;
        let response = self.client.clone().authorize_payment(request).await?;
        the_payment(response.into_inner().payment)
    }

    /// Captures all that payment `payment_id` holds.
    pub async fn capture(&self, payment_id: Uuid) -> Result<Payment, CallError> {
        let request = self.request(CapturePaymentRequest {
            request_id: request_id(payment_id, "capture"),
            payment_id: payment_id.to_string(),
            amount: None,
        })?;
        the_payment(self.client.clone().capture_payment(request).await?.into_inner().payment)
    }

    /// Releases what payment `payment_id` holds.
    pub async fn release(&self, payment_id: Uuid) -> Result<Payment, CallError> {
        let request = self.request(CancelPaymentRequest {
            request_id: request_id(payment_id, "release"),
            payment_id: payment_id.to_string(),
            reason: "the order was cancelled".to_owned(),
        })?;
        the_payment(self.client.clone().cancel_payment(request).await?.into_inner().payment)
    }

    /// Refunds all that is left of payment `payment_id`.
    pub async fn refund(&self, payment_id: Uuid) -> Result<Payment, CallError> {
        let request = self.request(RefundPaymentRequest {
            request_id: request_id(payment_id, "refund"),
            payment_id: payment_id.to_string(),
            amount: None,
            reason: "the order was cancelled".to_owned(),
        })?;
        the_payment(self.client.clone().refund_payment(request).await?.into_inner().payment)
    }

    /// Every payment of order `order_id`.
    pub async fn list(&self, order_id: Uuid) -> Result<Vec<Payment>, CallError> {
        let request = self.request(ListPaymentsRequest {
            order_id: order_id.to_string(),
        })?;
        Ok(self.client.clone().list_payments(request).await?.into_inner().payments)
    }
}

fn the_payment(payment: Option<Payment>) -> Result<Payment, CallError> {
    payment.ok_or_else(|| CallError::Unreachable("the payment service answered without a payment".to_owned()))
}

/// A payment's id as the payment service gave it.
pub fn payment_id(payment: &Payment) -> Result<Uuid, JobError> {
    Uuid::parse_str(&payment.payment_id).map_err(|e| {
        JobError::Retry(format!(
            "the payment service gave the payment id {:?}: {e}",
            payment.payment_id
        ))
    })
}
