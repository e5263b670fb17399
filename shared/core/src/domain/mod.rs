//! Pure domain: types and rules with no I/O.

pub mod activity;
pub mod api_key;
pub mod audience;
pub mod bulk_envelope;
pub mod consent;
pub mod cron_fields;
pub mod currency;
pub mod custom_event;
pub mod customer;
pub mod customer_input;
pub mod delivery;
pub mod delivery_listing;
pub mod destination_input;
pub mod email_identity;
pub mod entity_event;
pub mod entity_state;
pub mod erasure;
pub mod esputnik;
mod esputnik_effects;
pub mod event;
pub(crate) mod event_fields;
pub mod event_listing;
pub mod identity;
pub mod ids;
pub mod job;
pub mod limits;
pub mod network;
pub mod operational;
pub mod order;
pub mod outbound;
pub mod rate_limit;
pub mod redelivery;
pub mod retry;
pub mod schedule;
pub mod store;
pub mod store_settings;
pub mod subscription;
pub mod subscription_input;
pub mod trace;
pub mod validation;
pub mod values;
pub mod webhook_signature;

#[cfg(test)]
mod custom_event_tests;
