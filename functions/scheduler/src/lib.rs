//! The scheduler function, ticked every minute by an EventBridge rule: the recovery sweep, then the
//! notification jobs that are due (each slot run once, see `collector_core::service::job_runs`).

use collector_core::ports::{AdmissionStore, Clock, DispatchQueue, JobSchedule, JobStore, PendingEvents, StoreError};
use collector_core::service::job_runs::{run_due_jobs, JobRunner, TickConfig, TickReport};
use collector_core::service::sweep::{sweep, SweepConfig, SweepReport};

pub mod wiring;

/// What the scheduler needs, built once per cold start.
pub struct Deps<S, Q, R> {
    pub store: S,
    pub queue: Q,
    pub runner: R,
    pub clock: Box<dyn Clock>,
    pub sweep: SweepConfig,
    pub jobs: TickConfig,
}

/// The function over its dependencies.
pub struct Handler<S, Q, R>(Deps<S, Q, R>);

impl<S, Q, R> From<Deps<S, Q, R>> for Handler<S, Q, R> {
    fn from(deps: Deps<S, Q, R>) -> Self {
        Self(deps)
    }
}

/// What one tick did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Tick {
    pub sweep: SweepReport,
    pub jobs: TickReport,
}

impl<S, Q, R> Handler<S, Q, R>
where
    S: PendingEvents + JobSchedule + JobStore + AdmissionStore + Sync,
    Q: DispatchQueue + Sync,
    R: JobRunner + Sync,
{
    /// One tick: the sweep and the jobs, each whether or not the other failed. An error fails the
    /// invocation; the next tick sweeps and runs again (runs are claimed per slot, so a retried tick never
    /// runs a slot twice).
    pub async fn handle(&self) -> Result<Tick, StoreError> {
        let deps = &self.0;
        let swept = sweep(&deps.store, &deps.queue, deps.clock.now(), deps.sweep).await;
        let jobs = run_due_jobs(&deps.store, &deps.runner, deps.clock.as_ref(), deps.jobs).await;
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
