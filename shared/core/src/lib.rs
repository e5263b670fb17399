//! The event collector's core: the domain rules, the ports they need and the use cases over those ports.
//! Nothing here talks to AWS or HTTP: Cargo keeps the SDK, `lambda_http` and `reqwest` out of this crate,
//! so it builds fast, and the fuzz targets and the benchmarks need nothing else.

pub mod config;
pub mod domain;
pub mod fuzzing;
pub mod ports;
pub mod service;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
