//! Wiring only: logging, configuration from the environment, clients built once, then the runtime loop.

use collector_aws::aws_config;
use collector_core::config::ProcessEnv;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use scheduler::wiring::{build, Config};
use scheduler::Handler;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env(&ProcessEnv)?;
    let handler = Handler::from(build(&aws_config().await, &config));
    let handler = &handler;
    // The scheduled event carries nothing the tick needs: any payload is a tick.
    run(service_fn(move |_: LambdaEvent<Value>| async move {
        Ok::<_, Error>(handler.handle().await?)
    }))
    .await
}
