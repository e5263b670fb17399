//! The recovery sweep (DESIGN.md §3.1): events stored but never enqueued, or enqueued and never settled,
//! are enqueued again. Dispatch's ledger makes the extra message harmless.

use chrono::{DateTime, Duration, Utc};
use futures::future::join_all;

use crate::ports::{DispatchQueue, PendingEvents, StoreError};

/// Settings of the sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepConfig {
    /// How long an event may stay pending before it counts as stalled: well above a normal dispatch.
    pub grace: Duration,
    /// Events re-enqueued per run at most; the rest wait for the next run.
    pub limit: usize,
}

impl Default for SweepConfig {
    fn default() -> Self {
        Self {
            grace: Duration::minutes(5),
            limit: 1_000,
        }
    }
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    pub enqueued: usize,
    /// Stalled events whose enqueue failed this run; still pending, so the next run tries again.
    pub failed: usize,
}

/// Enqueues every event pending since before `now - grace`, then moves its marker to `now`, so the next
/// run leaves it alone for another grace period while dispatch works on it.
pub async fn sweep<S: PendingEvents + Sync, Q: DispatchQueue + Sync>(
    store: &S,
    queue: &Q,
    now: DateTime<Utc>,
    config: SweepConfig,
) -> Result<SweepReport, StoreError> {
    let stalled = store.pending_before(now - config.grace, config.limit).await?;
    if stalled.is_empty() {
        return Ok(SweepReport::default());
    }
    let mut report = SweepReport::default();
    // A batch at a time, so one failed send leaves the others enqueued and postponed.
    for chunk in stalled.chunks(ENQUEUE_BATCH) {
        if let Err(error) = queue.enqueue_many(chunk, None).await {
            tracing::warn!(%error, "re-enqueueing stalled events failed; the next sweep tries again");
            report.failed += chunk.len();
            continue;
        }
        report.enqueued += chunk.len();
        for postponed in join_all(chunk.iter().map(|event| store.postpone(event, now))).await {
            // Not fatal: an event not postponed is enqueued once more by the next run.
            if let Err(error) = postponed {
                tracing::warn!(%error, "postponing a swept event failed");
            }
        }
    }
    Ok(report)
}

/// Events per enqueue: one SQS batch.
const ENQUEUE_BATCH: usize = 10;
