//! Test support for the fast tier: the core's ports in memory (`MemoryTable`, `RecordingPublisher`), so the
//! use cases run in unit tests without the local AWS. Built for the core's own tests, and for other crates'
//! tests with the `testing` feature.

mod memory;
mod memory_dispatch;
mod publisher;

pub use memory::{Contents, Failure, MemoryTable};
pub use publisher::RecordingPublisher;
