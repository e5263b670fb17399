//! Wiring only: logging, configuration from the environment, clients built once, then the runtime loop.

use std::convert::Infallible;

use bulk_ingest::Handler;
use lambda_http::{run, service_fn, Error, Request};
use shared::adapters::wiring::IngestEnvironment;
use shared::ports::{RandomIds, SystemClock};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let env = IngestEnvironment::from_env().await?;
    let handler = Handler::new(
        env.table,
        env.queue,
        Box::new(SystemClock),
        Box::new(RandomIds),
        env.config,
    );
    let handler = &handler;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(handler.handle(request).await)
    }))
    .await
}
