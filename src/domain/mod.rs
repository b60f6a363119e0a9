//! Validated domain types and the rules of the business, free of I/O.
//!
//! Requests are parsed into these types (`TryFrom<proto request>`), which
//! collect every field violation at once and make invalid states
//! unrepresentable: a [`order::NewOrder`] always has 1–100 distinct products
//! with sane quantities, a [`money::Money`] always has a real currency.

pub mod address;
pub mod audit;
pub mod email;
pub mod fields;
pub mod money;
pub mod order;
pub mod page;
pub mod payment;
pub mod pricing;
pub mod product;
pub mod product_change;
pub mod reads;
pub mod request;
pub mod search;
pub mod state;
pub mod violations;

#[cfg(test)]
mod proptests;
