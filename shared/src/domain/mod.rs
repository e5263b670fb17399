//! Pure domain: types and rules with no I/O.

pub mod api_key;
pub mod bulk_envelope;
pub mod currency;
pub mod custom_event;
pub mod customer;
pub mod event;
pub mod identity;
pub mod ids;
pub mod limits;
pub mod validation;
pub mod values;

#[cfg(test)]
mod custom_event_tests;
