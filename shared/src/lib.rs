//! The event collector's domain crate: pure domain rules, the ports they need, the AWS adapters that
//! implement those ports, and the HTTP edge shared by the HTTP functions.

#[cfg(feature = "aws")]
pub mod adapters;
pub mod config;
pub mod domain;
pub mod fuzzing;
#[cfg(feature = "aws")]
pub mod http;
pub mod ports;
#[cfg(feature = "aws")]
pub mod service;
