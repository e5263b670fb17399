//! Wiring only: logging, configuration from the environment, clients built once, then the runtime loop.

use std::convert::Infallible;

use jobs::Handler;
use lambda_http::{run, service_fn, Error, Request};
use shared::adapters::wiring::jobs_deps_from_env;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let handler = Handler::from(jobs_deps_from_env().await?);
    let handler = &handler;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(handler.handle(request).await)
    }))
    .await
}
