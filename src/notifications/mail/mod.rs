//! Email: rendering an order event into a message ([`render`], with the
//! wording of a cancellation's why in [`cancellation`]) and delivering it
//! ([`transport`]), with lettre.

pub mod cancellation;
pub mod render;
pub mod transport;
