//! Wiring only: logging, configuration from the environment, clients built once, then the runtime loop.

use aws_lambda_events::sqs::SqsEvent;
use dispatch::Handler;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use shared::adapters::wiring::dispatch_deps_from_env;
use shared::ports::SystemClock;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let (store, publisher, queue) = dispatch_deps_from_env().await?;
    let handler = Handler {
        store,
        publisher,
        queue,
        clock: Box::new(SystemClock),
    };
    let handler = &handler;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        handler.handle(event.payload, &event.context.request_id).await
    }))
    .await
}
