//! Email: rendering an order event into a message ([`render`]) and
//! delivering it ([`transport`]), with lettre.

pub mod render;
pub mod transport;
