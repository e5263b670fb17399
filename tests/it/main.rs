//! Integration tests: the real ingest handler and adapters against moto, with resources provisioned from
//! template.yaml. One binary, so one moto serves every test.

mod access_sweep;
mod auth;
mod bulk;
mod conformance;
mod dedupe;
mod deliveries_listing;
mod delivery;
mod durability;
mod entity_events;
mod erasure;
mod esputnik;
mod examples;
mod faults;
mod fixtures;
mod identity;
mod job_runs;
mod jobs;
mod local_stack;
mod notifications;
mod observability;
mod openapi;
mod pipeline;
mod ratelimit;
mod recovery;
mod requests;
mod retention;
mod routes;
mod scale;
mod sendgrid;
mod subscriptions;
mod support;
mod throttled_scale;
mod throttling;
mod validation;
mod wiring;
