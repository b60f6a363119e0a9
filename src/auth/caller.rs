//! The caller of one RPC as the handlers see it: who it is, the role that
//! let it in, and for whom it may act.
//!
//! The auth layer ([`crate::middleware::auth`]) puts a [`Caller`] into the
//! extensions of every call it admits. A handler that finds none refuses
//! the call ([`Caller::of`]), so a request that somehow bypassed the layer
//! is denied rather than served as anyone.

use std::sync::Arc;

use super::policy::{Access, Role};
use crate::{domain::fields::quote, error::ApiError};

/// The subject recorded for callers when authentication is off.
pub const ANONYMOUS: &str = "anonymous";
/// The role recorded for callers when authentication is off.
pub const NO_ROLE: &str = "none";

/// One admitted caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's `sub`, or [`ANONYMOUS`].
    pub subject: String,
    /// The role that granted this call; `None` when authentication is off.
    pub role: Option<Role>,
    /// [`Access::Own`] or [`Access::Any`]; never `Denied` (such calls are
    /// refused before they reach a handler).
    pub access: Access,
}

impl Caller {
    /// The caller of every call when authentication is off: anyone, for anyone.
    pub fn anonymous() -> Caller {
        Caller {
            subject: ANONYMOUS.to_owned(),
            role: None,
            access: Access::Any,
        }
    }

    /// The caller of `request`, as admitted by the auth layer.
    pub fn of<T>(request: &tonic::Request<T>) -> Result<Arc<Caller>, ApiError> {
        request
            .extensions()
            .get::<Arc<Caller>>()
            .cloned()
            .ok_or_else(|| ApiError::internal("a call reached a handler without passing the auth layer"))
    }

    /// The role's name for the audit trail ([`NO_ROLE`] without authentication).
    pub fn role_name(&self) -> &'static str {
        self.role.map_or(NO_ROLE, Role::name)
    }

    /// Whether the caller may see what belongs to `customer_id`.
    pub fn may_see(&self, customer_id: &str) -> bool {
        self.access == Access::Any || self.subject == customer_id
    }

    /// Refuses a request that names a customer other than the caller's own
    /// (PERMISSION_DENIED): asking is itself not allowed, unlike reading an
    /// order by id, where someone else's order is NOT_FOUND.
    pub fn act_for(&self, customer_id: &str) -> Result<(), ApiError> {
        if self.may_see(customer_id) {
            return Ok(());
        }
        Err(ApiError::PermissionDenied {
            reason: "CUSTOMER_MISMATCH",
            message: format!(
                "a customer token may only act for its own customer: this one is for {}, the request names {}",
                quote(&self.subject),
                quote(customer_id)
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(name: &str) -> Caller {
        Caller {
            subject: name.to_owned(),
            role: Some(Role::Customer),
            access: Access::Own,
        }
    }

    #[test]
    fn a_customer_acts_only_for_itself() {
        let alice = customer("alice");
        assert!(alice.act_for("alice").is_ok());
        assert!(matches!(
            alice.act_for("bob"),
            Err(ApiError::PermissionDenied {
                reason: "CUSTOMER_MISMATCH",
                ..
            })
        ));
        assert!(!alice.may_see("alice2"));
    }

    #[test]
    fn anyone_else_admitted_acts_for_everyone() {
        let anonymous = Caller::anonymous();
        assert!(anonymous.act_for("bob").is_ok());
        assert_eq!(anonymous.role_name(), NO_ROLE);
        let service = Caller {
            role: Some(Role::Service),
            access: Access::Any,
            ..customer("checkout")
        };
        assert!(service.may_see("bob"));
        assert_eq!(service.role_name(), "service");
    }
}
