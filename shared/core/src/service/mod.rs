//! Use cases over ports: no AWS types here, so they run against real adapters or test doubles alike.

pub mod admin;
pub mod bulk;
pub mod dispatch;
mod dispatch_plan;
pub mod erasure;
pub mod ingest;
pub mod ingest_plan;
pub mod job_runs;
pub mod jobs;
pub mod notifications;
pub mod reads;
pub mod redelivery;
pub mod subscriptions;
pub mod sweep;
