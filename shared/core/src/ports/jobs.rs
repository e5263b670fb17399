//! Notification jobs: their storage, the scheduler's claims on their runs, the audiences they read, and mail.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use chrono::{DateTime, Utc};

use crate::domain::activity::{Cart, ProductView};
use crate::domain::customer::Customer;
use crate::domain::email_identity::{EmailIdentity, Sender};
use crate::domain::entity_state::EntityState;
use crate::domain::ids::{CustomerId, StoreId};
use crate::domain::job::{Job, JobRun, Notification};
use crate::domain::subscription::EntityType;

use super::StoreError;

/// Notification jobs of a store, and their runs.
pub trait JobStore {
    /// Stores a job and its next run (`None`: not due, out of the scheduler's index). `create`: fails with
    /// `Ok(false)` if the id exists; else replaces, with `Ok(false)` if it does not exist.
    fn put_job(
        &self,
        job: &Job,
        next_run: Option<DateTime<Utc>>,
        create: bool,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// One job of the store (strongly consistent), deleted or not; never another store's.
    fn job(&self, store: &StoreId, id: &str) -> impl Future<Output = Result<Option<Job>, StoreError>> + Send;

    /// Every job of the store, deleted ones included.
    fn jobs(&self, store: &StoreId) -> impl Future<Output = Result<Vec<Job>, StoreError>> + Send;

    /// A job's runs, latest slot first, at most `limit`.
    fn job_runs(
        &self,
        store: &StoreId,
        id: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<JobRun>, StoreError>> + Send;
}

/// A job whose next run is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueJob {
    pub store_id: StoreId,
    pub job_id: String,
    /// The next run the index holds: the first slot not yet run.
    pub next_run: DateTime<Utc>,
}

/// The result of claiming a (job, slot) run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This invocation runs it.
    Claimed,
    /// It ran to the end already.
    Finished,
    /// Another invocation is running it.
    Running,
}

/// What the scheduler needs to run each (job, slot) once.
pub trait JobSchedule {
    /// Jobs whose next run is at or before `now`, at most `limit`, from the `dueJobs` index.
    fn due_jobs(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<DueJob>, StoreError>> + Send;

    /// Claims a run of a slot: creates its record, or takes over a record whose claim is older than
    /// `stale_before` and that never finished (its runner died).
    fn claim_run(
        &self,
        store: &StoreId,
        run: &JobRun,
        stale_before: DateTime<Utc>,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Moves the job's next run from `from` to `to` (`None`: out of the index). Does nothing if the job's next
    /// run is no longer `from` (another invocation moved it, or the job was edited).
    fn advance_job(
        &self,
        store: &StoreId,
        job_id: &str,
        from: DateTime<Utc>,
        to: Option<DateTime<Utc>>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records how a claimed run ended.
    fn finish_run(&self, store: &StoreId, run: &JobRun) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// What notification jobs read from the projections, and the frequency cap they keep.
pub trait AudienceStore {
    /// Every entity of a type in the store.
    fn entities(
        &self,
        store: &StoreId,
        entity_type: EntityType,
    ) -> impl Future<Output = Result<Vec<EntityState>, StoreError>> + Send;

    /// Who viewed a product.
    fn viewers(
        &self,
        store: &StoreId,
        product_id: &str,
    ) -> impl Future<Output = Result<Vec<ProductView>, StoreError>> + Send;

    /// Open carts last changed before `before`.
    fn carts_before(
        &self,
        store: &StoreId,
        before: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<Cart>, StoreError>> + Send;

    /// Of the (customer, product) pairs, those that got `notification` and whose cap has not expired at `now`.
    fn capped(
        &self,
        store: &StoreId,
        notification: Notification,
        pairs: &[(CustomerId, String)],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<HashSet<(CustomerId, String)>, StoreError>> + Send;

    /// Caps the pairs until `until`: they were notified.
    fn cap(
        &self,
        store: &StoreId,
        notification: Notification,
        pairs: &[(CustomerId, String)],
        until: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The store's email identity, or `None` when it has none (never another store's).
    fn email_identity(&self, store: &StoreId)
        -> impl Future<Output = Result<Option<EmailIdentity>, StoreError>> + Send;

    /// Customers by id, batched; ids not found are absent from the map.
    fn profiles(
        &self,
        store: &StoreId,
        ids: &[CustomerId],
    ) -> impl Future<Output = Result<HashMap<CustomerId, Customer>, StoreError>> + Send;
}

/// Recipients in one mail request at most (SendGrid's limit of personalizations).
pub const MAX_PERSONALIZATIONS: usize = 1_000;

/// One recipient and their template data.
#[derive(Debug, Clone, PartialEq)]
pub struct Email {
    pub to: String,
    pub data: serde_json::Value,
}

/// Why a batch of mail was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Worth trying again later (429, 5xx, no connection) after the mailer's own retries.
    #[error("SendGrid unavailable: {0}")]
    Transient(String),
    /// The request is wrong or not allowed (400, 401, 403 …): retrying will not help.
    #[error("SendGrid refused the request: {0}")]
    Refused(String),
}

/// Sends templated email.
pub trait Mailer {
    /// Sends `emails` with the template as `sender` (its account, its address) in batches of
    /// [`MAX_PERSONALIZATIONS`], one after another; one result per batch, in order: how many it accepted,
    /// or why not. Never logs the sender's key.
    fn send(
        &self,
        sender: &Sender,
        template_id: &str,
        emails: &[Email],
    ) -> impl Future<Output = Vec<Result<usize, MailError>>> + Send;
}

/// Seals what a store keeps secret for itself (its SendGrid key), bound to the store: a sealed value copied
/// to another store's record does not open.
pub trait StoreSecretSeal {
    /// `plaintext` sealed for `store`; safe to store.
    fn seal_for_store(
        &self,
        store: &StoreId,
        plaintext: &str,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;

    /// What [`StoreSecretSeal::seal_for_store`] sealed for this same store; an error for anything else.
    fn open_for_store(&self, store: &StoreId, sealed: &str) -> impl Future<Output = Result<String, StoreError>> + Send;
}
