//! Wiring only: logging, configuration from the environment, clients built once, then the runtime loop.

use std::convert::Infallible;

use ingest::Handler;
use lambda_http::{run, service_fn, Error, Request};
use shared::adapters::{aws_config, dynamo::DynamoTable, sqs::SqsDispatchQueue};
use shared::ports::{RandomIds, SystemClock};
use shared::service::ingest::IngestConfig;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let table = required_env("TABLE_NAME")?;
    let queue_url = required_env("DISPATCH_QUEUE_URL")?;
    let mut config = IngestConfig::default();
    if let Ok(seconds) = std::env::var("DEDUPE_WINDOW_SECONDS") {
        let seconds: i64 = seconds
            .parse()
            .map_err(|_| "DEDUPE_WINDOW_SECONDS must be a whole number of seconds")?;
        config.dedupe_window = chrono::Duration::seconds(seconds);
    }

    let aws = aws_config().await;
    let handler = Handler::new(
        DynamoTable::new(aws_sdk_dynamodb::Client::new(&aws), table),
        SqsDispatchQueue::new(aws_sdk_sqs::Client::new(&aws), queue_url),
        Box::new(SystemClock),
        Box::new(RandomIds),
        config,
    );
    let handler = &handler;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(handler.handle(request).await)
    }))
    .await
}

fn required_env(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| format!("{name} must be set").into())
}
