//! Erasing a customer: who is meant, and what was removed.

use serde::Serialize;

use super::event_fields::is_e164;
use super::identity::Identifier;
use super::ids::CustomerId;
use super::validation::{Errors, FieldError, Pointer};

/// The customer an erasure names: by our id, or by an identifier that points at one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerRef {
    Id(CustomerId),
    /// The identifier in its matching form (lower-case email, E.164 phone).
    Identifier(Identifier, String),
}

/// What `DELETE …/customers[/{customerId}]?email=|phoneNumber=` names. `None`: an id that cannot exist
/// (the caller answers 404, as for any unknown customer). A query parameter's `+` decoded to a space is read
/// back as `+`, so an unencoded E.164 number still works.
pub fn customer_ref(
    path_id: Option<&str>,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<Option<CustomerRef>, Vec<FieldError>> {
    let mut errors = Errors::default();
    let root = Pointer::root();
    let named = [path_id.is_some(), email.is_some(), phone.is_some()];
    match named.iter().filter(|n| **n).count() {
        1 => {}
        0 => errors.add(
            &root,
            "name the customer: a customer id in the path, or ?email= or ?phoneNumber=",
        ),
        _ => errors.add(
            &root,
            "name the customer one way only: a customer id, an email or a phone number",
        ),
    }
    if !errors.is_empty() {
        return errors.finish(None);
    }
    if let Some(id) = path_id {
        return Ok(CustomerId::parse(id).ok().map(CustomerRef::Id));
    }
    if let Some(email) = email {
        let email = email.trim();
        if email.is_empty() || email.len() > 254 || !email.contains('@') {
            errors.add(&root.key("email"), "must be an email address");
        }
        return errors.finish(Some(CustomerRef::Identifier(Identifier::Email, email.to_lowercase())));
    }
    let phone = phone.unwrap_or_default().trim_end();
    let phone = match phone.strip_prefix(' ') {
        Some(rest) => format!("+{rest}"),
        None => phone.to_owned(),
    };
    if !is_e164(&phone) {
        errors.add(
            &root.key("phoneNumber"),
            "must be an E.164 phone number, like +14155550123",
        );
    }
    errors.finish(Some(CustomerRef::Identifier(Identifier::PhoneNumber, phone)))
}

/// A kind of record a customer leaves behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerRecord {
    Profile,
    Identifier,
    Event,
    DeliveryRecord,
    DedupeRecord,
    Order,
    ProductView,
    Cart,
    /// An entity's state attributed to the customer (a wishlist).
    Entity,
    NotificationCap,
}

/// How many records of each kind an erasure removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Erased {
    pub profiles: u64,
    pub identifiers: u64,
    pub events: u64,
    pub delivery_records: u64,
    pub dedupe_records: u64,
    pub orders: u64,
    pub product_views: u64,
    pub carts: u64,
    pub entities: u64,
    pub notification_caps: u64,
}

impl Erased {
    pub fn count(&mut self, record: CustomerRecord) {
        let counter = match record {
            CustomerRecord::Profile => &mut self.profiles,
            CustomerRecord::Identifier => &mut self.identifiers,
            CustomerRecord::Event => &mut self.events,
            CustomerRecord::DeliveryRecord => &mut self.delivery_records,
            CustomerRecord::DedupeRecord => &mut self.dedupe_records,
            CustomerRecord::Order => &mut self.orders,
            CustomerRecord::ProductView => &mut self.product_views,
            CustomerRecord::Cart => &mut self.carts,
            CustomerRecord::Entity => &mut self.entities,
            CustomerRecord::NotificationCap => &mut self.notification_caps,
        };
        *counter += 1;
    }

    pub fn total(&self) -> u64 {
        self.profiles
            + self.identifiers
            + self.events
            + self.delivery_records
            + self.dedupe_records
            + self.orders
            + self.product_views
            + self.carts
            + self.entities
            + self.notification_caps
    }
}

/// One erasure call's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    pub removed: Erased,
    /// `false`: the call stopped at its budget and records remain; calling again continues.
    pub complete: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_is_named_exactly_one_way() {
        assert!(customer_ref(None, None, None).is_err());
        assert!(customer_ref(Some("665f1a2b3c4d5e6f7a8b9c0d"), Some("a@b.c"), None).is_err());
        assert_eq!(
            customer_ref(Some("665f1a2b3c4d5e6f7a8b9c0d"), None, None).unwrap(),
            Some(CustomerRef::Id(CustomerId::parse("665f1a2b3c4d5e6f7a8b9c0d").unwrap()))
        );
        assert_eq!(customer_ref(Some("not-an-id"), None, None).unwrap(), None);
    }

    #[test]
    fn identifiers_are_read_in_their_matching_form() {
        assert_eq!(
            customer_ref(None, Some(" Ann@Example.COM "), None).unwrap(),
            Some(CustomerRef::Identifier(Identifier::Email, "ann@example.com".into()))
        );
        let decoded_plus = customer_ref(None, None, Some(" 14155550123")).unwrap();
        assert_eq!(
            decoded_plus,
            Some(CustomerRef::Identifier(Identifier::PhoneNumber, "+14155550123".into()))
        );
        assert!(customer_ref(None, Some("nobody"), None).is_err());
        assert!(customer_ref(None, None, Some("0800")).is_err());
    }

    #[test]
    fn counts_add_up() {
        let mut erased = Erased::default();
        erased.count(CustomerRecord::Event);
        erased.count(CustomerRecord::Event);
        erased.count(CustomerRecord::Profile);
        assert_eq!((erased.events, erased.profiles, erased.total()), (2, 1, 3));
    }
}
