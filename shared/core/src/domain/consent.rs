//! Whether a customer may be sent marketing email by a notification job.
//!
//! Consent lives on the customer's profile, in the custom field [`ACCEPTS_MARKETING`] (the field the Redo
//! examples carry), so every dialect that can write a profile can set it: the Redo event and profile APIs
//! (`customer.customFields`), an eSputnik event parameter and an entity event's key attribute of that name
//! (any case, spaces or underscores: `acceptsMarketing`, `accepts_marketing`). A profile is per store, so
//! an unsubscribe recorded there (`PUT /stores/{storeId}/customers` with the field `false`) holds for every
//! job of the store. A customer who never said is mailed (opt-out): that is how jobs behaved before
//! consent was read, and a store's existing customers carry no such field yet.

use super::customer::Customer;
use super::values::PropertyValue;

/// The profile field that holds a customer's marketing consent.
pub const ACCEPTS_MARKETING: &str = "Accepts Marketing";

/// What a customer said about marketing email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailConsent {
    Given,
    Withdrawn,
    /// Never said, or said something that is not a yes or a no.
    Unknown,
}

impl EmailConsent {
    /// Whether a job may mail the customer.
    pub fn allows_mail(self) -> bool {
        self != EmailConsent::Withdrawn
    }
}

/// Whether `name` names the consent field, however a dialect spells it.
pub fn is_consent_field(name: &str) -> bool {
    let letters: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    letters == "acceptsmarketing"
}

/// A yes or a no in any of the forms dialects send it: a boolean, `1`/`0`, or text such as `true`, `no`,
/// `subscribed`, `unsubscribed`.
pub fn consent_of_text(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "subscribed" | "opted_in" | "opt-in" => Some(true),
        "false" | "no" | "n" | "0" | "unsubscribed" | "opted_out" | "opt-out" => Some(false),
        _ => None,
    }
}

/// A yes or a no sent as JSON: a boolean, a number (0 is no) or text [`consent_of_text`] reads.
pub fn consent_of_json(value: &serde_json::Value) -> Option<bool> {
    match value {
        serde_json::Value::Bool(yes) => Some(*yes),
        serde_json::Value::Number(n) => n.as_f64().map(|n| n != 0.0),
        serde_json::Value::String(text) => consent_of_text(text),
        _ => None,
    }
}

/// The profile patch of a consent a dialect sent: the field named as profiles hold it, a boolean.
pub fn consent_field(yes: bool) -> (String, PropertyValue) {
    (ACCEPTS_MARKETING.to_owned(), PropertyValue::Bool(yes))
}

/// The customer's consent, from the profile's consent field.
pub fn email_consent(customer: &Customer) -> EmailConsent {
    let said = customer
        .custom_fields
        .iter()
        .find(|(name, _)| is_consent_field(name))
        .and_then(|(_, value)| match value {
            PropertyValue::Bool(yes) => Some(*yes),
            PropertyValue::Number(n) => n.as_f64().map(|n| n != 0.0),
            PropertyValue::String(text) => consent_of_text(text),
            PropertyValue::Date(_) => None,
        });
    match said {
        Some(true) => EmailConsent::Given,
        Some(false) => EmailConsent::Withdrawn,
        None => EmailConsent::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{CustomerId, StoreId};
    use chrono::Utc;

    fn customer(field: Option<(&str, PropertyValue)>) -> Customer {
        let mut c = Customer::new(
            StoreId::from_bytes([1; 12]),
            CustomerId::from_bytes([2; 12]),
            Utc::now(),
        );
        if let Some((name, value)) = field {
            c.custom_fields.insert(name.to_owned(), value);
        }
        c
    }

    #[test]
    fn when_a_customer_said_no_in_any_form_should_not_be_mailed() {
        for (name, value) in [
            ("Accepts Marketing", PropertyValue::Bool(false)),
            ("acceptsMarketing", PropertyValue::String("No".into())),
            ("accepts_marketing", PropertyValue::String("unsubscribed".into())),
            ("ACCEPTS MARKETING", PropertyValue::Number(0.into())),
        ] {
            let consent = email_consent(&customer(Some((name, value.clone()))));
            assert_eq!(consent, EmailConsent::Withdrawn, "{name}: {value:?}");
            assert!(!consent.allows_mail());
        }
    }

    #[test]
    fn when_a_customer_said_yes_or_nothing_should_be_mailed() {
        let yes = customer(Some(("Accepts Marketing", PropertyValue::Bool(true))));
        assert_eq!(email_consent(&yes), EmailConsent::Given);
        assert_eq!(email_consent(&customer(None)), EmailConsent::Unknown);
        let unclear = customer(Some(("Accepts Marketing", PropertyValue::String("maybe".into()))));
        assert_eq!(email_consent(&unclear), EmailConsent::Unknown);
        let other = customer(Some(("Accepts Marketing Calls", PropertyValue::Bool(false))));
        assert!(email_consent(&other).allows_mail(), "another field");
    }
}
