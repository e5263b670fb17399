//! `storeadmin`: creates stores and issues API keys, locally and in a deployed stack alike.
//!
//! ```text
//! storeadmin create-store <name> [scope,scope…]   new store + a key; prints JSON with the key (shown once)
//! storeadmin issue-key <storeId> [scope,scope…]    another key for a store
//! storeadmin list-keys <storeId>                   the store's keys: id, scopes, creation time (never the key)
//! storeadmin revoke-key <storeId> <keyId>          the key stops authenticating (within 60 s everywhere)
//! storeadmin set-rate-limit <storeId> <perSecond>  the store's requests per second (default 100)
//! storeadmin set-retention <storeId> <days>        how long its events are kept (default 395)
//! storeadmin set-email-identity <storeId> < identity.json
//!                                                  the store's SendGrid key and sender for its jobs
//! storeadmin redrive [limit]                       dead-lettered dispatch messages back to dispatch (default 1000)
//! ```
//! Scopes default to all of them. Needs `TABLE_NAME` and AWS credentials (`AWS_ENDPOINT_URL` locally);
//! `redrive` needs `DISPATCH_QUEUE_URL` instead (its dead-letter queue is the one its redrive policy names).
//! `set-email-identity` reads `{"apiKey", "fromEmail", "fromName"?, "replyTo"?, "unsubscribeGroupId"?}` from
//! standard input (so the key is in no command line) and needs `SECRETS_KEY_ID` (the stack's `SecretsKeyArn`
//! output) to seal the key; it prints the identity without it.

use collector_aws::aws_config;
use collector_aws::dynamo::{DynamoTable, TableConfig};
use collector_aws::kms::KmsSecretBox;
use collector_aws::sqs::SqsDispatchQueue;
use collector_core::config::ProcessEnv;
use collector_core::domain::api_key::Scope;
use collector_core::domain::email_identity::parse_identity;
use collector_core::domain::ids::StoreId;
use collector_core::domain::store::Setting;
use collector_core::ports::{Clock, RandomIds, SystemClock};
use collector_core::service::admin::{
    create_store, issue_key, list_keys, revoke_key, set_email_identity, set_rate_limit, set_retention,
};
use std::io::Read;

const USAGE: &str = "usage: storeadmin create-store <name> [scopes] | storeadmin issue-key <storeId> [scopes] | \
                     storeadmin list-keys <storeId> | storeadmin revoke-key <storeId> <keyId> | \
                     storeadmin set-rate-limit <storeId> <perSecond> | storeadmin set-retention <storeId> <days> | \
                     storeadmin set-email-identity <storeId> < identity.json | storeadmin redrive [limit]";

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(message) = run(std::env::args().skip(1).collect()).await {
        eprintln!("storeadmin: {message}");
        std::process::exit(2);
    }
}

async fn run(args: Vec<String>) -> Result<(), String> {
    if args.first().map(String::as_str) == Some("redrive") {
        let limit: usize = match args.get(1) {
            Some(n) => n.parse().map_err(|_| USAGE.to_owned())?,
            None => 1_000,
        };
        let url = std::env::var("DISPATCH_QUEUE_URL").map_err(|_| "redrive needs DISPATCH_QUEUE_URL".to_owned())?;
        let queue = SqsDispatchQueue::from_sdk(&aws_config().await, url);
        let moved = queue.redrive_dead_letters(limit).await.map_err(|e| e.to_string())?;
        println!("{:#}", serde_json::json!({"redriven": moved}));
        return Ok(());
    }
    let (command, target) = match args.as_slice() {
        [command, target, ..] => (command.as_str(), target.as_str()),
        _ => return Err(USAGE.into()),
    };
    let config = TableConfig::from_env(&ProcessEnv).map_err(|e| e.to_string())?;
    let table = DynamoTable::from_sdk(&aws_config().await, &config);
    if let "list-keys" | "revoke-key" = command {
        let store = StoreId::parse(target).map_err(|e| e.to_string())?;
        let output = if command == "list-keys" {
            let keys = list_keys(&table, &store).await.map_err(|e| e.to_string())?;
            let keys: Vec<_> = keys
                .iter()
                .map(|k| serde_json::json!({"keyId": k.key_id, "scopes": k.scopes, "createdAt": k.created_at}))
                .collect();
            serde_json::json!({"storeId": store, "keys": keys})
        } else {
            let key_id = args.get(2).ok_or(USAGE)?;
            revoke_key(&table, &store, key_id).await?;
            serde_json::json!({"storeId": store, "revoked": key_id})
        };
        println!("{output:#}");
        return Ok(());
    }
    if command == "set-email-identity" {
        let store = StoreId::parse(target).map_err(|e| e.to_string())?;
        return set_identity(&table, &store).await;
    }
    if let "set-rate-limit" | "set-retention" = command {
        let store = StoreId::parse(target).map_err(|e| e.to_string())?;
        let value: u32 = args.get(2).and_then(|n| n.parse().ok()).ok_or(USAGE)?;
        let setting = if command == "set-rate-limit" {
            set_rate_limit(&table, &store, value).await?;
            Setting::RateLimitPerSecond
        } else {
            set_retention(&table, &store, value).await?;
            Setting::RetentionDays
        };
        println!("{}", serde_json::json!({"storeId": store, setting.name(): value}));
        return Ok(());
    }
    let scopes = match args.get(2) {
        None => Scope::ALL.to_vec(),
        Some(list) => list
            .split(',')
            .map(|s| Scope::parse(s.trim()).ok_or_else(|| format!("unknown scope '{s}'")))
            .collect::<Result<_, _>>()?,
    };
    let now = SystemClock.now();
    let (store_id, name) = match command {
        "create-store" => {
            let store = create_store(&table, &RandomIds, target, now)
                .await
                .map_err(|e| e.to_string())?;
            (store.store_id, Some(store.name))
        }
        "issue-key" => (StoreId::parse(target).map_err(|e| e.to_string())?, None),
        _ => return Err(USAGE.into()),
    };
    let key = issue_key(&table, &RandomIds, &store_id, scopes, now)
        .await
        .map_err(|e| e.to_string())?;
    let output = serde_json::json!({
        "storeId": store_id,
        "name": name,
        "apiKey": key.plaintext,
        "keyId": key.record.key_id,
        "scopes": key.record.scopes,
    });
    println!("{output:#}");
    Ok(())
}

/// `set-email-identity`: the identity from standard input, its key sealed, printed back without the key.
async fn set_identity(table: &DynamoTable, store: &StoreId) -> Result<(), String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| format!("reading the identity from standard input: {e}"))?;
    let body = serde_json::from_str(&text).map_err(|e| format!("the identity is not JSON: {e}"))?;
    let input = parse_identity(&body).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| format!("{} {}", e.pointer, e.detail)).collect();
        lines.join("; ")
    })?;
    let key_id = std::env::var("SECRETS_KEY_ID")
        .map_err(|_| "set-email-identity needs SECRETS_KEY_ID (the stack's SecretsKeyArn output)".to_owned())?;
    let seal = KmsSecretBox::from_sdk(&aws_config().await, key_id);
    let identity = set_email_identity((table, &seal), store, input, SystemClock.now()).await?;
    let output = serde_json::json!({
        "storeId": store,
        "fromEmail": identity.from_email,
        "fromName": identity.from_name,
        "replyTo": identity.reply_to,
        "unsubscribeGroupId": identity.unsubscribe_group_id,
        "apiKey": "(sealed)",
    });
    println!("{output:#}");
    Ok(())
}
