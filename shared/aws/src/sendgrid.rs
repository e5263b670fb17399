//! SendGrid's v3 mail send API with dynamic templates: one request per up to 1,000 recipients (the API's
//! limit of personalizations), retried on 429 and 5xx, as the store's sender with the store's key (sent,
//! never logged).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::{json, Value};

use collector_core::domain::email_identity::Sender;
use collector_core::ports::{Email, MailError, Mailer, MAX_PERSONALIZATIONS};

const ATTEMPTS: u32 = 3;

/// The SendGrid client. `base_url` is `https://api.sendgrid.com` in production, a local receiver in tests.
/// Each send goes out as its store's sender, with its store's key.
#[derive(Clone, Debug)]
pub struct SendGrid {
    /// Built on first send, like the webhook client: most ticks send no mail.
    http: Arc<OnceLock<reqwest::Client>>,
    base_url: String,
    backoff: Duration,
}

/// The body of one mail send request.
pub fn mail_send_body(sender: &Sender, template_id: &str, batch: &[Email]) -> Value {
    let personalizations: Vec<Value> = batch
        .iter()
        .map(|email| json!({"to": [{"email": email.to}], "dynamic_template_data": email.data}))
        .collect();
    let mut from = json!({"email": sender.from_email});
    if let Some(name) = &sender.from_name {
        from["name"] = json!(name);
    }
    let mut body = json!({"from": from, "template_id": template_id, "personalizations": personalizations});
    if let Some(reply_to) = &sender.reply_to {
        body["reply_to"] = json!({"email": reply_to});
    }
    if let Some(group) = sender.unsubscribe_group_id {
        body["asm"] = json!({"group_id": group});
    }
    body
}

impl SendGrid {
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            http: Arc::default(),
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            backoff: Duration::from_secs(1),
        }
    }

    fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("the TLS backend initialises")
        })
    }

    /// A shorter pause between retries (tests).
    pub fn with_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    async fn post(&self, api_key: &str, body: &Value) -> Result<(), MailError> {
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(self.backoff * 2u32.pow(attempt - 1)).await;
            }
            let sent = self
                .http()
                .post(format!("{}/v3/mail/send", self.base_url))
                .bearer_auth(api_key)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await;
            match sent {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) if response.status().as_u16() == 429 || response.status().is_server_error() => {
                    last = format!("HTTP {}", response.status().as_u16());
                }
                Ok(response) => return Err(MailError::Refused(format!("HTTP {}", response.status().as_u16()))),
                Err(error) => {
                    last = if error.is_timeout() {
                        "timeout".into()
                    } else {
                        "connection failed".into()
                    }
                }
            }
        }
        Err(MailError::Transient(last))
    }
}

impl Mailer for SendGrid {
    /// One request per batch of [`MAX_PERSONALIZATIONS`]; a refused or failed batch does not stop the others.
    async fn send(&self, sender: &Sender, template_id: &str, emails: &[Email]) -> Vec<Result<usize, MailError>> {
        let mut results = Vec::new();
        for batch in emails.chunks(MAX_PERSONALIZATIONS) {
            let body = mail_send_body(sender, template_id, batch);
            results.push(self.post(&sender.api_key, &body).await.map(|()| batch.len()));
        }
        results
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender(group: Option<u32>) -> Sender {
        Sender {
            api_key: "SG.secret-key".into(),
            from_email: "shop@example.com".into(),
            from_name: Some("The Shop".into()),
            reply_to: Some("help@example.com".into()),
            unsubscribe_group_id: group,
        }
    }

    #[test]
    fn when_built_should_carry_one_personalization_per_recipient_and_the_sender() {
        let body = mail_send_body(
            &sender(Some(42)),
            "d-0123456789abcdef0123456789abcdef",
            &[Email {
                to: "a@example.com".into(),
                data: json!({"items": [{"name": "Mug"}]}),
            }],
        );
        assert_eq!(body["template_id"], "d-0123456789abcdef0123456789abcdef");
        assert_eq!(body["personalizations"][0]["to"][0]["email"], "a@example.com");
        assert_eq!(
            body["personalizations"][0]["dynamic_template_data"]["items"][0]["name"],
            "Mug"
        );
        assert_eq!(body["from"], json!({"email": "shop@example.com", "name": "The Shop"}));
        assert_eq!(body["reply_to"], json!({"email": "help@example.com"}));
        assert_eq!(body["asm"], json!({"group_id": 42}));
        assert!(!body.to_string().contains("SG.secret-key"));
        assert!(mail_send_body(&sender(None), "t", &[]).get("asm").is_none());
    }

    #[test]
    fn when_printed_should_not_show_the_key() {
        assert!(!format!("{:?}", sender(None)).contains("SG.secret-key"));
    }
}
