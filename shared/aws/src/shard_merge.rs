//! The newest items across the partitions of a sharded, time-ordered index (a subscription's deliveries, a
//! store's events): each shard is read newest first, a little over its share at first, then only the
//! shards that may still hold one of the newest go on, so a page costs about one small query per shard.

use std::future::Future;

use futures::future::join_all;

use super::dynamo::Item;
use collector_core::ports::StoreError;

/// How many shards a listing reads at once.
const CONCURRENCY: usize = 16;

/// One query page of a shard, newest first, and where its next page starts.
pub(super) struct ShardPage<T> {
    pub items: Vec<T>,
    pub next: Option<Item>,
}

/// The `limit` newest items of shards `0..shards`, newest first by `order` (the index's sort key, then
/// whatever makes it unique), and whether any shard may hold more after them. `sort_key` is the index's
/// own sort key, the order a shard is read in (items of one key may come in any order); `read(shard,
/// limit, start)` reads one page of one shard.
pub(super) async fn newest_across<T, S, K, F, Fut>(
    shards: u64,
    limit: usize,
    (sort_key, order): (impl Fn(&T) -> S, impl Fn(&T) -> K),
    read: F,
) -> Result<(Vec<T>, bool), StoreError>
where
    S: Ord,
    K: Ord,
    F: Fn(u64, usize, Option<Item>) -> Fut,
    Fut: Future<Output = Result<ShardPage<T>, StoreError>>,
{
    let all: Vec<u64> = (0..shards).collect();
    let share = limit.div_ceil(all.len().max(1)) + 1;
    let mut fetched: Vec<(u64, ShardPage<T>)> = Vec::with_capacity(all.len());
    for wave in all.chunks(CONCURRENCY) {
        let pages = join_all(wave.iter().map(|shard| read(*shard, share, None))).await;
        for (shard, page) in wave.iter().zip(pages) {
            fetched.push((*shard, page?));
        }
    }
    loop {
        let mut keys: Vec<S> = fetched
            .iter()
            .flat_map(|(_, p)| p.items.iter().map(&sort_key))
            .collect();
        keys.sort_unstable_by(|a, b| b.cmp(a));
        // The oldest item that still makes the page; a shard whose last item read is not older may hold
        // more of it.
        let cutoff = keys.into_iter().nth(limit.saturating_sub(1));
        let unfinished: Vec<usize> = fetched
            .iter()
            .enumerate()
            .filter(|(_, (_, page))| page.next.is_some())
            .filter(|(_, (_, page))| match (&cutoff, page.items.last()) {
                (Some(cutoff), Some(last)) => sort_key(last) >= *cutoff,
                _ => true,
            })
            .map(|(i, _)| i)
            .collect();
        if unfinished.is_empty() {
            break;
        }
        for i in unfinished {
            let (shard, page) = &mut fetched[i];
            let more = read(*shard, limit, page.next.take()).await?;
            page.items.extend(more.items);
            page.next = more.next;
        }
    }
    let more_in_shards = fetched.iter().any(|(_, page)| page.next.is_some());
    let mut items: Vec<T> = fetched.into_iter().flat_map(|(_, page)| page.items).collect();
    items.sort_by_key(|item| std::cmp::Reverse(order(item)));
    let more = more_in_shards || items.len() > limit;
    items.truncate(limit);
    Ok((items, more))
}
