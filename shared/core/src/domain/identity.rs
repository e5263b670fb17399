//! Identity resolution: which customer an event belongs to. Priority `customer.id` > `email` > `phoneNumber`.
//!
//! Pure rules over what the store returned for each identifier; the caller reads, decides here, and writes
//! the decision atomically (identifier claims are conditional, so a lost race is re-resolved, never doubled).

use serde::{Deserialize, Serialize};

use super::customer::Customer;
use super::customer_input::CustomerInput;
use super::ids::CustomerId;

/// An identifier kind that points at exactly one customer of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Identifier {
    Email,
    PhoneNumber,
}

/// Which identifier found the customer, or that the customer was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum MatchedBy {
    Id,
    Email,
    PhoneNumber,
    Created,
}

/// An identifier sent with the event that was not applied, and why. Recorded on the event; nothing moves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase", tag = "kind")]
pub enum IdentityConflict {
    /// The identifier belongs to another customer than the one matched by a higher-priority identifier.
    BelongsToOtherCustomer {
        identifier: Identifier,
        customer_id: CustomerId,
    },
    /// The matched customer already has a different value for this identifier.
    DiffersFromProfile { identifier: Identifier },
}

/// What the store knows about the identifiers of one event.
#[derive(Debug, Clone, Default)]
pub struct IdentityLookup {
    /// The customer with `customer.id`, when sent and found.
    pub by_id: Option<Customer>,
    /// Who owns the email (matched case-insensitively), when sent and claimed.
    pub email_owner: Option<CustomerId>,
    /// Who owns the phone number, when sent and claimed.
    pub phone_owner: Option<CustomerId>,
}

/// The customer an event resolves to.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// An existing customer; when matched by email or phone its profile still has to be read.
    Existing(CustomerId),
    /// No identifier matched: a customer with this id is created.
    New(CustomerId),
}

/// The decision for one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    pub target: Target,
    pub matched_by: MatchedBy,
    /// `customer.id` was sent but no such customer exists; resolution fell back to email/phone.
    pub requested_id_not_found: bool,
}

/// Picks the customer. `new_id` is used when nothing matches and no usable `customer.id` was sent: an id
/// that was sent but not found is adopted, so later events with the same id find the same customer.
pub fn resolve(input: &CustomerInput, lookup: &IdentityLookup, new_id: CustomerId) -> Resolution {
    let requested_id_not_found = input.id.is_some() && lookup.by_id.is_none();
    let (target, matched_by) = if let Some(found) = &lookup.by_id {
        (Target::Existing(found.customer_id.clone()), MatchedBy::Id)
    } else if let Some(owner) = input.email.as_ref().and(lookup.email_owner.as_ref()) {
        (Target::Existing(owner.clone()), MatchedBy::Email)
    } else if let Some(owner) = input.phone_number.as_ref().and(lookup.phone_owner.as_ref()) {
        (Target::Existing(owner.clone()), MatchedBy::PhoneNumber)
    } else {
        (Target::New(input.id.clone().unwrap_or(new_id)), MatchedBy::Created)
    };
    Resolution {
        target,
        matched_by,
        requested_id_not_found,
    }
}

/// Whether an event resolved to the existing customer `owner` leaves that customer's profile as it is: it
/// sends no profile field, and each identifier it sends is already `owner`'s. Such an event (`Page Viewed`
/// with just an email) needs only the claim, not the profile: attaching and patching would change nothing.
pub fn only_identifies(input: &CustomerInput, lookup: &IdentityLookup, owner: &CustomerId) -> bool {
    let owned = |sent: bool, claimed: &Option<CustomerId>| !sent || claimed.as_ref() == Some(owner);
    input.patch.is_empty()
        && owned(input.email.is_some(), &lookup.email_owner)
        && owned(input.phone_number.is_some(), &lookup.phone_owner)
}

/// Attaches the event's email and phone to `customer` where that moves nothing: an identifier no one owns
/// is claimed when the customer has none of that kind. Everything else is a conflict, recorded and not
/// applied. Returns the identifiers to claim and the conflicts.
pub fn attach_identifiers(
    customer: &mut Customer,
    input: &CustomerInput,
    lookup: &IdentityLookup,
) -> (Vec<(Identifier, String)>, Vec<IdentityConflict>) {
    let mut claims = Vec::new();
    let mut conflicts = Vec::new();
    let candidates = [
        (
            Identifier::Email,
            input.email.as_ref(),
            input.email_key(),
            &lookup.email_owner,
        ),
        (
            Identifier::PhoneNumber,
            input.phone_number.as_ref(),
            input.phone_number.clone(),
            &lookup.phone_owner,
        ),
    ];
    for (identifier, sent, key, owner) in candidates {
        let (Some(sent), Some(key)) = (sent, key) else { continue };
        let slot = match identifier {
            Identifier::Email => &mut customer.email,
            Identifier::PhoneNumber => &mut customer.phone_number,
        };
        match owner {
            Some(owner) if *owner == customer.customer_id => {}
            Some(other) => conflicts.push(IdentityConflict::BelongsToOtherCustomer {
                identifier,
                customer_id: other.clone(),
            }),
            None => match slot {
                None => {
                    *slot = Some(sent.clone());
                    claims.push((identifier, key));
                }
                Some(existing) if existing.to_lowercase() == key.to_lowercase() => {}
                Some(_) => conflicts.push(IdentityConflict::DiffersFromProfile { identifier }),
            },
        }
    }
    (claims, conflicts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::customer_input::ProfilePatch;
    use crate::domain::ids::StoreId;
    use chrono::Utc;

    fn id(n: u8) -> CustomerId {
        CustomerId::from_bytes([n; 12])
    }

    fn input(id_: Option<CustomerId>, email: Option<&str>, phone: Option<&str>) -> CustomerInput {
        CustomerInput {
            id: id_,
            email: email.map(Into::into),
            phone_number: phone.map(Into::into),
            patch: ProfilePatch::default(),
        }
    }

    fn customer(n: u8) -> Customer {
        Customer::new(StoreId::from_bytes([9; 12]), id(n), Utc::now())
    }

    #[test]
    fn when_the_event_sends_only_identifiers_its_owner_holds_should_only_identify() {
        let lookup = IdentityLookup {
            by_id: None,
            email_owner: Some(id(2)),
            phone_owner: None,
        };
        assert!(only_identifies(&input(None, Some("A@b.co"), None), &lookup, &id(2)));
        // A phone no one holds yet would be attached; a profile field would be written.
        assert!(!only_identifies(
            &input(None, Some("a@b.co"), Some("+15551234567")),
            &lookup,
            &id(2)
        ));
        let mut patched = input(None, Some("a@b.co"), None);
        patched.patch.first_name = Some("Ada".into());
        assert!(!only_identifies(&patched, &lookup, &id(2)));
        assert!(!only_identifies(&input(None, Some("a@b.co"), None), &lookup, &id(3)));
    }

    #[test]
    fn when_id_found_should_win_over_email_and_phone() {
        let lookup = IdentityLookup {
            by_id: Some(customer(1)),
            email_owner: Some(id(2)),
            phone_owner: Some(id(3)),
        };
        let r = resolve(
            &input(Some(id(1)), Some("a@b.co"), Some("+15551234567")),
            &lookup,
            id(9),
        );
        assert_eq!((r.target, r.matched_by), (Target::Existing(id(1)), MatchedBy::Id));
    }

    #[test]
    fn when_id_not_found_should_fall_back_to_email_then_phone() {
        let lookup = IdentityLookup {
            by_id: None,
            email_owner: None,
            phone_owner: Some(id(3)),
        };
        let r = resolve(
            &input(Some(id(1)), Some("a@b.co"), Some("+15551234567")),
            &lookup,
            id(9),
        );
        assert_eq!(
            (r.target, r.matched_by, r.requested_id_not_found),
            (Target::Existing(id(3)), MatchedBy::PhoneNumber, true)
        );
    }

    #[test]
    fn when_nothing_matches_should_create_adopting_a_sent_id() {
        let r = resolve(&input(Some(id(1)), None, None), &IdentityLookup::default(), id(9));
        assert_eq!((r.target, r.matched_by), (Target::New(id(1)), MatchedBy::Created));
        let r = resolve(&input(None, Some("a@b.co"), None), &IdentityLookup::default(), id(9));
        assert_eq!(r.target, Target::New(id(9)));
    }

    #[test]
    fn when_phone_belongs_to_another_customer_should_record_conflict_and_move_nothing() {
        let mut c = customer(2);
        let lookup = IdentityLookup {
            by_id: None,
            email_owner: Some(id(2)),
            phone_owner: Some(id(3)),
        };
        let (claims, conflicts) =
            attach_identifiers(&mut c, &input(None, Some("A@b.co"), Some("+15551234567")), &lookup);
        assert!(claims.is_empty());
        assert_eq!(
            conflicts,
            vec![IdentityConflict::BelongsToOtherCustomer {
                identifier: Identifier::PhoneNumber,
                customer_id: id(3)
            }]
        );
        assert_eq!(c.phone_number, None);
    }

    #[test]
    fn when_identifier_is_free_should_claim_it_only_if_profile_has_none() {
        let mut c = customer(2);
        c.email = Some("old@b.co".into());
        let lookup = IdentityLookup {
            by_id: Some(c.clone()),
            email_owner: None,
            phone_owner: None,
        };
        let (claims, conflicts) = attach_identifiers(
            &mut c,
            &input(Some(id(2)), Some("New@b.co"), Some("+15551234567")),
            &lookup,
        );
        assert_eq!(claims, vec![(Identifier::PhoneNumber, "+15551234567".to_owned())]);
        assert_eq!(
            conflicts,
            vec![IdentityConflict::DiffersFromProfile {
                identifier: Identifier::Email
            }]
        );
        assert_eq!(c.email.as_deref(), Some("old@b.co"));
    }
}
