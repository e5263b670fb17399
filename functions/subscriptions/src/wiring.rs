//! How the subscriptions function is put together: its settings, read from the environment once at init,
//! and its dependencies built from them. Production's `main` and the tests call the same two functions.

use collector_aws::dynamo::{DynamoTable, TableConfig};
use collector_aws::kms::KmsSecretBox;
use collector_aws::publisher::AwsPublisher;
use collector_aws::sqs::SqsDispatchQueue;
use collector_aws::webhook::WebhookClient;
use collector_aws::SdkConfig;
use collector_core::config::{flag, required, ConfigError, Env};
use collector_core::domain::subscription_input::DestinationPolicy;
use collector_core::ports::{RandomIds, SystemClock};
use collector_http::admission::Admission;
use collector_http::edge::SubscriptionDeps;

/// `TABLE_NAME` and `PENDING_SHARDS` ([`TableConfig`]), `SECRETS_KEY_ID` (the KMS key that seals credentials and signing secrets),
/// `DISPATCH_QUEUE_URL` (where redeliveries and replays are queued), and `LOCAL_MODE` (`true` only in the
/// local stack: destinations may be `http`, loopback and private).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub table: TableConfig,
    pub secrets_key_id: String,
    pub dispatch_queue_url: String,
    pub policy: DestinationPolicy,
}

impl Config {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table: TableConfig::from_env(env)?,
            secrets_key_id: required(env, "SECRETS_KEY_ID")?,
            dispatch_queue_url: required(env, "DISPATCH_QUEUE_URL")?,
            policy: DestinationPolicy {
                allow_private_targets: flag(env, "LOCAL_MODE"),
            },
        })
    }
}

/// The production dependencies; opens no connection.
pub fn build(
    sdk: &SdkConfig,
    config: &Config,
) -> SubscriptionDeps<DynamoTable, KmsSecretBox, SqsDispatchQueue, AwsPublisher> {
    // Opens sealed credentials with the key each ciphertext names, as dispatch does.
    let opener = KmsSecretBox::from_sdk(sdk, "");
    let webhooks = WebhookClient::new(config.policy.allow_private_targets);
    SubscriptionDeps {
        publisher: AwsPublisher::new(sdk.clone(), opener, webhooks),
        store: DynamoTable::from_sdk(sdk, &config.table),
        secrets: KmsSecretBox::from_sdk(sdk, &config.secrets_key_id),
        queue: SqsDispatchQueue::from_sdk(sdk, &config.dispatch_queue_url),
        clock: Box::new(SystemClock),
        ids: Box::new(RandomIds),
        admission: Admission::default(),
        policy: config.policy,
    }
}
