//! `orders.v1.OrderService`.
//!
//! Method-level access is decided before a handler runs (the auth layer);
//! here, after parsing, a customer's requests are held to its own customer
//! id ([`crate::auth::Caller::act_for`]), and GetOrder hides other
//! customers' orders as NOT_FOUND (in the action).

use tonic::{Request, Response, Status};

use crate::{
    actions::{AppState, Call, detached, idempotent, orders, place},
    db::retry::retry_transient,
    domain::{
        order::{Cancellation, NewOrder},
        query::{HistoryPage, parse_id},
    },
    proto::{self, order_service_server::OrderService},
};

/// The order service over the shared [`AppState`].
#[derive(Debug, Clone)]
pub struct OrderApi {
    state: AppState,
}

impl OrderApi {
    pub fn new(state: AppState) -> Self {
        OrderApi { state }
    }
}

#[tonic::async_trait]
impl OrderService for OrderApi {
    async fn create_order(
        &self,
        request: Request<proto::CreateOrderRequest>,
    ) -> Result<Response<proto::CreateOrderResponse>, Status> {
        let call = Call::new(&self.state, &request)?;
        let request = request.into_inner();
        let order = NewOrder::try_from(&request)?;
        call.caller.act_for(&order.customer_id)?;
        let content = proto::CreateOrderRequest {
            request_id: String::new(),
            ..request
        };
        // Keys are scoped per customer: two customers may pick the same UUID.
        let scope = format!("CreateOrder/{}", order.customer_id);
        let key = idempotent::key(scope, order.request_id, &content);
        let response =
            detached(async move { retry_transient(|| place::place_order(&call, &order, key.as_ref())).await }).await?;
        Ok(Response::new(response))
    }

    async fn get_order(
        &self,
        request: Request<proto::GetOrderRequest>,
    ) -> Result<Response<proto::GetOrderResponse>, Status> {
        let id = parse_id("order_id", &request.get_ref().order_id)?;
        let call = Call::new(&self.state, &request)?;
        Ok(Response::new(
            detached(async move { orders::get_order(&call, id).await }).await?,
        ))
    }

    async fn get_order_history(
        &self,
        request: Request<proto::GetOrderHistoryRequest>,
    ) -> Result<Response<proto::GetOrderHistoryResponse>, Status> {
        let page = HistoryPage::parse(request.get_ref(), &self.state.page_key)?;
        let call = Call::new(&self.state, &request)?;
        call.caller.act_for(&page.customer_id)?;
        Ok(Response::new(
            detached(async move { orders::history(&call, &page).await }).await?,
        ))
    }

    async fn cancel_order(
        &self,
        request: Request<proto::CancelOrderRequest>,
    ) -> Result<Response<proto::CancelOrderResponse>, Status> {
        let c = Cancellation::try_from(request.get_ref())?;
        let call = Call::new(&self.state, &request)?;
        call.caller.act_for(&c.customer_id)?;
        let order = detached(async move { retry_transient(|| orders::cancel(&call, &c)).await }).await?;
        Ok(Response::new(proto::CancelOrderResponse { order: Some(order) }))
    }

    async fn ship_order(
        &self,
        request: Request<proto::ShipOrderRequest>,
    ) -> Result<Response<proto::ShipOrderResponse>, Status> {
        let id = parse_id("order_id", &request.get_ref().order_id)?;
        let call = Call::new(&self.state, &request)?;
        let order = detached(async move { retry_transient(|| orders::ship(&call, id)).await }).await?;
        Ok(Response::new(proto::ShipOrderResponse { order: Some(order) }))
    }
}
