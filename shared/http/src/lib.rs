//! The HTTP edge shared by the HTTP functions: auth, body checks, problem responses.

pub mod admission;
pub mod body;
pub mod edge;
pub mod event_view;
pub mod job_view;
pub mod openapi;
pub mod openapi_customers;
mod openapi_dialects;
mod openapi_jobs;
mod openapi_reads;
mod openapi_subscriptions;
pub mod problem;
pub mod request_scope;
pub mod routes;
pub mod runtime;
pub mod subscription_view;

pub use problem::{json_response, Problem, ProblemDetails};
