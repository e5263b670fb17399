//! Wiring only: logging, configuration from the environment, clients built once, then the runtime loop.

use std::convert::Infallible;

use collector_aws::aws_config;
use collector_core::config::ProcessEnv;
use ingest::wiring::{build, Config};
use ingest::Handler;
use lambda_http::{run, service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env(&ProcessEnv)?;
    let handler = Handler::from(build(&aws_config().await, &config));
    let handler = &handler;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(handler.handle(request).await)
    }))
    .await
}
