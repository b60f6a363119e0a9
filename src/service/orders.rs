//! `orders.v1.OrderService`.
//!
//! Method-level access is decided before a handler runs (the auth layer);
//! here, after parsing, a customer's requests are held to its own customer
//! id ([`crate::auth::Caller::act_for`]), and GetOrder hides other
//! customers' orders as NOT_FOUND (in the action). ListOrders is the
//! warehouse's and internal services' (no customer may call it).

use tonic::{Request, Response, Status};

use futures_util::FutureExt;

use crate::{
    actions::{AppState, Call, detached, orders, place},
    db::idempotency,
    domain::{
        order::{Cancellation, NewOrder},
        reads::{HistoryPage, StatePage, parse_id},
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
        let key = idempotency::key(order.request_id, request);
        let response = detached((call, order, key), |(call, order, key)| {
            place::place_order(call, order, key.as_ref()).boxed()
        });
        Ok(Response::new(response.await?))
    }

    async fn get_order(
        &self,
        request: Request<proto::GetOrderRequest>,
    ) -> Result<Response<proto::GetOrderResponse>, Status> {
        let id = parse_id("order_id", &request.get_ref().order_id)?;
        let call = Call::new(&self.state, &request)?;
        let response = detached((call, id), |(call, id)| orders::get_order(call, *id).boxed());
        Ok(Response::new(response.await?))
    }

    async fn get_order_history(
        &self,
        request: Request<proto::GetOrderHistoryRequest>,
    ) -> Result<Response<proto::GetOrderHistoryResponse>, Status> {
        let page = HistoryPage::parse(request.get_ref(), &self.state.page_key)?;
        let call = Call::new(&self.state, &request)?;
        call.caller.act_for(&page.customer_id)?;
        let response = detached((call, page), |(call, page)| orders::history(call, page).boxed());
        Ok(Response::new(response.await?))
    }

    async fn cancel_order(
        &self,
        request: Request<proto::CancelOrderRequest>,
    ) -> Result<Response<proto::CancelOrderResponse>, Status> {
        let c = Cancellation::try_from(request.get_ref())?;
        let call = Call::new(&self.state, &request)?;
        call.caller.act_for(&c.customer_id)?;
        let order = detached((call, c), |(call, c)| orders::cancel(call, c).boxed()).await?;
        Ok(Response::new(proto::CancelOrderResponse { order: Some(order) }))
    }

    async fn ship_order(
        &self,
        request: Request<proto::ShipOrderRequest>,
    ) -> Result<Response<proto::ShipOrderResponse>, Status> {
        let id = parse_id("order_id", &request.get_ref().order_id)?;
        let call = Call::new(&self.state, &request)?;
        let order = detached((call, id), |(call, id)| orders::ship(call, *id).boxed()).await?;
        Ok(Response::new(proto::ShipOrderResponse { order: Some(order) }))
    }

    async fn list_orders(
        &self,
        request: Request<proto::ListOrdersRequest>,
    ) -> Result<Response<proto::ListOrdersResponse>, Status> {
        let page = StatePage::parse(request.get_ref(), &self.state.page_key)?;
        let call = Call::new(&self.state, &request)?;
        let response = detached((call, page), |(call, page)| orders::list(call, page).boxed()).await?;
        Ok(Response::new(response))
    }
}
