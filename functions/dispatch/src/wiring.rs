//! How the dispatch function is put together: its settings, read from the environment once at init, and its
//! dependencies built from them. Production's `main` and the tests call the same two functions.

use collector_aws::dynamo::{DynamoTable, TableConfig};
use collector_aws::kms::KmsSecretBox;
use collector_aws::publisher::AwsPublisher;
use collector_aws::sqs::SqsDispatchQueue;
use collector_aws::webhook::WebhookClient;
use collector_aws::SdkConfig;
use collector_core::config::{flag, required, ConfigError, Env};
use collector_core::ports::SystemClock;

use super::Deps;

/// `TABLE_NAME` and `PENDING_SHARDS` ([`TableConfig`]), `DISPATCH_QUEUE_URL` (whose messages' visibility it sets for retries), and `LOCAL_MODE`
/// (`true` only in the local stack: webhooks may be `http` and loopback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table: TableConfig,
    pub dispatch_queue_url: String,
    pub allow_private_targets: bool,
}

impl Config {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table: TableConfig::from_env(env)?,
            dispatch_queue_url: required(env, "DISPATCH_QUEUE_URL")?,
            allow_private_targets: flag(env, "LOCAL_MODE"),
        })
    }
}

/// The production dependencies: the publisher opens sealed credentials with the key each ciphertext names.
/// Opens no connection.
pub fn build(sdk: &SdkConfig, config: &Config) -> Deps<DynamoTable, AwsPublisher, SqsDispatchQueue> {
    let secrets = KmsSecretBox::from_sdk(sdk, "");
    Deps {
        store: DynamoTable::from_sdk(sdk, &config.table),
        publisher: AwsPublisher::new(sdk.clone(), secrets, WebhookClient::new(config.allow_private_targets)),
        queue: SqsDispatchQueue::from_sdk(sdk, &config.dispatch_queue_url),
        clock: Box::new(SystemClock),
    }
}
