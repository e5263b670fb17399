//! Configuration of the functions from their environment, read once at init; fails fast when wrong.

use super::dynamo::DynamoTable;
use super::kms::KmsSecretBox;
use super::publisher::AwsPublisher;
use super::sendgrid::SendGrid;
use super::sqs::SqsDispatchQueue;
use super::webhook::WebhookClient;
use crate::config::{duration_setting, Unit};
use crate::domain::subscription_input::DestinationPolicy;
use crate::http::auth::Admission;
use crate::http::edge::{IngestDeps, JobDeps, SubscriptionDeps};
use crate::ports::{RandomIds, SystemClock};
use crate::service::ingest::IngestConfig;
use crate::service::notifications::NotificationConfig;
use crate::service::sweep::SweepConfig;

/// The dependencies of a function that ingests events, from `TABLE_NAME`, `DISPATCH_QUEUE_URL` and
/// `DEDUPE_WINDOW_SECONDS`, with the system clock and random ids. Builds the clients; touches no network.
pub async fn ingest_deps_from_env() -> Result<IngestDeps<DynamoTable, SqsDispatchQueue>, String> {
    let table = required("TABLE_NAME")?;
    let queue_url = required("DISPATCH_QUEUE_URL")?;
    let mut config = IngestConfig::default();
    if let Some(window) = duration("DEDUPE_WINDOW_SECONDS", Unit::Seconds)? {
        config.dedupe_window = window;
    }
    let aws = super::aws_config().await;
    Ok(IngestDeps::new(
        DynamoTable::new(aws_sdk_dynamodb::Client::new(&aws), table),
        SqsDispatchQueue::new(aws_sdk_sqs::Client::new(&aws), queue_url),
        Box::new(SystemClock),
        Box::new(RandomIds),
        config,
    ))
}

/// Local mode (`LOCAL_MODE=true`, set only by the local stack): destinations may be `http` and private.
pub fn destination_policy_from_env() -> DestinationPolicy {
    DestinationPolicy {
        allow_private_targets: std::env::var("LOCAL_MODE").is_ok_and(|v| v == "true"),
    }
}

/// The subscriptions endpoint: `TABLE_NAME`, `SECRETS_KEY_ID` (the KMS key that seals credentials), `LOCAL_MODE`.
pub async fn subscriptions_deps_from_env() -> Result<SubscriptionDeps<DynamoTable, KmsSecretBox>, String> {
    let table = required("TABLE_NAME")?;
    let key_id = required("SECRETS_KEY_ID")?;
    let aws = super::aws_config().await;
    Ok(SubscriptionDeps {
        store: DynamoTable::new(aws_sdk_dynamodb::Client::new(&aws), table),
        secrets: KmsSecretBox::new(aws_sdk_kms::Client::new(&aws), key_id),
        clock: Box::new(SystemClock),
        ids: Box::new(RandomIds),
        admission: Admission::default(),
        policy: destination_policy_from_env(),
    })
}

/// The jobs endpoint: `TABLE_NAME`.
pub async fn jobs_deps_from_env() -> Result<JobDeps<DynamoTable>, String> {
    let table = required("TABLE_NAME")?;
    let aws = super::aws_config().await;
    Ok(JobDeps {
        store: DynamoTable::new(aws_sdk_dynamodb::Client::new(&aws), table),
        clock: Box::new(SystemClock),
        ids: Box::new(RandomIds),
        admission: Admission::default(),
    })
}

/// Dispatch: the table, the publisher (KMS to open credentials, webhooks per `LOCAL_MODE`), and the
/// dispatch queue (`DISPATCH_QUEUE_URL`) whose messages' visibility it sets for retries.
pub async fn dispatch_deps_from_env() -> Result<(DynamoTable, AwsPublisher, SqsDispatchQueue), String> {
    let table = required("TABLE_NAME")?;
    let queue_url = required("DISPATCH_QUEUE_URL")?;
    let aws = super::aws_config().await;
    let secrets = KmsSecretBox::new(aws_sdk_kms::Client::new(&aws), "");
    let webhooks = WebhookClient::new(destination_policy_from_env().allow_private_targets);
    Ok((
        DynamoTable::new(aws_sdk_dynamodb::Client::new(&aws), table),
        AwsPublisher::new(aws.clone(), secrets, webhooks),
        SqsDispatchQueue::new(aws_sdk_sqs::Client::new(&aws), queue_url),
    ))
}

/// What the scheduler function runs on.
pub struct SchedulerDeps {
    pub table: DynamoTable,
    pub queue: SqsDispatchQueue,
    pub sweep: SweepConfig,
    pub mailer: SendGrid,
    pub notifications: NotificationConfig,
}

/// The scheduler: the table and dispatch queue of the recovery sweep and its grace (`SWEEP_GRACE_SECONDS`);
/// SendGrid (`SENDGRID_API_KEY`, `SENDGRID_FROM`, `SENDGRID_BASE_URL`, default the public API); the
/// frequency cap (`FREQUENCY_CAP_HOURS`, 168) and the abandoned-cart window (`ABANDONED_CART_MINUTES`, 60).
pub async fn scheduler_deps_from_env() -> Result<SchedulerDeps, String> {
    let table = required("TABLE_NAME")?;
    let queue_url = required("DISPATCH_QUEUE_URL")?;
    let mut sweep = SweepConfig::default();
    if let Some(grace) = duration("SWEEP_GRACE_SECONDS", Unit::Seconds)? {
        sweep.grace = grace;
    }
    let mut notifications = NotificationConfig::default();
    if let Some(cap) = duration("FREQUENCY_CAP_HOURS", Unit::Hours)? {
        notifications.frequency_cap = cap;
    }
    if let Some(window) = duration("ABANDONED_CART_MINUTES", Unit::Minutes)? {
        notifications.cart_window = window;
    }
    let base_url = std::env::var("SENDGRID_BASE_URL").unwrap_or_else(|_| "https://api.sendgrid.com".to_owned());
    let mailer = SendGrid::new(base_url, required("SENDGRID_API_KEY")?, required("SENDGRID_FROM")?);
    let aws = super::aws_config().await;
    Ok(SchedulerDeps {
        table: DynamoTable::new(aws_sdk_dynamodb::Client::new(&aws), table),
        queue: SqsDispatchQueue::new(aws_sdk_sqs::Client::new(&aws), queue_url),
        sweep,
        mailer,
        notifications,
    })
}

fn required(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} must be set"))
}

/// A duration from the environment in `unit`, if set.
fn duration(name: &str, unit: Unit) -> Result<Option<chrono::Duration>, String> {
    duration_setting(name, std::env::var(name).ok().as_deref(), unit)
}
