//! Who may call what: the roles a token can carry and the access table.
//!
//! [`access`] is the whole policy, one line per rule, and the README's
//! table is checked against it (`tests/api/authz.rs`). Catalog reads are
//! open to every role; everything else is granted by exactly one rule.
//!
//! "Own" access means the caller acts for the customer its token names
//! (`sub`): the service layer checks the request's `customer_id`, or the
//! order's owner, against it ([`super::Caller`]).

use std::fmt;

use crate::proto::Method;

/// A role a token grants, from its `roles` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// A shopper; the token's subject is the customer id.
    Customer,
    /// The warehouse: reads any order and ships it.
    Warehouse,
    /// Keeps the catalog: adds, changes and archives products, adds stock.
    CatalogAdmin,
    /// An internal service acting for customers (a front end's back end).
    Service,
    /// Reads the audit trail, and nothing else that is not public.
    Auditor,
}

/// How far a role may go with one method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    Denied,
    /// Only for the customer the token names.
    Own,
    /// For anyone.
    Any,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Customer,
        Role::Warehouse,
        Role::CatalogAdmin,
        Role::Service,
        Role::Auditor,
    ];

    /// The role's name in tokens, in the audit trail and in the API.
    pub fn name(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Warehouse => "warehouse",
            Role::CatalogAdmin => "catalog-admin",
            Role::Service => "service",
            Role::Auditor => "auditor",
        }
    }

    /// The role called `name`; unknown names are not roles of this service.
    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.name() == name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What `role` may do with `method`.
pub fn access(role: Role, method: Method) -> Access {
    use Method::*;
    use Role::*;
    match (role, method) {
        (_, GetProduct | ListProducts | SearchProducts) => Access::Any,
        (Customer, CreateOrder | GetOrder | GetOrderHistory | CancelOrder) => Access::Own,
        (Service, CreateOrder | GetOrder | GetOrderHistory | CancelOrder) => Access::Any,
        (Warehouse, GetOrder | ShipOrder | ListOrders) => Access::Any,
        (Service, ListOrders) => Access::Any,
        (Customer, GetPayment | ListPayments) => Access::Own,
        (Service, AuthorizePayment | CapturePayment | CancelPayment | RefundPayment | GetPayment | ListPayments) => {
            Access::Any
        }
        (CatalogAdmin, CreateProduct | RestockProduct | UpdateProduct | ArchiveProduct | UnarchiveProduct) => {
            Access::Any
        }
        (Auditor, ListAuditEvents) => Access::Any,
        _ => Access::Denied,
    }
}

/// The widest access any of `roles` has to `method`, with the role that
/// grants it (the first such role in [`Role::ALL`] order, for a stable
/// audit trail).
pub fn best_access(roles: &[Role], method: Method) -> (Access, Option<Role>) {
    Role::ALL
        .into_iter()
        .filter(|role| roles.contains(role))
        .map(|role| (access(role, method), Some(role)))
        .fold(
            (Access::Denied, None),
            |best, next| if next.0 > best.0 { next } else { best },
        )
}

/// The roles that may call `method` at all, for error messages.
pub fn roles_allowed(method: Method) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|role| access(*role, method) != Access::Denied)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::from_name(role.name()), Some(role));
        }
        assert_eq!(Role::from_name("admin"), None);
        assert_eq!(Role::from_name("Customer"), None);
    }

    #[test]
    fn the_widest_role_wins_and_is_named() {
        let both = [Role::Customer, Role::Service];
        assert_eq!(
            best_access(&both, Method::GetOrderHistory),
            (Access::Any, Some(Role::Service))
        );
        assert_eq!(
            best_access(&[Role::Customer], Method::ShipOrder),
            (Access::Denied, None)
        );
        assert_eq!(best_access(&[], Method::GetProduct), (Access::Denied, None));
        assert_eq!(
            best_access(&[Role::Warehouse, Role::Customer], Method::GetProduct),
            (Access::Any, Some(Role::Customer))
        );
    }

    #[test]
    fn only_the_warehouse_ships_only_catalog_admins_change_the_catalog_and_only_auditors_read_the_trail() {
        assert_eq!(roles_allowed(Method::ShipOrder), [Role::Warehouse]);
        assert_eq!(roles_allowed(Method::CreateProduct), [Role::CatalogAdmin]);
        assert_eq!(roles_allowed(Method::RestockProduct), [Role::CatalogAdmin]);
        assert_eq!(roles_allowed(Method::UpdateProduct), [Role::CatalogAdmin]);
        assert_eq!(roles_allowed(Method::ArchiveProduct), [Role::CatalogAdmin]);
        assert_eq!(roles_allowed(Method::UnarchiveProduct), [Role::CatalogAdmin]);
        assert_eq!(roles_allowed(Method::SearchProducts), Role::ALL);
        assert_eq!(roles_allowed(Method::ListAuditEvents), [Role::Auditor]);
        assert_eq!(roles_allowed(Method::ListProducts), Role::ALL);
        assert_eq!(roles_allowed(Method::ListOrders), [Role::Warehouse, Role::Service]);
        assert_eq!(roles_allowed(Method::CapturePayment), [Role::Service]);
        assert_eq!(roles_allowed(Method::GetPayment), [Role::Customer, Role::Service]);
    }
}
