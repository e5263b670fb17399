//! Configuration of the ingest functions from their environment, read once at init; fails fast when wrong.

use super::dynamo::DynamoTable;
use super::sqs::SqsDispatchQueue;
use crate::service::ingest::IngestConfig;

/// The ports and settings of a function that ingests events.
pub struct IngestEnvironment {
    pub table: DynamoTable,
    pub queue: SqsDispatchQueue,
    pub config: IngestConfig,
}

impl IngestEnvironment {
    /// Reads `TABLE_NAME`, `DISPATCH_QUEUE_URL` and `DEDUPE_WINDOW_SECONDS`, and builds the clients (no
    /// network is touched).
    pub async fn from_env() -> Result<Self, String> {
        let table = required("TABLE_NAME")?;
        let queue_url = required("DISPATCH_QUEUE_URL")?;
        let mut config = IngestConfig::default();
        if let Ok(seconds) = std::env::var("DEDUPE_WINDOW_SECONDS") {
            let seconds: i64 = seconds
                .parse()
                .map_err(|_| "DEDUPE_WINDOW_SECONDS must be a whole number of seconds".to_owned())?;
            config.dedupe_window = chrono::Duration::seconds(seconds);
        }
        let aws = super::aws_config().await;
        Ok(Self {
            table: DynamoTable::new(aws_sdk_dynamodb::Client::new(&aws), table),
            queue: SqsDispatchQueue::new(aws_sdk_sqs::Client::new(&aws), queue_url),
            config,
        })
    }
}

fn required(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} must be set"))
}
