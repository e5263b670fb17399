//! When a failed delivery is tried again: growing delays with jitter, then the dead-letter queue.

use std::time::Duration;

/// Delays after the 1st, 2nd … failed attempt. After the last, the message goes to the dead-letter queue.
pub const RETRY_DELAYS: [Duration; 6] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 60 * 60),
    Duration::from_secs(5 * 60 * 60),
    Duration::from_secs(10 * 60 * 60),
];

/// Attempts in all: the first and one per delay. The dispatch queue's `maxReceiveCount` must equal it.
pub const MAX_ATTEMPTS: u32 = RETRY_DELAYS.len() as u32 + 1;

/// SQS's longest visibility timeout.
const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 60 * 60);

/// The delay before attempt `failed_attempts + 1`, with ±20 % jitter (`jitter` in `[0, 1)`), so that
/// deliveries failing together do not retry together. `None` when no attempt is left.
pub fn retry_delay(failed_attempts: u32, jitter: f64) -> Option<Duration> {
    let index = usize::try_from(failed_attempts.checked_sub(1)?).ok()?;
    let base = RETRY_DELAYS.get(index)?;
    let factor = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    Some(base.mul_f64(factor).min(MAX_VISIBILITY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_attempts_fail_should_follow_the_schedule_within_jitter_then_stop() {
        assert_eq!(retry_delay(1, 0.5), Some(Duration::from_secs(5)));
        let low = retry_delay(2, 0.0).unwrap();
        let high = retry_delay(2, 0.999).unwrap();
        assert!(
            low >= Duration::from_secs(240) && high <= Duration::from_secs(360),
            "{low:?} {high:?}"
        );
        assert!(retry_delay(6, 0.999).unwrap() <= MAX_VISIBILITY);
        assert_eq!(retry_delay(7, 0.5), None);
        assert_eq!(retry_delay(0, 0.5), None);
        assert_eq!(MAX_ATTEMPTS, 7);
    }
}
