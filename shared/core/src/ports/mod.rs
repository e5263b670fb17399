//! Ports: the contracts between the use cases and the outside world, one narrow trait per use case (no
//! supertraits), each with its guarantees in its `///` docs. Adapters implement them for AWS; tests implement
//! them in memory or wrap them to inject failures.

mod admission;
mod dispatch;
mod erasure;
mod ingest;
mod jobs;
mod reads;
mod redelivery;
mod subscriptions;

pub use admission::*;
pub use dispatch::*;
pub use erasure::*;
pub use ingest::*;
pub use jobs::*;
pub use reads::*;
pub use redelivery::*;
pub use subscriptions::*;

use chrono::{DateTime, Utc};

/// A backend call that failed. Outcomes such as "condition not met" are never errors; they are values of
/// the operation's result type.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation}: {kind:?}: {message}")]
pub struct StoreError {
    pub operation: &'static str,
    pub kind: ErrorKind,
    pub message: String,
}

impl StoreError {
    /// `Transient` or `Permanent`: what may be said about an error where its message may not (outbound
    /// error codes users read).
    pub fn kind_label(&self) -> &'static str {
        match self.kind {
            ErrorKind::Transient => "Transient",
            ErrorKind::Permanent => "Permanent",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Throttling, timeouts, 5xx: worth retrying later.
    Transient,
    /// Bad configuration or a bug: retrying will not help.
    Permanent,
}

/// The time.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// Fresh identifiers.
pub trait IdGenerator: Send + Sync {
    /// 12 bytes in the ObjectId layout: 4 bytes of `now` in seconds, then 8 random bytes.
    fn object_id(&self, now: DateTime<Utc>) -> [u8; 12];
    /// 32 random bytes, for secrets.
    fn secret(&self) -> [u8; 32];
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Ids from the operating system's random source.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomIds;

impl IdGenerator for RandomIds {
    fn object_id(&self, now: DateTime<Utc>) -> [u8; 12] {
        let mut id = [0u8; 12];
        id[..4].copy_from_slice(&(now.timestamp() as u32).to_be_bytes());
        getrandom::fill(&mut id[4..]).expect("the OS random source is available");
        id
    }

    fn secret(&self) -> [u8; 32] {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).expect("the OS random source is available");
        secret
    }
}
