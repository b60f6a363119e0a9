//! GetPayment and ListPayments: payments with their ledgers; a customer
//! sees only its own (someone else's payment is NOT_FOUND, someone else's
//! order has none).

use uuid::Uuid;

use super::{PaymentsState, change::not_found, to_proto};
use crate::{
    auth::Caller,
    error::ApiError,
    payments::db::payments::{self, MovementRow, PaymentRow},
    proto::payments::v1 as pb,
};

pub async fn get(state: &PaymentsState, caller: &Caller, id: Uuid) -> Result<pb::GetPaymentResponse, ApiError> {
    let (payment, movements) = state
        .run(async |conn| {
            let payment = payments::find(conn, id).await?;
            let payment = payment
                .filter(|p| caller.may_see(&p.customer_id))
                .ok_or_else(|| not_found(id))?;
            Ok((payment, payments::movements_of(conn, &[id]).await?))
        })
        .await?;
    Ok(pb::GetPaymentResponse {
        payment: Some(to_proto::payment(&payment, &movements)),
    })
}

pub async fn list(
    state: &PaymentsState,
    caller: &Caller,
    order_id: Uuid,
) -> Result<pb::ListPaymentsResponse, ApiError> {
    let (found, movements) = state
        .run(async |conn| {
            let found = payments::for_order(conn, order_id).await?;
            let found: Vec<PaymentRow> = found.into_iter().filter(|p| caller.may_see(&p.customer_id)).collect();
            let ids: Vec<Uuid> = found.iter().map(|p| p.id).collect();
            Ok((found, payments::movements_of(conn, &ids).await?))
        })
        .await?;
    let ledger_of =
        |id: Uuid| -> Vec<MovementRow> { movements.iter().filter(|m| m.payment_id == id).cloned().collect() };
    Ok(pb::ListPaymentsResponse {
        payments: found.iter().map(|p| to_proto::payment(p, &ledger_of(p.id))).collect(),
    })
}
