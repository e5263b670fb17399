//! Customer profiles and the patch semantics of the custom-event `customer` object.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::customer_input::ProfilePatch;
use super::ids::{CustomerId, StoreId};
use super::values::PropertyValue;

/// A stored customer of a store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub store_id: StoreId,
    pub customer_id: CustomerId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default)]
    pub location: BTreeMap<String, Value>,
    #[serde(default)]
    pub custom_fields: BTreeMap<String, PropertyValue>,
    /// Bumped on every write. Informational: writes are per field, so concurrent patches never contend.
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Customer {
    pub fn new(store_id: StoreId, customer_id: CustomerId, now: DateTime<Utc>) -> Self {
        Self {
            store_id,
            customer_id,
            email: None,
            phone_number: None,
            first_name: None,
            last_name: None,
            location: BTreeMap::new(),
            custom_fields: BTreeMap::new(),
            version: 0,
            created_at: now,
            updated_at: now,
        }
    }

    /// Applies a patch: fields sent replace stored ones, an empty string removes one, fields not sent stay.
    /// Returns the fields whose value actually changed, in a stable order.
    pub fn apply(&mut self, patch: &ProfilePatch) -> Vec<ProfileField> {
        let mut changed = Vec::new();
        set_or_clear(
            &mut self.first_name,
            patch.first_name.as_deref(),
            ProfileField::FirstName,
            &mut changed,
        );
        set_or_clear(
            &mut self.last_name,
            patch.last_name.as_deref(),
            ProfileField::LastName,
            &mut changed,
        );
        for (key, value) in &patch.location {
            let clear = value.as_str() == Some("");
            let before = if clear {
                self.location.remove(key)
            } else {
                self.location.insert(key.clone(), value.clone())
            };
            if before.as_ref() != (!clear).then_some(value) {
                changed.push(ProfileField::Location(key.clone()));
            }
        }
        for (key, value) in &patch.custom_fields {
            let clear = matches!(value, PropertyValue::String(s) if s.is_empty());
            let before = if clear {
                self.custom_fields.remove(key)
            } else {
                self.custom_fields.insert(key.clone(), value.clone())
            };
            if before.as_ref() != (!clear).then_some(value) {
                changed.push(ProfileField::CustomField(key.clone()));
            }
        }
        changed
    }

    /// The stored value of a field, `None` when it is unset (and so removed from storage).
    pub fn value_of(&self, field: &ProfileField) -> Option<Value> {
        let string = |s: &Option<String>| s.clone().map(Value::String);
        match field {
            ProfileField::FirstName => string(&self.first_name),
            ProfileField::LastName => string(&self.last_name),
            ProfileField::Email => string(&self.email),
            ProfileField::PhoneNumber => string(&self.phone_number),
            ProfileField::Location(key) => self.location.get(key).cloned(),
            ProfileField::CustomField(key) => self
                .custom_fields
                .get(key)
                .map(|v| serde_json::to_value(v).expect("values serialise")),
        }
    }
}

/// One field of a profile, as written and as reported in `changedFields`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileField {
    FirstName,
    LastName,
    Email,
    PhoneNumber,
    Location(String),
    CustomField(String),
}

impl ProfileField {
    /// The attribute path: top-level name, then the map key for map fields.
    pub fn path(&self) -> (&'static str, Option<&str>) {
        match self {
            ProfileField::FirstName => ("firstName", None),
            ProfileField::LastName => ("lastName", None),
            ProfileField::Email => ("email", None),
            ProfileField::PhoneNumber => ("phoneNumber", None),
            ProfileField::Location(key) => ("location", Some(key)),
            ProfileField::CustomField(key) => ("customFields", Some(key)),
        }
    }

    /// `firstName`, `location.city`, `customFields.Loyalty Tier`.
    pub fn name(&self) -> String {
        match self.path() {
            (top, None) => top.to_owned(),
            (top, Some(key)) => format!("{top}.{key}"),
        }
    }
}

fn set_or_clear(field: &mut Option<String>, sent: Option<&str>, name: ProfileField, changed: &mut Vec<ProfileField>) {
    let Some(sent) = sent else { return };
    let new = (!sent.is_empty()).then(|| sent.to_owned());
    if *field != new {
        *field = new;
        changed.push(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn customer() -> Customer {
        let id = CustomerId::parse("665f1a2b3c4d5e6f7a8b9c0d").unwrap();
        let store = StoreId::parse("111111111111111111111111").unwrap();
        let mut c = Customer::new(store, id, Utc::now());
        c.first_name = Some("Stewart".into());
        c.last_name = Some("Thompson".into());
        c.location.insert("city".into(), json!("Seattle"));
        c.custom_fields
            .insert("Tier".into(), PropertyValue::String("Gold".into()));
        c
    }

    #[test]
    fn when_patch_omits_fields_should_keep_them_and_report_only_real_changes() {
        let mut c = customer();
        let mut patch = ProfilePatch {
            first_name: Some("Stewart".into()),
            ..Default::default()
        };
        patch.location.insert("postalCode".into(), json!("98101"));
        patch
            .custom_fields
            .insert("Tier".into(), PropertyValue::String("Gold".into()));
        let changed: Vec<String> = c.apply(&patch).iter().map(ProfileField::name).collect();
        assert_eq!(changed, vec!["location.postalCode"]);
        assert_eq!(c.last_name.as_deref(), Some("Thompson"));
        assert_eq!(c.location.get("city"), Some(&json!("Seattle")));
    }

    #[test]
    fn when_patch_sends_empty_string_should_clear_the_field() {
        let mut c = customer();
        let mut patch = ProfilePatch {
            last_name: Some(String::new()),
            ..Default::default()
        };
        patch.location.insert("city".into(), json!(""));
        patch
            .custom_fields
            .insert("Tier".into(), PropertyValue::String(String::new()));
        let changed: Vec<String> = c.apply(&patch).iter().map(ProfileField::name).collect();
        assert_eq!(changed, vec!["lastName", "location.city", "customFields.Tier"]);
        assert_eq!(c.last_name, None);
        assert!(c.location.is_empty() && c.custom_fields.is_empty());
    }
}
