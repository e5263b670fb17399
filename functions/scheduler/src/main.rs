//! Wiring only: logging, configuration from the environment, clients built once, then the runtime loop.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use scheduler::Handler;
use serde_json::Value;
use shared::adapters::wiring::scheduler_deps_from_env;
use shared::ports::SystemClock;
use shared::service::job_runs::TickConfig;
use shared::service::notifications::NotificationRunner;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let deps = scheduler_deps_from_env().await?;
    let handler = Handler {
        store: deps.table.clone(),
        queue: deps.queue,
        runner: NotificationRunner {
            store: deps.table,
            mailer: deps.mailer,
            clock: Box::new(SystemClock),
            config: deps.notifications,
        },
        clock: Box::new(SystemClock),
        sweep: deps.sweep,
        jobs: TickConfig::default(),
    };
    let handler = &handler;
    // The scheduled event carries nothing the tick needs: any payload is a tick.
    run(service_fn(move |_: LambdaEvent<Value>| async move {
        Ok::<_, Error>(handler.tick().await?)
    }))
    .await
}
