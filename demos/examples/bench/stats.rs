//! Order statistics over a sample: median (the mean of the two middle values for an even count)
//! and nearest-rank percentiles (the smallest value with at least p% of the sample at or below it).

use std::time::Duration;

/// Order statistics of one sample of wall times.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    pub count: usize,
    pub min: Duration,
    pub median: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Summary {
    /// `None` for an empty sample.
    pub fn of(sample: &[Duration]) -> Option<Summary> {
        let mut sorted = sample.to_vec();
        sorted.sort_unstable();
        let (&min, &max) = (sorted.first()?, sorted.last()?);
        let middle = sorted.len() / 2;
        let median = if sorted.len().is_multiple_of(2) {
            (sorted[middle - 1] + sorted[middle]) / 2
        } else {
            sorted[middle]
        };
        Some(Summary {
            count: sorted.len(),
            min,
            median,
            p90: nearest_rank(&sorted, 90),
            p99: nearest_rank(&sorted, 99),
            max,
        })
    }

    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "count": self.count,
            "min": millis(self.min),
            "median": millis(self.median),
            "p90": millis(self.p90),
            "p99": millis(self.p99),
            "max": millis(self.max),
        })
    }
}

/// `sorted` is not empty and sorted ascending; `percent` is 1..=100.
fn nearest_rank<T: Copy>(sorted: &[T], percent: usize) -> T {
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// Median of whole numbers (KiB), rounded down; `None` for an empty sample.
pub fn median_u64(sample: &[u64]) -> Option<u64> {
    let mut sorted = sample.to_vec();
    sorted.sort_unstable();
    let middle = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        n if n.is_multiple_of(2) => Some((sorted[middle - 1] + sorted[middle]) / 2),
        _ => Some(sorted[middle]),
    }
}

/// Milliseconds with three decimals, for the JSON file.
pub fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}

/// For the table: `1.234 ms`.
pub fn show(duration: Duration) -> String {
    format!("{:.3} ms", duration.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let sample: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let summary = Summary::of(&sample).unwrap();
        assert_eq!(summary.median, Duration::from_micros(50_500));
        assert_eq!(summary.p90, Duration::from_millis(90));
        assert_eq!(summary.p99, Duration::from_millis(99));
        assert_eq!(nearest_rank(&[7], 99), 7);
        assert_eq!(median_u64(&[3, 1, 2]), Some(2));
    }
}
