//! Settling a cancelled order's payment: every payment the payment service
//! has for the order is released if it only holds money, refunded if money
//! was taken; then the order records how it ended (once).
//!
//! Run by the settle job, and at once by the charge job when its payment
//! lands on an order cancelled meanwhile. A payment that changes state
//! while being settled (a capture racing a release) makes the payment
//! service refuse; the job then tries again and sees the new state.

use uuid::Uuid;

use super::{
    Saga,
    client::payment_id,
    steps::{self, Settlement},
};
use crate::{db::audit::Actor, jobs::worker::JobError, proto::payments::v1::PaymentState};

/// Releases or refunds every payment of cancelled order `order_id`.
pub async fn run(saga: &Saga, order_id: Uuid, actor: &Actor) -> Result<(), JobError> {
    let mut settlement = Settlement::Released(None);
    for payment in saga.payments.list(order_id).await? {
        let id = payment_id(&payment)?;
        match payment.state() {
            PaymentState::Authorized => {
                saga.payments.release(id).await?;
                settlement = settlement.or_released(id);
            }
            PaymentState::Captured | PaymentState::PartiallyRefunded => {
                saga.payments.refund(id).await?;
                settlement = Settlement::Refunded(id);
            }
            PaymentState::Refunded => settlement = Settlement::Refunded(id),
            PaymentState::Cancelled => settlement = settlement.or_released(id),
            PaymentState::Declined | PaymentState::Unspecified => {}
        }
    }
    steps::settled(saga, order_id, settlement, actor).await
}

impl Settlement {
    /// A release of payment `id`, unless money was refunded already (that
    /// says more).
    fn or_released(self, id: Uuid) -> Settlement {
        match self {
            Settlement::Released(_) => Settlement::Released(Some(id)),
            refunded => refunded,
        }
    }
}
