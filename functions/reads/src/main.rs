//! Wiring only: logging, configuration from the environment, clients built once, then the runtime loop.

use collector_aws::aws_config;
use collector_core::config::ProcessEnv;
use collector_http::runtime::serve;
use lambda_http::Error;
use reads::wiring::{build, Config};
use reads::Handler;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env(&ProcessEnv)?;
    serve(Handler::from(build(&aws_config().await, &config))).await
}
