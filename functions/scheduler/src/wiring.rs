//! How the scheduler function is put together: its settings, read from the environment once at init, and
//! its dependencies built from them. Production's `main` and the tests call the same two functions.

use collector_aws::dynamo::{DynamoTable, TableConfig};
use collector_aws::kms::KmsSecretBox;
use collector_aws::sendgrid::SendGrid;
use collector_aws::sqs::SqsDispatchQueue;
use collector_aws::SdkConfig;
use collector_core::config::{duration, or_default, required, ConfigError, Env, Unit};
use collector_core::ports::SystemClock;
use collector_core::service::job_runs::TickConfig;
use collector_core::service::notifications::{NotificationConfig, NotificationRunner};
use collector_core::service::sweep::SweepConfig;

use super::Deps;

/// The scheduler's production dependencies.
pub type SchedulerDeps = Deps<DynamoTable, SqsDispatchQueue, NotificationRunner<DynamoTable, SendGrid, KmsSecretBox>>;

/// `TABLE_NAME` and `PENDING_SHARDS` ([`TableConfig`]), `DISPATCH_QUEUE_URL` (the sweep re-enqueues to it), `SWEEP_GRACE_SECONDS` (seconds, 300),
/// `FREQUENCY_CAP_HOURS` (hours, 168), `ABANDONED_CART_MINUTES` (minutes, 60) and `SENDGRID_BASE_URL`
/// (default the public API; a local stand-in under `make run`). Each store mails with its own key and
/// sender (its email identity), none from the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub table: TableConfig,
    pub dispatch_queue_url: String,
    pub sweep: SweepConfig,
    pub notifications: NotificationConfig,
    pub sendgrid_base_url: String,
}

impl Config {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let mut sweep = SweepConfig::default();
        if let Some(grace) = duration(env, "SWEEP_GRACE_SECONDS", Unit::Seconds)? {
            sweep.grace = grace;
        }
        let mut notifications = NotificationConfig::default();
        if let Some(cap) = duration(env, "FREQUENCY_CAP_HOURS", Unit::Hours)? {
            notifications.frequency_cap = cap;
        }
        if let Some(window) = duration(env, "ABANDONED_CART_MINUTES", Unit::Minutes)? {
            notifications.cart_window = window;
        }
        Ok(Self {
            table: TableConfig::from_env(env)?,
            dispatch_queue_url: required(env, "DISPATCH_QUEUE_URL")?,
            sweep,
            notifications,
            sendgrid_base_url: or_default(env, "SENDGRID_BASE_URL", "https://api.sendgrid.com"),
        })
    }
}

/// The production dependencies: the sweep and the job runs share the table; opens no connection.
pub fn build(sdk: &SdkConfig, config: &Config) -> SchedulerDeps {
    let table = DynamoTable::from_sdk(sdk, &config.table);
    Deps {
        store: table.clone(),
        queue: SqsDispatchQueue::from_sdk(sdk, &config.dispatch_queue_url),
        runner: NotificationRunner {
            store: table,
            mailer: SendGrid::new(&config.sendgrid_base_url),
            // Opens each store's key with the key its ciphertext names.
            seal: KmsSecretBox::from_sdk(sdk, ""),
            clock: Box::new(SystemClock),
            config: config.notifications,
        },
        clock: Box::new(SystemClock),
        sweep: config.sweep,
        jobs: TickConfig::default(),
    }
}
