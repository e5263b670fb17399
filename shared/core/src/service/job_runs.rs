//! Running due jobs: each (job, scheduled slot) runs once however many scheduler invocations see it, and a
//! job that missed slots during downtime catches up with one run, for the latest.
//!
//! Order of steps: claim the slot (a conditional create of its run record), run, record the end, then move
//! the job's next run. A crash before the end leaves the claim unfinished; once it is older than
//! `stale_after`, the next tick takes it over and runs the slot again, and the per-recipient frequency
//! cap keeps anyone from getting the mail twice. A crash after the end only delays the move: the next tick
//! finds the slot finished and moves on.

use std::future::Future;

use chrono::{DateTime, Duration, Utc};

use crate::domain::ids::StoreId;
use crate::domain::job::{Job, JobRun, RecipientsSkipped};
use crate::ports::{AdmissionStore, Claim, Clock, DueJob, ErrorKind, JobSchedule, JobStore, StoreError};

/// Attempts at recording a run's end before the tick gives up (the SDK's own retries come on top).
const FINISH_ATTEMPTS: u32 = 6;

/// What running one job for one slot produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOutcome {
    pub recipients_evaluated: u64,
    pub messages_sent: u64,
    pub skipped: RecipientsSkipped,
    pub errors: Vec<String>,
}

/// Runs a job for a slot: its audience, its email.
pub trait JobRunner {
    fn run(&self, job: &Job, slot: DateTime<Utc>) -> impl Future<Output = RunOutcome> + Send;
}

/// Settings of a scheduler tick.
#[derive(Debug, Clone, Copy)]
pub struct TickConfig {
    /// A claimed run that has not finished after this long is taken over.
    pub stale_after: Duration,
    /// Jobs handled per tick at most; the rest wait for the next tick.
    pub limit: usize,
}

impl Default for TickConfig {
    fn default() -> Self {
        Self {
            stale_after: Duration::minutes(15),
            limit: 500,
        }
    }
}

/// What a tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TickReport {
    pub due: usize,
    pub ran: usize,
    /// Slots another invocation ran or is running.
    pub skipped: usize,
    /// Jobs whose run failed on a store error this tick (logged); the next tick tries them again.
    pub failed: usize,
}

/// One scheduler tick.
pub async fn run_due_jobs<S: JobSchedule + JobStore + AdmissionStore + Sync, R: JobRunner + Sync>(
    store: &S,
    runner: &R,
    clock: &dyn Clock,
    config: TickConfig,
) -> Result<TickReport, StoreError> {
    let now = clock.now();
    let due = store.due_jobs(now, config.limit).await?;
    let mut report = TickReport {
        due: due.len(),
        ..TickReport::default()
    };
    // One job's failure does not hold up the others.
    for entry in due {
        match run_slot(store, runner, clock, &entry, config).await {
            Ok(true) => report.ran += 1,
            Ok(false) => report.skipped += 1,
            Err(error) => {
                tracing::warn!(job_id = %entry.job_id, %error, "a due job failed; the next tick tries again");
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

/// Runs the latest slot of a due job at or before `now`, once. `Ok(false)` when it did not run here.
async fn run_slot<S: JobSchedule + JobStore + AdmissionStore + Sync, R: JobRunner + Sync>(
    store: &S,
    runner: &R,
    clock: &dyn Clock,
    entry: &DueJob,
    config: TickConfig,
) -> Result<bool, StoreError> {
    let now = clock.now();
    let job = store.job(&entry.store_id, &entry.job_id).await?;
    let Some((job, (schedule, zone))) = job.and_then(|j| {
        let parsed = j.parsed_schedule().filter(|_| j.runs())?;
        Some((j, parsed))
    }) else {
        // Deleted, paused or unscheduled since it was indexed: it leaves the index.
        store
            .advance_job(&entry.store_id, &entry.job_id, entry.next_run, None)
            .await?;
        return Ok(false);
    };
    // Catch up with one run: the latest slot at or before now.
    let mut slot = entry.next_run;
    while let Some(next) = schedule.next_after(slot, zone, job.created_at).filter(|n| *n <= now) {
        slot = next;
    }
    let next_run = schedule.next_after(now, zone, job.created_at);
    let retention = store.store_settings(&entry.store_id).await?.retention();
    let mut run = JobRun {
        job_id: job.id.clone(),
        scheduled_for: slot,
        started_at: now,
        finished_at: None,
        recipients_evaluated: 0,
        messages_sent: 0,
        skipped: RecipientsSkipped::default(),
        errors: Vec::new(),
        expires_at: Some((now + retention).timestamp()),
    };
    match store.claim_run(&entry.store_id, &run, now - config.stale_after).await? {
        Claim::Running => return Ok(false),
        Claim::Finished => {
            store
                .advance_job(&entry.store_id, &job.id, entry.next_run, next_run)
                .await?;
            return Ok(false);
        }
        Claim::Claimed => {}
    }
    let outcome = runner.run(&job, slot).await;
    run.finished_at = Some(clock.now());
    run.recipients_evaluated = outcome.recipients_evaluated;
    run.messages_sent = outcome.messages_sent;
    run.skipped = outcome.skipped;
    run.errors = outcome.errors;
    record_finish(store, &entry.store_id, &run).await?;
    store
        .advance_job(&entry.store_id, &job.id, entry.next_run, next_run)
        .await?;
    tracing::info!(job_id = %job.id, slot = %slot, sent = run.messages_sent, "job ran");
    Ok(true)
}

/// Records a run's end, retrying transient failures: a run that happened but is not recorded as finished is
/// taken over once stale and run again (the frequency cap then keeps recipients from a second email, but
/// the slot would have run twice).
async fn record_finish<S: JobSchedule + Sync>(store: &S, store_id: &StoreId, run: &JobRun) -> Result<(), StoreError> {
    let mut backoff = std::time::Duration::from_millis(50);
    let mut attempt = 1;
    loop {
        match store.finish_run(store_id, run).await {
            Err(error) if error.kind == ErrorKind::Transient && attempt < FINISH_ATTEMPTS => {
                tracing::warn!(job_id = %run.job_id, %error, attempt, "recording a run's end failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff *= 2;
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}
