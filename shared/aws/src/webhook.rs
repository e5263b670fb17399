//! HTTPS webhooks, signed the Standard Webhooks way, with a 15 s timeout. Outside local mode, host names that
//! resolve to loopback, private or link-local addresses are refused at connect time (no DNS rebinding).

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use collector_core::domain::network::is_public;
use collector_core::domain::trace::TRACEPARENT;
use collector_core::domain::webhook_signature::sign;
use collector_core::ports::SendOutcome;

pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(15);

/// A host name that resolved only to addresses a webhook may not reach.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves only to loopback, private or link-local addresses")]
struct BlockedHost(String);

/// Resolves with the system resolver and keeps only public addresses.
#[derive(Debug)]
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = all.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(BlockedHost(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// The HTTP client of webhooks. Redirects are not followed: a signed message goes only where it was sent.
///
/// The client is built on first use, not at init: loading the platform's TLS roots costs ~8 ms of cold start
/// that a batch without a webhook subscriber never needs.
#[derive(Debug, Clone)]
pub struct WebhookClient {
    allow_private_targets: bool,
    http: Arc<OnceLock<reqwest::Client>>,
}

impl WebhookClient {
    /// `allow_private_targets`: local mode, where receivers run on this machine.
    pub fn new(allow_private_targets: bool) -> Self {
        Self {
            allow_private_targets,
            http: Arc::default(),
        }
    }

    fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| build_client(self.allow_private_targets))
    }

    /// POSTs `body` signed with `secrets` (the current one first), with the delivery's `traceparent` when it
    /// has one. 2xx is delivered; 410 Gone is permanent; any other status, a timeout or a connection failure
    /// is transient.
    pub async fn send(
        &self,
        url: &str,
        message_id: &str,
        body: &str,
        secrets: &[Vec<u8>],
        traceparent: Option<&str>,
    ) -> SendOutcome {
        let timestamp = chrono::Utc::now().timestamp();
        let signature = sign(secrets, message_id, timestamp, body.as_bytes());
        let mut request = self
            .http()
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature);
        if let Some(traceparent) = traceparent {
            request = request.header(TRACEPARENT, traceparent);
        }
        let sent = request.body(body.to_owned()).send().await;
        match sent {
            Ok(response) if response.status().is_success() => SendOutcome::Delivered,
            Ok(response) if response.status() == reqwest::StatusCode::GONE => {
                SendOutcome::Permanent("HTTP 410".to_owned())
            }
            Ok(response) => SendOutcome::Transient(format!("HTTP {}", response.status().as_u16())),
            Err(error) if is_blocked(&error) => SendOutcome::Permanent("BlockedAddress".to_owned()),
            Err(error) if error.is_timeout() => SendOutcome::Transient("Timeout".to_owned()),
            Err(error) if error.is_connect() => SendOutcome::Transient("ConnectionFailed".to_owned()),
            Err(_) => SendOutcome::Transient("RequestFailed".to_owned()),
        }
    }
}

fn build_client(allow_private_targets: bool) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .timeout(WEBHOOK_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("event-collector/", env!("CARGO_PKG_VERSION")))
        .no_proxy();
    if !allow_private_targets {
        builder = builder.dns_resolver(Arc::new(PublicOnly)).https_only(true);
    }
    builder.build().expect("the TLS backend initialises")
}

fn is_blocked(error: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(cause) = source {
        if cause.downcast_ref::<BlockedHost>().is_some() {
            return true;
        }
        source = cause.source();
    }
    false
}
