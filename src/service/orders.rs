//! `orders.v1.OrderService`.

use tonic::{Request, Response, Status};

use super::parse_id;
use crate::{
    actions::{AppState, detached, idempotent, orders},
    db::retry::retry_transient,
    domain::{
        fields,
        order::{Cancellation, NewOrder},
        page::{self, Listing, OrderCursor},
        violations::Violations,
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
        let request = request.into_inner();
        let order = NewOrder::try_from(&request)?;
        let content = proto::CreateOrderRequest {
            request_id: String::new(),
            ..request
        };
        // Keys are scoped per customer: two customers may pick the same UUID.
        let scope = format!("CreateOrder/{}", order.customer_id);
        let key = idempotent::key(scope, order.request_id, &content);
        let state = self.state.clone();
        let response =
            detached(async move { retry_transient(|| orders::place_order(&state, &order, key.as_ref())).await })
                .await?;
        Ok(Response::new(response))
    }

    async fn get_order(
        &self,
        request: Request<proto::GetOrderRequest>,
    ) -> Result<Response<proto::GetOrderResponse>, Status> {
        let id = parse_id("order_id", &request.get_ref().order_id)?;
        Ok(Response::new(orders::get_order(&self.state, id).await?))
    }

    async fn get_order_history(
        &self,
        request: Request<proto::GetOrderHistoryRequest>,
    ) -> Result<Response<proto::GetOrderHistoryResponse>, Status> {
        let request = request.get_ref();
        let mut v = Violations::default();
        let customer_id = v.check("customer_id", fields::customer_id(&request.customer_id));
        let page_size = v.check("page_size", page::page_size(request.page_size));
        // The token is checked against the customer it is used for, so only a
        // valid customer id can be paired with it.
        let cursor = customer_id.as_deref().and_then(|customer_id| {
            let listing = Listing::OrderHistory { customer_id };
            v.check(
                "page_token",
                self.state.page_key.open::<OrderCursor>(listing, &request.page_token),
            )
        });
        let (customer_id, (page_size, cursor)) = v.finish(customer_id.zip(page_size.zip(cursor)))?;
        Ok(Response::new(
            orders::history(&self.state, &customer_id, page_size, cursor).await?,
        ))
    }

    async fn cancel_order(
        &self,
        request: Request<proto::CancelOrderRequest>,
    ) -> Result<Response<proto::CancelOrderResponse>, Status> {
        let c = Cancellation::try_from(request.get_ref())?;
        let state = self.state.clone();
        let order =
            detached(
                async move { retry_transient(|| orders::cancel(&state, c.order_id, &c.customer_id, &c.reason)).await },
            )
            .await?;
        Ok(Response::new(proto::CancelOrderResponse { order: Some(order) }))
    }

    async fn ship_order(
        &self,
        request: Request<proto::ShipOrderRequest>,
    ) -> Result<Response<proto::ShipOrderResponse>, Status> {
        let id = parse_id("order_id", &request.get_ref().order_id)?;
        let state = self.state.clone();
        let order = detached(async move { retry_transient(|| orders::ship(&state, id)).await }).await?;
        Ok(Response::new(proto::ShipOrderResponse { order: Some(order) }))
    }
}
