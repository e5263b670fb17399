//! How an ingesting function is put together (this one and bulk-ingest): its settings, read from the
//! environment once at init, and its dependencies built from them. Production's `main` and the tests call
//! the same two functions.

use collector_aws::dynamo::{DynamoTable, TableConfig};
use collector_aws::sqs::SqsDispatchQueue;
use collector_aws::SdkConfig;
use collector_core::config::{duration, required, ConfigError, Env, Unit};
use collector_core::ports::{RandomIds, SystemClock};
use collector_core::service::ingest::IngestConfig;
use collector_http::edge::IngestDeps;

/// `TABLE_NAME` and `PENDING_SHARDS` ([`TableConfig`]), `DISPATCH_QUEUE_URL`, and `DEDUPE_WINDOW_SECONDS` (seconds, default 7 days).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub table: TableConfig,
    pub dispatch_queue_url: String,
    pub ingest: IngestConfig,
}

impl Config {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let mut ingest = IngestConfig::default();
        if let Some(window) = duration(env, "DEDUPE_WINDOW_SECONDS", Unit::Seconds)? {
            ingest.dedupe_window = window;
        }
        Ok(Self {
            table: TableConfig::from_env(env)?,
            dispatch_queue_url: required(env, "DISPATCH_QUEUE_URL")?,
            ingest,
        })
    }
}

/// The production dependencies: the table, the dispatch queue, the system clock and random ids. Builds the
/// clients; opens no connection.
pub fn build(sdk: &SdkConfig, config: &Config) -> IngestDeps<DynamoTable, SqsDispatchQueue> {
    IngestDeps::new(
        DynamoTable::from_sdk(sdk, &config.table),
        SqsDispatchQueue::from_sdk(sdk, &config.dispatch_queue_url),
        Box::new(SystemClock),
        Box::new(RandomIds),
        config.ingest.clone(),
    )
}
