//! Wiring only: logging, configuration from the environment, clients built once, then the runtime loop.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use scheduler::Handler;
use serde_json::Value;
use shared::adapters::wiring::sweep_deps_from_env;
use shared::ports::SystemClock;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let (store, queue, sweep) = sweep_deps_from_env().await?;
    let handler = Handler {
        store,
        queue,
        clock: Box::new(SystemClock),
        sweep,
    };
    let handler = &handler;
    // The scheduled event carries nothing the sweep needs: any payload is a tick.
    run(service_fn(move |_: LambdaEvent<Value>| async move {
        Ok::<_, Error>(handler.tick().await?)
    }))
    .await
}
