//! A store's email identity: the SendGrid account and sender its notification jobs mail from. Each store
//! has its own, so no store mails from another's account; a store without one gets an error on its job
//! runs instead of mail. The API key is stored sealed (KMS, bound to the store) and never shown again.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::event_fields::is_email;
use super::validation::{Errors, FieldError, Pointer};

/// Characters of a sender's display name at most.
const MAX_NAME_CHARS: usize = 100;
/// Characters of a SendGrid API key at most (theirs are 69).
const MAX_KEY_CHARS: usize = 200;

/// The identity as stored on the store's item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailIdentity {
    /// The SendGrid API key, sealed for the store.
    pub sealed_api_key: String,
    pub from_email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// SendGrid's unsubscribe group (ASM `group_id`): its unsubscribe link and suppressions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe_group_id: Option<u32>,
    pub updated_at: DateTime<Utc>,
}

/// An identity with its key in plain text: as an operator sends it (sealed before it is stored), and as a
/// mail request is sent (the key opened, the unsubscribe group the job chose).
#[derive(Clone, PartialEq, Eq)]
pub struct Sender {
    pub api_key: String,
    pub from_email: String,
    pub from_name: Option<String>,
    pub reply_to: Option<String>,
    pub unsubscribe_group_id: Option<u32>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Sender")
            .field("from_email", &self.from_email)
            .field("unsubscribe_group_id", &self.unsubscribe_group_id)
            .finish_non_exhaustive()
    }
}

impl Sender {
    /// The sender of `identity` with its opened key; `unsubscribe_group_id` (a job's own) wins over the
    /// identity's.
    pub fn of(identity: &EmailIdentity, api_key: String, unsubscribe_group_id: Option<u32>) -> Self {
        Self {
            api_key,
            from_email: identity.from_email.clone(),
            from_name: identity.from_name.clone(),
            reply_to: identity.reply_to.clone(),
            unsubscribe_group_id: unsubscribe_group_id.or(identity.unsubscribe_group_id),
        }
    }
}

/// Reads `{apiKey, fromEmail, fromName?, replyTo?, unsubscribeGroupId?}`, naming every problem.
pub fn parse_identity(body: &Value) -> Result<Sender, Vec<FieldError>> {
    let mut errors = Errors::default();
    let root = Pointer::root();
    let Some(obj) = body.as_object() else {
        errors.add(&root, "must be a JSON object");
        return Err(errors.finish(()).unwrap_err());
    };
    for name in obj.keys() {
        if !["apiKey", "fromEmail", "fromName", "replyTo", "unsubscribeGroupId"].contains(&name.as_str()) {
            errors.add(&root.key(name), "is not a field of an email identity");
        }
    }
    let text = |name: &str| obj.get(name).and_then(Value::as_str).map(str::trim).map(str::to_owned);
    let api_key = text("apiKey").unwrap_or_default();
    if api_key.is_empty() || api_key.chars().count() > MAX_KEY_CHARS || api_key.chars().any(char::is_whitespace) {
        errors.add(
            &root.key("apiKey"),
            format!("must be a SendGrid API key: 1 to {MAX_KEY_CHARS} characters, no spaces"),
        );
    }
    let from_email = text("fromEmail").unwrap_or_default();
    if !is_email(&from_email) {
        errors.add(&root.key("fromEmail"), "must be an email address");
    }
    let from_name = text("fromName").filter(|n| !n.is_empty());
    if from_name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME_CHARS) {
        errors.add(
            &root.key("fromName"),
            format!("must be at most {MAX_NAME_CHARS} characters"),
        );
    }
    let reply_to = text("replyTo").filter(|r| !r.is_empty());
    if reply_to.as_ref().is_some_and(|r| !is_email(r)) {
        errors.add(&root.key("replyTo"), "must be an email address");
    }
    let at = root.key("unsubscribeGroupId");
    let unsubscribe_group_id = unsubscribe_group(obj.get("unsubscribeGroupId"), &at, &mut errors);
    errors.finish(Sender {
        api_key,
        from_email,
        from_name,
        reply_to,
        unsubscribe_group_id,
    })
}

/// A SendGrid unsubscribe group id as sent at `at` (absent or null: none), a positive whole number.
pub fn unsubscribe_group(value: Option<&Value>, at: &Pointer, errors: &mut Errors) -> Option<u32> {
    let value = value.filter(|v| !v.is_null())?;
    let id = value.as_u64().and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0);
    if id.is_none() {
        errors.add(at, "must be a SendGrid unsubscribe group id, a positive whole number");
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn when_an_identity_is_complete_should_read_it_and_never_print_the_key() {
        let input = parse_identity(&json!({"apiKey": "SG.abc.def", "fromEmail": "shop@example.com",
            "fromName": "The Shop", "replyTo": "help@example.com", "unsubscribeGroupId": 42}))
        .unwrap();
        assert_eq!(
            (input.api_key.as_str(), input.unsubscribe_group_id),
            ("SG.abc.def", Some(42))
        );
        assert!(!format!("{input:?}").contains("SG.abc"));
    }

    #[test]
    fn when_fields_are_wrong_should_name_each() {
        let errors = parse_identity(&json!({"apiKey": "SG key", "fromEmail": "shop", "replyTo": "x",
            "unsubscribeGroupId": -1, "from": "a@b.c"}))
        .unwrap_err();
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            ["/from", "/apiKey", "/fromEmail", "/replyTo", "/unsubscribeGroupId"]
        );
    }

    #[test]
    fn when_a_job_names_its_unsubscribe_group_should_win_over_the_stores() {
        let identity = EmailIdentity {
            sealed_api_key: "sealed".into(),
            from_email: "shop@example.com".into(),
            from_name: None,
            reply_to: None,
            unsubscribe_group_id: Some(1),
            updated_at: Utc::now(),
        };
        assert_eq!(Sender::of(&identity, "k".into(), Some(7)).unsubscribe_group_id, Some(7));
        assert_eq!(Sender::of(&identity, "k".into(), None).unsubscribe_group_id, Some(1));
    }
}
