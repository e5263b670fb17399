//! The limits of SQS's and SNS's batch calls (`SendMessageBatch`, `PublishBatch`) and the split of a list
//! into batches within them: both take ten entries and 256 KiB of bodies at most.

use std::ops::Range;

/// Entries in one batch call.
pub const MAX_BATCH_ENTRIES: usize = 10;
/// Bytes of one batch call's entries together.
pub const MAX_BATCH_BYTES: usize = 256 * 1024;

/// Consecutive ranges of items, by their sizes in bytes, each within both limits; an item over the byte limit
/// on its own gets a batch of its own (the service then refuses it alone).
pub fn batches(sizes: impl IntoIterator<Item = usize>) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let (mut start, mut bytes, mut end) = (0, 0, 0);
    for (i, size) in sizes.into_iter().enumerate() {
        let full = i - start == MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES;
        if full && i > start {
            ranges.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes += size;
        end = i + 1;
    }
    if start < end {
        ranges.push(start..end);
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_items_exceed_a_limit_should_start_a_new_batch() {
        assert_eq!(batches([1; 25]), [0..10, 10..20, 20..25], "ten entries at most");
        assert_eq!(
            batches([100 * 1024, 100 * 1024, 100 * 1024, 10]),
            [0..2, 2..4],
            "256 KiB at most"
        );
        assert_eq!(batches([300 * 1024, 1]), [0..1, 1..2], "an oversized item alone");
        assert!(batches(std::iter::empty()).is_empty());
    }
}
