//! How the jobs function is put together: its settings, read from the environment once at init, and its
//! dependencies built from them. Production's `main` and the tests call the same two functions.

use collector_aws::dynamo::{DynamoTable, TableConfig};
use collector_aws::SdkConfig;
use collector_core::config::{ConfigError, Env};
use collector_core::ports::{RandomIds, SystemClock};
use collector_http::admission::Admission;
use collector_http::edge::JobDeps;

/// `TABLE_NAME` and `PENDING_SHARDS` ([`TableConfig`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table: TableConfig,
}

impl Config {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table: TableConfig::from_env(env)?,
        })
    }
}

/// The production dependencies; opens no connection.
pub fn build(sdk: &SdkConfig, config: &Config) -> JobDeps<DynamoTable> {
    JobDeps {
        store: DynamoTable::from_sdk(sdk, &config.table),
        clock: Box::new(SystemClock),
        ids: Box::new(RandomIds),
        admission: Admission::default(),
    }
}
