//! Medians and within-round ratios.

/// The median of `values` (the mean of the middle two for an even count);
/// `None` if empty. NaNs are ignored.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// The median of the ratios `a[i] / b[i]` over the rounds where both were
/// measured and `b[i]` is not 0: each ratio compares two runs of the same
/// round, so slow drifts of the machine cancel.
pub fn median_ratio(a: &[Option<f64>], b: &[Option<f64>]) -> Option<f64> {
    let ratios: Vec<f64> = a
        .iter()
        .zip(b)
        .filter_map(|(x, y)| match (x, y) {
            (Some(x), Some(y)) if *y != 0.0 => Some(x / y),
            _ => None,
        })
        .collect();
    median(&ratios)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN, 2.0]), Some(2.0));
    }

    #[test]
    fn ratios_are_taken_within_rounds() {
        // The machine got twice as fast in round 2; the ratio did not move.
        let a = [Some(2.0), Some(4.0), Some(2.2)];
        let b = [Some(1.0), Some(2.0), Some(1.0)];
        assert_eq!(median_ratio(&a, &b), Some(2.0));
        // Missing or zero baselines are skipped.
        assert_eq!(
            median_ratio(&[Some(1.0), Some(3.0)], &[None, Some(0.0)]),
            None
        );
        assert_eq!(
            median_ratio(&[Some(1.0), None], &[Some(2.0), Some(1.0)]),
            Some(0.5)
        );
    }
}
