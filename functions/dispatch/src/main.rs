//! Wiring only: logging, configuration from the environment, clients built once, then the runtime loop.

use aws_lambda_events::sqs::SqsEvent;
use collector_aws::aws_config;
use collector_core::config::ProcessEnv;
use dispatch::wiring::{build, Config};
use dispatch::Handler;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env(&ProcessEnv)?;
    let handler = Handler::from(build(&aws_config().await, &config));
    let handler = &handler;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        handler.handle(event.payload, &event.context.request_id).await
    }))
    .await
}
