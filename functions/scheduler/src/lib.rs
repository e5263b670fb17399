//! The scheduler function, ticked every minute by an EventBridge rule: the recovery sweep, then the
//! notification jobs that are due (each slot run once, see `shared::service::job_runs`).

use shared::ports::{AdmissionStore, Clock, DispatchQueue, JobSchedule, PendingEvents, StoreError};
use shared::service::job_runs::{run_due_jobs, JobRunner, TickConfig, TickReport};
use shared::service::sweep::{sweep, SweepConfig, SweepReport};

/// What the scheduler needs, built once per cold start.
pub struct Handler<S, Q, R> {
    pub store: S,
    pub queue: Q,
    pub runner: R,
    pub clock: Box<dyn Clock>,
    pub sweep: SweepConfig,
    pub jobs: TickConfig,
}

/// What one tick did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Tick {
    pub sweep: SweepReport,
    pub jobs: TickReport,
}

impl<S, Q, R> Handler<S, Q, R>
where
    S: PendingEvents + JobSchedule + AdmissionStore + Sync,
    Q: DispatchQueue + Sync,
    R: JobRunner + Sync,
{
    /// One tick: the sweep and the jobs, each whether or not the other failed. An error fails the
    /// invocation; the next tick sweeps and runs again (runs are claimed per slot, so a retried tick never
    /// runs a slot twice).
    pub async fn tick(&self) -> Result<Tick, StoreError> {
        let swept = sweep(&self.store, &self.queue, self.clock.now(), self.sweep).await;
        let jobs = run_due_jobs(&self.store, &self.runner, self.clock.as_ref(), self.jobs).await;
        let (swept, jobs) = (swept?, jobs?);
        tracing::info!(
            enqueued = swept.enqueued,
            enqueue_failed = swept.failed,
            due = jobs.due,
            ran = jobs.ran,
            skipped = jobs.skipped,
            failed = jobs.failed,
            "tick"
        );
        Ok(Tick { sweep: swept, jobs })
    }
}
