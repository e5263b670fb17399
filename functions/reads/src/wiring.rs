//! How the reads function is put together: its settings, read from the environment once at init, and its
//! dependencies built from them. Production's `main` and the tests call the same two functions.

use collector_aws::dynamo::{DynamoTable, TableConfig};
use collector_aws::kms::KmsSecretBox;
use collector_aws::SdkConfig;
use collector_core::config::{required, ConfigError, Env};
use collector_core::ports::SystemClock;
use collector_http::admission::Admission;
use collector_http::edge::ReadDeps;

/// `TABLE_NAME` and `PENDING_SHARDS` ([`TableConfig`]), and `SECRETS_KEY_ID`: the KMS key listing cursors
/// are sealed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table: TableConfig,
    pub secrets_key_id: String,
}

impl Config {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table: TableConfig::from_env(env)?,
            secrets_key_id: required(env, "SECRETS_KEY_ID")?,
        })
    }
}

/// The production dependencies; opens no connection.
pub fn build(sdk: &SdkConfig, config: &Config) -> ReadDeps<DynamoTable, KmsSecretBox> {
    ReadDeps {
        store: DynamoTable::from_sdk(sdk, &config.table),
        seal: KmsSecretBox::from_sdk(sdk, &config.secrets_key_id),
        clock: Box::new(SystemClock),
        admission: Admission::default(),
    }
}
