//! The scheduler function, ticked by an EventBridge rule: the recovery sweep. (Notification jobs join it.)

use shared::ports::{Clock, DispatchQueue, PendingEvents, StoreError};
use shared::service::sweep::{sweep, SweepConfig, SweepReport};

/// What the scheduler needs, built once per cold start.
pub struct Handler<S, Q> {
    pub store: S,
    pub queue: Q,
    pub clock: Box<dyn Clock>,
    pub sweep: SweepConfig,
}

impl<S: PendingEvents + Sync, Q: DispatchQueue + Sync> Handler<S, Q> {
    /// One tick. An error fails the invocation; EventBridge's next tick sweeps again.
    pub async fn tick(&self) -> Result<SweepReport, StoreError> {
        let report = sweep(&self.store, &self.queue, self.clock.now(), self.sweep).await?;
        tracing::info!(enqueued = report.enqueued, "recovery sweep");
        Ok(report)
    }
}
