//! Configuration of the ingest functions from their environment, read once at init; fails fast when wrong.

use super::dynamo::DynamoTable;
use super::sqs::SqsDispatchQueue;
use crate::http::edge::IngestDeps;
use crate::ports::{RandomIds, SystemClock};
use crate::service::ingest::IngestConfig;

/// The dependencies of a function that ingests events, from `TABLE_NAME`, `DISPATCH_QUEUE_URL` and
/// `DEDUPE_WINDOW_SECONDS`, with the system clock and random ids. Builds the clients; touches no network.
pub async fn ingest_deps_from_env() -> Result<IngestDeps<DynamoTable, SqsDispatchQueue>, String> {
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
    Ok(IngestDeps::new(
        DynamoTable::new(aws_sdk_dynamodb::Client::new(&aws), table),
        SqsDispatchQueue::new(aws_sdk_sqs::Client::new(&aws), queue_url),
        Box::new(SystemClock),
        Box::new(RandomIds),
        config,
    ))
}

fn required(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} must be set"))
}
