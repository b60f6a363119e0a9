//! `orders.v1.AuditService`: the audit trail, for auditors.

use futures_util::FutureExt;
use tonic::{Request, Response, Status};

use crate::{
    actions::{AppState, Call, audit, detached},
    domain::audit::AuditPage,
    proto::{self, audit_service_server::AuditService},
};

/// The audit service over the orders service's [`AppState`] (the trail
/// lives in its database).
#[derive(Debug, Clone)]
pub struct AuditApi {
    state: AppState,
}

impl AuditApi {
    pub fn new(state: AppState) -> Self {
        AuditApi { state }
    }
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn list_audit_events(
        &self,
        request: Request<proto::ListAuditEventsRequest>,
    ) -> Result<Response<proto::ListAuditEventsResponse>, Status> {
        let page = AuditPage::parse(request.get_ref(), &self.state.page_key)?;
        let call = Call::new(&self.state, &request)?;
        let response = detached((call, page), |(call, page)| {
            audit::list_audit_events(call, page).boxed()
        });
        Ok(Response::new(response.await?))
    }
}
