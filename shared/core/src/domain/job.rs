//! Notification jobs: what to send (back in stock, price drop, wishlist reminder, abandoned cart), with which
//! SendGrid template, on which schedule.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::email_identity::unsubscribe_group;
use super::ids::StoreId;
use super::schedule::{parse_schedule, parse_time_zone, Schedule, HORIZON_DAYS};
use super::validation::{json_type, Errors, FieldError, Pointer};

/// The notification types of the Event Collector API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Notification {
    BackInStock,
    PriceDrop,
    WishlistReminder,
    AbandonedCart,
}

impl Notification {
    pub const ALL: [Notification; 4] = [
        Notification::BackInStock,
        Notification::PriceDrop,
        Notification::WishlistReminder,
        Notification::AbandonedCart,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Notification::BackInStock => "BACK_IN_STOCK",
            Notification::PriceDrop => "PRICE_DROP",
            Notification::WishlistReminder => "WISHLIST_REMINDER",
            Notification::AbandonedCart => "ABANDONED_CART",
        }
    }
}

/// UTM and campaign parameters carried into the links of an email.
pub const JOB_PARAMETERS: [&str; 7] = [
    "campaign_id",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "utm_id",
];

/// Items per email at most (`-1`: the whole wishlist).
pub const MAX_ITEMS_IN_EMAIL: i64 = 50;

/// A stored job. Field names follow the API (snake case), as the spec has them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub store_id: StoreId,
    pub id: String,
    pub notification: Notification,
    /// As sent: `cron(...)`, `rate(...)` or five-field cron.
    pub schedule: String,
    pub time_zone: String,
    pub template_id: String,
    pub number_of_items_in_email: i64,
    #[serde(default)]
    pub job_parameters: BTreeMap<String, String>,
    /// The SendGrid unsubscribe group its mail is sent under, instead of the store's (ours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe_group_id: Option<u32>,
    pub is_active: bool,
    pub is_scheduled: bool,
    #[serde(default)]
    pub deleted: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Job {
    /// Whether the scheduler should run it.
    pub fn runs(&self) -> bool {
        self.is_active && self.is_scheduled && !self.deleted
    }

    /// The parsed schedule (it was validated when saved).
    pub fn parsed_schedule(&self) -> Option<(Schedule, chrono_tz::Tz)> {
        Some((
            parse_schedule(&self.schedule).ok()?,
            parse_time_zone(&self.time_zone).ok()?,
        ))
    }

    /// The next run after `after`, if it runs at all.
    pub fn next_run_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let (schedule, zone) = self.parsed_schedule().filter(|_| self.runs())?;
        schedule.next_after(after, zone, self.created_at)
    }
}

/// A valid job body.
#[derive(Debug, Clone, PartialEq)]
pub struct JobInput {
    pub id: Option<String>,
    pub notification: Notification,
    pub schedule: String,
    pub time_zone: String,
    pub template_id: String,
    pub number_of_items_in_email: i64,
    pub job_parameters: BTreeMap<String, String>,
    pub unsubscribe_group_id: Option<u32>,
    pub is_active: bool,
    pub is_scheduled: bool,
    pub deleted: bool,
}

/// Parses and validates a job body; `now` is when its schedule must run after (within
/// [`HORIZON_DAYS`]).
pub fn parse_job(body: &Value, now: DateTime<Utc>) -> Result<JobInput, Vec<FieldError>> {
    let root = Pointer::root();
    let mut errors = Errors::default();
    let Some(obj) = body.as_object() else {
        errors.add(&root, format!("must be a JSON object, not {}", json_type(body)));
        return Err(errors.into_vec());
    };
    let string = |name: &str, errors: &mut Errors| match obj.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(other) => {
            errors.add(
                &root.key(name),
                format!("must be a non-empty string, not {}", json_type(other)),
            );
            None
        }
    };
    let boolean = |name: &str, default: bool, errors: &mut Errors| match obj.get(name) {
        None | Some(Value::Null) => default,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            errors.add(&root.key(name), format!("must be a boolean, not {}", json_type(other)));
            default
        }
    };
    let id = string("id", &mut errors);
    let notification = match string("notification", &mut errors) {
        Some(raw) => {
            let found = Notification::ALL.into_iter().find(|n| n.name() == raw);
            if found.is_none() {
                let names: Vec<_> = Notification::ALL.iter().map(|n| n.name()).collect();
                errors.add(
                    &root.key("notification"),
                    format!("must be one of {}", names.join(", ")),
                );
            }
            found
        }
        None => {
            errors.add(&root.key("notification"), "is required");
            None
        }
    };
    // `scheduleExpression` is the spec's optional string form of `schedule`; either may carry it.
    let schedule = match (
        string("schedule", &mut errors),
        string("scheduleExpression", &mut errors),
    ) {
        (Some(a), Some(b)) if a != b => {
            errors.add(
                &root.key("scheduleExpression"),
                "differs from schedule; send one, or the same in both",
            );
            None
        }
        (Some(s), _) | (None, Some(s)) => Some(s),
        (None, None) => {
            errors.add(
                &root.key("schedule"),
                "is required: cron(...), rate(...) or five-field cron",
            );
            None
        }
    };
    let parsed = schedule.as_deref().and_then(|s| match parse_schedule(s) {
        Ok(parsed) => Some(parsed),
        Err(why) => {
            errors.add(&root.key("schedule"), why);
            None
        }
    });
    let time_zone = string("time_zone", &mut errors).unwrap_or_else(|| "UTC".to_owned());
    let zone = parse_time_zone(&time_zone);
    if let Err(why) = &zone {
        errors.add(&root.key("time_zone"), why.clone());
    }
    if let (Some(parsed), Ok(zone)) = (&parsed, zone) {
        if parsed.next_after(now, zone, now).is_none() {
            errors.add(
                &root.key("schedule"),
                format!(
                    "never runs: no time in the {} years from now matches it",
                    HORIZON_DAYS / 366
                ),
            );
        }
    }
    let template_id = string("template_id", &mut errors);
    let valid_template = template_id.as_deref().is_some_and(|t| {
        t.strip_prefix("d-")
            .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
    });
    if !valid_template {
        errors.add(
            &root.key("template_id"),
            "must be a SendGrid dynamic template id: d- and 32 hexadecimal characters",
        );
    }
    let items = match obj.get("number_of_items_in_email") {
        None | Some(Value::Null) => Some(-1),
        Some(Value::Number(n)) => n.as_i64().filter(|n| *n == -1 || (1..=MAX_ITEMS_IN_EMAIL).contains(n)),
        Some(_) => None,
    };
    if items.is_none() {
        errors.add(
            &root.key("number_of_items_in_email"),
            format!("must be 1 to {MAX_ITEMS_IN_EMAIL}, or -1 for the whole wishlist (0 would send nothing)"),
        );
    }
    let job_parameters = match obj.get("job_parameters") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(map)) => map
            .iter()
            .filter_map(|(k, v)| {
                let at = root.key("job_parameters").key(k);
                if !JOB_PARAMETERS.contains(&k.as_str()) {
                    errors.add(
                        &at,
                        format!("unknown parameter; allowed: {}", JOB_PARAMETERS.join(", ")),
                    );
                    return None;
                }
                match v.as_str() {
                    Some(s) if s.len() <= 255 => Some((k.clone(), s.to_owned())),
                    _ => {
                        errors.add(&at, "must be a string of at most 255 characters");
                        None
                    }
                }
            })
            .collect(),
        Some(other) => {
            errors.add(
                &root.key("job_parameters"),
                format!("must be an object, not {}", json_type(other)),
            );
            BTreeMap::new()
        }
    };
    let at = root.key("unsubscribe_group_id");
    let unsubscribe_group_id = unsubscribe_group(obj.get("unsubscribe_group_id"), &at, &mut errors);
    let is_active = boolean("is_active", true, &mut errors);
    let is_scheduled = boolean("is_scheduled", true, &mut errors);
    let deleted = boolean("deleted", false, &mut errors);
    match (notification, schedule, template_id, items) {
        (Some(notification), Some(schedule), Some(template_id), Some(items)) if errors.is_empty() => Ok(JobInput {
            id,
            notification,
            schedule,
            time_zone,
            template_id,
            number_of_items_in_email: items,
            job_parameters,
            unsubscribe_group_id,
            is_active,
            is_scheduled,
            deleted,
        }),
        _ => Err(errors.into_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job() -> Value {
        json!({"notification": "BACK_IN_STOCK", "schedule": "cron(0 9 * * ? *)", "template_id": "d-0123456789abcdef0123456789abcdef",
               "number_of_items_in_email": 3, "job_parameters": {"campaign_id": "c1", "utm_medium": "email"}, "time_zone": "Europe/Berlin"})
    }

    #[test]
    fn when_the_body_is_valid_should_default_the_flags() {
        let input = parse_job(&job(), Utc::now()).unwrap();
        assert!(input.is_active && input.is_scheduled && !input.deleted);
        assert_eq!(input.job_parameters["utm_medium"], "email");
    }

    #[test]
    fn when_the_schedule_never_runs_should_say_so_at_schedule() {
        for never in ["cron(0 0 30 2 ? *)", "cron(0 9 1 1 ? 2020)"] {
            let mut bad = job();
            bad["schedule"] = json!(never);
            let errors = parse_job(&bad, Utc::now()).unwrap_err();
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].pointer, "/schedule");
            assert!(errors[0].detail.starts_with("never runs"), "{never}: {errors:?}");
        }
    }

    #[test]
    fn when_fields_are_wrong_should_point_at_each() {
        let mut bad = job();
        bad["notification"] = json!("SPAM");
        bad["schedule"] = json!("cron(0 9 * * * *)");
        bad["template_id"] = json!("welcome");
        bad["number_of_items_in_email"] = json!(0);
        bad["time_zone"] = json!("Mars/Olympus");
        bad["job_parameters"] = json!({"utm_x": "1"});
        bad["unsubscribe_group_id"] = json!(0);
        let pointers: Vec<String> = parse_job(&bad, Utc::now())
            .unwrap_err()
            .into_iter()
            .map(|e| e.pointer)
            .collect();
        assert_eq!(
            pointers,
            [
                "/notification",
                "/schedule",
                "/time_zone",
                "/template_id",
                "/number_of_items_in_email",
                "/job_parameters/utm_x",
                "/unsubscribe_group_id"
            ]
        );
    }
}

/// One run of a job, as the scheduler records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobRun {
    pub job_id: String,
    /// The schedule slot this run is for: with the job id, what makes a run happen once.
    #[schema(value_type = String, format = DateTime)]
    pub scheduled_for: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<DateTime<Utc>>,
    pub recipients_evaluated: u64,
    pub messages_sent: u64,
    /// Recipients of the audience not mailed, by why.
    #[serde(default)]
    pub skipped: RecipientsSkipped,
    #[serde(default)]
    pub errors: Vec<String>,
    /// When the record expires (epoch seconds, the store's retention after the run started). Stored as the
    /// table's TTL attribute, not part of the API's view of a run.
    #[serde(skip)]
    pub expires_at: Option<i64>,
}

/// Customers of a run's audience it did not mail, by why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecipientsSkipped {
    /// Everything they would hear about was mailed to them within the frequency cap.
    pub capped: u64,
    /// They withdrew consent to marketing email (`domain::consent`).
    pub no_consent: u64,
    /// Their profile has no email address.
    pub no_email: u64,
}
