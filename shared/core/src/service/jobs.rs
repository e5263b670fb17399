//! The job use cases: create, replace, soft-delete. Each write keeps the job's place in the scheduler's
//! index (its next run) in step with what it now says.

use chrono::{DateTime, Utc};

use crate::domain::ids::StoreId;
use crate::domain::job::{Job, JobInput};
use crate::ports::{IdGenerator, JobStore, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("no such job")]
    NotFound,
    /// The body names another job than the path.
    #[error("the id of a job cannot change")]
    IdChanged,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn create<S: JobStore + Sync>(
    store: &S,
    ids: &dyn IdGenerator,
    store_id: &StoreId,
    input: JobInput,
    now: DateTime<Utc>,
) -> Result<Job, JobError> {
    let id = hex::encode(ids.object_id(now));
    let job = build(store_id, id, input, now, now);
    if !store.put_job(&job, job.next_run_after(now), true).await? {
        return Err(StoreError {
            operation: "create job",
            kind: crate::ports::ErrorKind::Transient,
            message: "a fresh job id already existed".into(),
        }
        .into());
    }
    Ok(job)
}

/// Replaces job `id` with `input`; its id and creation time stay.
pub async fn replace<S: JobStore + Sync>(
    store: &S,
    store_id: &StoreId,
    id: &str,
    input: JobInput,
    now: DateTime<Utc>,
) -> Result<Job, JobError> {
    if input.id.as_deref().is_some_and(|sent| sent != id) {
        return Err(JobError::IdChanged);
    }
    let existing = store.job(store_id, id).await?.ok_or(JobError::NotFound)?;
    let job = build(store_id, existing.id, input, existing.created_at, now);
    if !store.put_job(&job, job.next_run_after(now), false).await? {
        return Err(JobError::NotFound);
    }
    Ok(job)
}

/// Marks job `id` deleted (as the spec's delete does) and takes it out of the schedule.
pub async fn delete<S: JobStore + Sync>(
    store: &S,
    store_id: &StoreId,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), JobError> {
    let mut job = store
        .job(store_id, id)
        .await?
        .filter(|j| !j.deleted)
        .ok_or(JobError::NotFound)?;
    job.deleted = true;
    job.updated_at = now;
    if !store.put_job(&job, None, false).await? {
        return Err(JobError::NotFound);
    }
    Ok(())
}

fn build(store_id: &StoreId, id: String, input: JobInput, created_at: DateTime<Utc>, now: DateTime<Utc>) -> Job {
    Job {
        store_id: store_id.clone(),
        id,
        notification: input.notification,
        schedule: input.schedule,
        time_zone: input.time_zone,
        template_id: input.template_id,
        number_of_items_in_email: input.number_of_items_in_email,
        unsubscribe_group_id: input.unsubscribe_group_id,
        job_parameters: input.job_parameters,
        is_active: input.is_active,
        is_scheduled: input.is_scheduled,
        deleted: input.deleted,
        created_at,
        updated_at: now,
    }
}
