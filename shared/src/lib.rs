//! The event collector's domain crate: pure domain rules, the ports they need, the AWS adapters that
//! implement those ports, and the HTTP edge shared by the HTTP functions.

pub mod adapters;
pub mod domain;
pub mod http;
pub mod ports;
pub mod service;
