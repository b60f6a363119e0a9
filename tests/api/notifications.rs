//! The notifications service: one email per order event, at a real SMTP
//! server, whatever happens to the SMTP server, the events and the service.
//!
//! `emails.rs`: what each email says and to whom; `payments.rs`: the
//! emails of card payments (paid, declined, timed out, refunded);
//! `delivery.rs`: SMTP outages, refused addresses, poison and repeated
//! events; `crashes.rs`: the service killed with kill -9 under load.

mod crashes;
mod delivery;
mod emails;
mod payments;
