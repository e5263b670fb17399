//! A subscription's `destination` as sent: SQS, SNS or an HTTPS webhook, with the credentials of an AWS
//! destination, every field checked against what this deployment may point at.

use std::net::IpAddr;

use serde_json::Value;
use url::{Host, Url};

use super::network::{is_internal_host_name, is_public};
use super::subscription_input::MAX_URL_CHARS;
use super::validation::{json_type, Errors, Fields, Pointer};

/// What the destinations of this deployment may point at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DestinationPolicy {
    /// Local mode: `http` and loopback/private hosts are allowed (the local stack's receivers and moto).
    pub allow_private_targets: bool,
}

/// Credentials sent for an AWS destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessInput {
    /// None sent: a new subscription uses the collector's role; an update keeps what was set.
    NotSent,
    AssumeRole {
        role_arn: String,
        external_id: Option<String>,
    },
    AccessKey {
        access_key: String,
        access_secret: String,
    },
}

/// A destination as sent, secrets in plain text (they are sealed before anything is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestinationInput {
    Sqs {
        queue_url: String,
        region: String,
        access: AccessInput,
    },
    Sns {
        topic_arn: String,
        region: String,
        access: AccessInput,
    },
    Webhook {
        url: String,
    },
}

impl DestinationInput {
    pub fn type_name(&self) -> &'static str {
        match self {
            DestinationInput::Sqs { .. } => "SQS",
            DestinationInput::Sns { .. } => "SNS",
            DestinationInput::Webhook { .. } => "WEBHOOK",
        }
    }
}

const BLOCKS: [(&str, &str); 3] = [("SQS", "sqs"), ("SNS", "sns"), ("WEBHOOK", "webhook")];

pub(super) fn destination(
    value: &Value,
    at: &Pointer,
    policy: DestinationPolicy,
    errors: &mut Errors,
) -> Option<DestinationInput> {
    let Some(object) = value.as_object() else {
        errors.add(at, format!("must be an object, not {}", json_type(value)));
        return None;
    };
    let fields = Fields { object, at };
    let type_name = fields.required("type", errors)?;
    let Some(&(_, block_name)) = BLOCKS.iter().find(|(t, _)| *t == type_name) else {
        errors.add(&at.key("type"), "must be SQS, SNS or WEBHOOK");
        return None;
    };
    // The original API's example sends `type: SNS` with an `sqs` block; such a destination is ambiguous.
    for (other_type, other_block) in BLOCKS {
        if other_block != block_name && object.contains_key(other_block) {
            errors.add(
                &at.key(other_block),
                format!(
                    "type is {type_name} but the destination has an '{other_block}' block (the settings of a {other_type} destination); send a '{block_name}' block, or set type to {other_type}"
                ),
            );
        }
    }
    let block_at = at.key(block_name);
    let Some(block) = object.get(block_name).and_then(Value::as_object) else {
        errors.add(
            &block_at,
            format!("a {type_name} destination needs a '{block_name}' object"),
        );
        return None;
    };
    let block_fields = Fields {
        object: block,
        at: &block_at,
    };
    match block_name {
        "sqs" => sqs(&block_fields, policy, errors),
        "sns" => sns(&block_fields, errors),
        _ => webhook(&block_fields, policy, errors),
    }
}

fn sqs(fields: &Fields, policy: DestinationPolicy, errors: &mut Errors) -> Option<DestinationInput> {
    let url_at = fields.at.key("queueUrl");
    let queue_url = fields.required("queueUrl", errors)?;
    let url_region = match sqs_url_region(&queue_url, policy) {
        Ok(region) => region,
        Err(problem) => {
            errors.add(&url_at, problem);
            None
        }
    };
    let region = region_of(fields, url_region, "the queue URL", errors)?;
    let access = access(fields, errors)?;
    Some(DestinationInput::Sqs {
        queue_url,
        region,
        access,
    })
}

/// The region in an SQS queue URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`); `None` for a local
/// queue URL, which is allowed only in local mode.
fn sqs_url_region(raw: &str, policy: DestinationPolicy) -> Result<Option<String>, String> {
    const FORM: &str = "must be an SQS queue URL like https://sqs.us-east-1.amazonaws.com/123456789012/my-queue";
    let url = Url::parse(raw).map_err(|_| FORM.to_owned())?;
    let segments: Vec<&str> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
    let path_ok = matches!(segments.as_slice(), [account, name]
        if is_account_id(account) && is_resource_name(name.strip_suffix(".fifo").unwrap_or(name), 80));
    if !path_ok {
        return Err(FORM.to_owned());
    }
    let host = url.host_str().unwrap_or_default();
    let aws_region = host
        .strip_prefix("sqs.")
        .and_then(|rest| {
            rest.strip_suffix(".amazonaws.com")
                .or_else(|| rest.strip_suffix(".amazonaws.com.cn"))
        })
        .or_else(|| host.strip_suffix(".queue.amazonaws.com"));
    match aws_region {
        Some(region) if url.scheme() == "https" && is_region(region) => Ok(Some(region.to_owned())),
        _ if policy.allow_private_targets => Ok(None),
        _ => Err(FORM.to_owned()),
    }
}

fn sns(fields: &Fields, errors: &mut Errors) -> Option<DestinationInput> {
    let arn_at = fields.at.key("topicArn");
    let topic_arn = fields.required("topicArn", errors)?;
    let arn_region = match topic_arn.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", partition, "sns", region, account, name]
            if partition.starts_with("aws")
                && is_region(region)
                && is_account_id(account)
                && is_resource_name(name.strip_suffix(".fifo").unwrap_or(name), 256) =>
        {
            Some(region.to_string())
        }
        _ => {
            errors.add(
                &arn_at,
                "must be an SNS topic ARN like arn:aws:sns:us-east-1:123456789012:my-topic",
            );
            None
        }
    };
    let region = region_of(fields, arn_region, "the topic ARN", errors)?;
    let access = access(fields, errors)?;
    Some(DestinationInput::Sns {
        topic_arn,
        region,
        access,
    })
}

/// The `region` field, checked against the region named by the queue URL or topic ARN (`named`).
fn region_of(fields: &Fields, named: Option<String>, by: &str, errors: &mut Errors) -> Option<String> {
    let at = fields.at.key("region");
    match (fields.string("region", errors), named) {
        (Some(sent), _) if !is_region(&sent) => {
            errors.add(&at, "must be an AWS region such as us-east-1");
            None
        }
        (Some(sent), Some(named)) if sent != named => {
            errors.add(&at, format!("is {sent} but {by} is in {named}"));
            None
        }
        (Some(sent), _) => Some(sent),
        (None, Some(named)) => Some(named),
        (None, None) => {
            errors.add(&at, "is required");
            None
        }
    }
}

fn access(fields: &Fields, errors: &mut Errors) -> Option<AccessInput> {
    let role_arn = fields.string("roleArn", errors);
    let external_id = fields.string("externalId", errors);
    let access_key = fields.string("accessKey", errors);
    let access_secret = fields.string("accessSecret", errors);
    let before = errors.len();
    if let Some(role) = &role_arn {
        let valid = matches!(role.split(':').collect::<Vec<_>>().as_slice(),
            ["arn", partition, "iam", "", account, resource]
                if partition.starts_with("aws") && is_account_id(account) && resource.starts_with("role/") && resource.len() > 5);
        if !valid {
            errors.add(
                &fields.at.key("roleArn"),
                "must be an IAM role ARN like arn:aws:iam::123456789012:role/collector-delivery",
            );
        }
    }
    if let Some(external) = &external_id {
        let valid = (2..=1224).contains(&external.len())
            && external
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@:/-_".contains(c));
        if !valid {
            errors.add(
                &fields.at.key("externalId"),
                "must be 2 to 1224 characters of letters, digits and +=,.@:/-_",
            );
        }
        if role_arn.is_none() {
            errors.add(&fields.at.key("externalId"), "is used only with roleArn");
        }
    }
    if role_arn.is_some() && (access_key.is_some() || access_secret.is_some()) {
        errors.add(
            &fields.at.key("accessKey"),
            "send either roleArn (recommended) or accessKey and accessSecret, not both",
        );
    }
    match (&access_key, &access_secret) {
        (Some(key), _) if !(16..=128).contains(&key.len()) || !key.chars().all(|c| c.is_ascii_alphanumeric()) => errors
            .add(
                &fields.at.key("accessKey"),
                "must be an AWS access key id such as AKIAIOSFODNN7EXAMPLE",
            ),
        (Some(_), None) => errors.add(&fields.at.key("accessSecret"), "is required with accessKey"),
        (None, Some(_)) => errors.add(&fields.at.key("accessKey"), "is required with accessSecret"),
        (_, Some(secret)) if !(16..=128).contains(&secret.len()) || secret.chars().any(char::is_whitespace) => {
            errors.add(&fields.at.key("accessSecret"), "must be an AWS secret access key")
        }
        _ => {}
    }
    if errors.len() > before {
        return None;
    }
    Some(match (role_arn, access_key, access_secret) {
        (Some(role_arn), _, _) => AccessInput::AssumeRole { role_arn, external_id },
        (None, Some(access_key), Some(access_secret)) => AccessInput::AccessKey {
            access_key,
            access_secret,
        },
        _ => AccessInput::NotSent,
    })
}

fn webhook(fields: &Fields, policy: DestinationPolicy, errors: &mut Errors) -> Option<DestinationInput> {
    let at = fields.at.key("url");
    let raw = fields.required("url", errors)?;
    match check_webhook_url(&raw, policy) {
        Ok(()) => Some(DestinationInput::Webhook { url: raw }),
        Err(problem) => {
            errors.add(&at, problem);
            None
        }
    }
}

/// A webhook URL: absolute, `https` (or `http` in local mode), no credentials in it, and outside local mode
/// no host that is or names a loopback, private or link-local address.
pub fn check_webhook_url(raw: &str, policy: DestinationPolicy) -> Result<(), String> {
    if raw.len() > MAX_URL_CHARS {
        return Err(format!("must be at most {MAX_URL_CHARS} characters"));
    }
    let url = Url::parse(raw).map_err(|e| format!("must be an absolute https URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_private_targets => {}
        _ => return Err("must use https".to_owned()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials; the signature authenticates the sender".to_owned());
    }
    if policy.allow_private_targets {
        return Ok(());
    }
    let ip: Option<IpAddr> = match url.host() {
        Some(Host::Ipv4(v4)) => Some(v4.into()),
        Some(Host::Ipv6(v6)) => Some(v6.into()),
        Some(Host::Domain(name)) if is_internal_host_name(name) => {
            return Err(format!("must not point at an internal host ({name})"))
        }
        Some(Host::Domain(_)) => None,
        None => return Err("must name a host".to_owned()),
    };
    match ip {
        Some(ip) if !is_public(ip) => Err(format!(
            "must not point at a loopback, private or link-local address ({ip})"
        )),
        _ => Ok(()),
    }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_resource_name(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1` …
fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts.len() <= 4
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}
