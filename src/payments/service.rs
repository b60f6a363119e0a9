//! `payments.v1.PaymentService`, thin: parse the request, run the action
//! detached from the caller, answer; errors in the domain "payments".
//!
//! Method-level access is decided before a handler runs (the auth layer:
//! only the `service` role moves money); a customer reading payments sees
//! only its own (in the actions).

use futures_util::FutureExt;
use tonic::{Request, Response, Status};

use super::{
    actions::{
        PaymentsState, authorize,
        change::{self, Kind},
        reads,
    },
    domain::{ERROR_DOMAIN, requests::Change},
};
use crate::{
    actions::detached,
    auth::Caller,
    db::idempotency::{self, IdempotentRequest},
    domain::reads::parse_id,
    error::ApiError,
    proto::payments::v1::{self as pb, payment_service_server::PaymentService},
};

/// The payment service over its [`PaymentsState`].
#[derive(Clone)]
pub struct PaymentApi {
    state: PaymentsState,
}

impl PaymentApi {
    pub fn new(state: PaymentsState) -> Self {
        PaymentApi { state }
    }

    /// Capture, cancel or refund: `request` parsed, then [`change::change`].
    async fn change<M, R>(&self, request: Request<M>, kind: Kind, respond: fn(pb::Payment) -> R) -> Result<R, ApiError>
    where
        M: IdempotentRequest + Send + 'static,
        for<'a> Change: TryFrom<&'a M, Error = ApiError>,
        R: prost::Message + Default + Clone + Send + 'static,
    {
        Caller::of(&request)?;
        let request = request.into_inner();
        let parsed = Change::try_from(&request)?;
        let key = idempotency::key(Some(parsed.request_id), request).ok_or_else(no_key)?;
        let input = (self.state.clone(), parsed, key, kind, respond);
        detached(input, |(state, parsed, key, kind, respond)| {
            change::change(state, *kind, parsed, key, *respond).boxed()
        })
        .await
    }
}

/// The error of this service as a status, in the domain "payments".
fn status(error: ApiError) -> Status {
    error.into_status(ERROR_DOMAIN)
}

fn no_key() -> ApiError {
    ApiError::internal("a parsed request without its request_id")
}

#[tonic::async_trait]
impl PaymentService for PaymentApi {
    async fn authorize_payment(
        &self,
        request: Request<pb::AuthorizePaymentRequest>,
    ) -> Result<Response<pb::AuthorizePaymentResponse>, Status> {
        let answer = async {
            Caller::of(&request)?;
            let request = request.into_inner();
            let parsed = super::domain::requests::Authorization::try_from(&request)?;
            let key = idempotency::key(Some(parsed.request_id), request).ok_or_else(no_key)?;
            let input = (self.state.clone(), parsed, key);
            detached(input, |(state, parsed, key)| {
                authorize::authorize(state, parsed, key).boxed()
            })
            .await
        };
        answer.await.map(Response::new).map_err(status)
    }

    async fn capture_payment(
        &self,
        request: Request<pb::CapturePaymentRequest>,
    ) -> Result<Response<pb::CapturePaymentResponse>, Status> {
        let respond = |payment| pb::CapturePaymentResponse { payment: Some(payment) };
        let answer = self.change(request, Kind::Capture, respond).await;
        answer.map(Response::new).map_err(status)
    }

    async fn cancel_payment(
        &self,
        request: Request<pb::CancelPaymentRequest>,
    ) -> Result<Response<pb::CancelPaymentResponse>, Status> {
        let respond = |payment| pb::CancelPaymentResponse { payment: Some(payment) };
        let answer = self.change(request, Kind::Cancel, respond).await;
        answer.map(Response::new).map_err(status)
    }

    async fn refund_payment(
        &self,
        request: Request<pb::RefundPaymentRequest>,
    ) -> Result<Response<pb::RefundPaymentResponse>, Status> {
        let respond = |payment| pb::RefundPaymentResponse { payment: Some(payment) };
        let answer = self.change(request, Kind::Refund, respond).await;
        answer.map(Response::new).map_err(status)
    }

    async fn get_payment(
        &self,
        request: Request<pb::GetPaymentRequest>,
    ) -> Result<Response<pb::GetPaymentResponse>, Status> {
        let answer = async {
            let id = parse_id("payment_id", &request.get_ref().payment_id)?;
            let caller = Caller::of(&request)?;
            let input = (self.state.clone(), caller, id);
            detached(input, |(state, caller, id)| reads::get(state, caller, *id).boxed()).await
        };
        answer.await.map(Response::new).map_err(status)
    }

    async fn list_payments(
        &self,
        request: Request<pb::ListPaymentsRequest>,
    ) -> Result<Response<pb::ListPaymentsResponse>, Status> {
        let answer = async {
            let id = parse_id("order_id", &request.get_ref().order_id)?;
            let caller = Caller::of(&request)?;
            let input = (self.state.clone(), caller, id);
            detached(input, |(state, caller, id)| reads::list(state, caller, *id).boxed()).await
        };
        answer.await.map(Response::new).map_err(status)
    }
}
