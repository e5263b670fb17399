//! The scheduler's slot discipline: each (job, slot) runs once under duplicate and concurrent ticks, and
//! downtime is caught up with one run.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use collector_core::domain::job::Job;
use collector_core::ports::{Claim, Clock, JobSchedule, JobStore};
use collector_core::service::job_runs::{run_due_jobs, JobRunner, RunOutcome, TickConfig};
use serde_json::json;

use crate::support::Fixture;

/// Records the slots it was asked to run.
#[derive(Default)]
pub(crate) struct Recorder(Mutex<Vec<DateTime<Utc>>>);

impl JobRunner for Recorder {
    async fn run(&self, _job: &Job, slot: DateTime<Utc>) -> RunOutcome {
        self.0.lock().unwrap().push(slot);
        // A run takes a moment: long enough for a concurrent tick to see the claim.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        RunOutcome {
            recipients_evaluated: 2,
            messages_sent: 1,
            ..RunOutcome::default()
        }
    }
}

/// An hourly job created now through the API.
pub(crate) async fn hourly_job(f: &Fixture) -> String {
    let body = json!({"notification": "WISHLIST_REMINDER", "schedule": "rate(1 hour)", "template_id": "d-0123456789abcdef0123456789abcdef"});
    crate::wiring::create_job(f, &body).await
}

#[tokio::test]
async fn when_ticks_repeat_or_race_should_run_each_slot_once() {
    let f = Fixture::new().await;
    let id = hourly_job(&f).await;
    let runner = Recorder::default();
    let config = TickConfig::default();
    let nothing = run_due_jobs(&f.table, &runner, &f.clock, config).await.unwrap();
    assert_eq!(nothing.due, 0, "not due before its first slot");

    f.clock.advance(Duration::minutes(61));
    // Two invocations at once (EventBridge delivers at least once), then a late duplicate.
    let (a, b) = tokio::join!(
        run_due_jobs(&f.table, &runner, &f.clock, config),
        run_due_jobs(&f.table, &runner, &f.clock, config)
    );
    let late = run_due_jobs(&f.table, &runner, &f.clock, config).await.unwrap();
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.ran + b.ran + late.ran, 1, "{a:?} {b:?} {late:?}");
    assert_eq!(runner.0.lock().unwrap().len(), 1);

    let runs = f.table.job_runs(&f.store_id, &id, 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].recipients_evaluated, runs[0].messages_sent), (2, 1));
    assert!(runs[0].finished_at.is_some());
    let job = f.table.job(&f.store_id, &id).await.unwrap().unwrap();
    assert_eq!(runs[0].scheduled_for, job.created_at + Duration::hours(1));
}

#[tokio::test]
async fn when_the_scheduler_was_down_for_hours_should_catch_up_with_one_run() {
    let f = Fixture::new().await;
    let id = hourly_job(&f).await;
    let runner = Recorder::default();
    f.clock.advance(Duration::minutes(5 * 60 + 10));
    let report = run_due_jobs(&f.table, &runner, &f.clock, TickConfig::default())
        .await
        .unwrap();
    assert_eq!(report.ran, 1);
    let job = f.table.job(&f.store_id, &id).await.unwrap().unwrap();
    assert_eq!(
        *runner.0.lock().unwrap(),
        [job.created_at + Duration::hours(5)],
        "the latest missed slot only"
    );
    // The next slot is in the future now: the next tick has nothing to do until then.
    assert_eq!(
        run_due_jobs(&f.table, &runner, &f.clock, TickConfig::default())
            .await
            .unwrap()
            .due,
        0
    );
    f.clock.advance(Duration::hours(1));
    assert_eq!(
        run_due_jobs(&f.table, &runner, &f.clock, TickConfig::default())
            .await
            .unwrap()
            .ran,
        1
    );
    assert_eq!(f.table.job_runs(&f.store_id, &id, 10).await.unwrap().len(), 2);
}

#[tokio::test]
async fn when_a_runner_died_mid_run_should_leave_the_slot_alone_then_take_it_over_once_stale() {
    let f = Fixture::new().await;
    let id = hourly_job(&f).await;
    let job = f.table.job(&f.store_id, &id).await.unwrap().unwrap();
    f.clock.advance(Duration::minutes(61));
    // A runner claimed the slot and died: its record never finished, the job's next run never moved.
    let slot = job.created_at + Duration::hours(1);
    let abandoned = collector_core::domain::job::JobRun {
        job_id: id.clone(),
        scheduled_for: slot,
        started_at: f.clock.now(),
        finished_at: None,
        recipients_evaluated: 0,
        messages_sent: 0,
        skipped: Default::default(),
        errors: Vec::new(),
        expires_at: None,
    };
    let claim = f
        .table
        .claim_run(&f.store_id, &abandoned, f.clock.now() - Duration::minutes(15))
        .await
        .unwrap();
    assert_eq!(claim, Claim::Claimed);
    let runner = Recorder::default();
    let report = run_due_jobs(&f.table, &runner, &f.clock, TickConfig::default())
        .await
        .unwrap();
    assert_eq!((report.ran, report.skipped), (0, 1), "it might still be running");
    f.clock.advance(Duration::minutes(16));
    let report = run_due_jobs(&f.table, &runner, &f.clock, TickConfig::default())
        .await
        .unwrap();
    assert_eq!(report.ran, 1, "taken over once stale");
    assert_eq!(*runner.0.lock().unwrap(), [slot]);
    assert!(f.table.job_runs(&f.store_id, &id, 10).await.unwrap()[0]
        .finished_at
        .is_some());
}
