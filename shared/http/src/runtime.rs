//! The Lambda runtime loop every HTTP function runs: its `main` builds the handler and calls [`serve`].

use std::convert::Infallible;
use std::future::Future;

use lambda_http::{run, service_fn, Body, Error, Request, Response};

/// An HTTP function's handler. It never fails: every error is already a problem response.
pub trait HttpHandler: Sync {
    fn handle(&self, request: Request) -> impl Future<Output = Response<Body>> + Send;
}

/// Runs `handler` under the Lambda runtime until the runtime stops.
pub async fn serve(handler: impl HttpHandler) -> Result<(), Error> {
    let handler = &handler;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(handler.handle(request).await)
    }))
    .await
}
