//! Results: per-round figures, medians and within-round ratios of each
//! case, the tables printed for a person, and the JSON report.

use crate::harness::env::{Impl, SKIPPED};
use crate::scenarios::{Case, Metric, Unit, Values};
use crate::stats::{median, median_ratio};
use serde::Serialize;
use std::collections::BTreeMap;

/// The outcome of one run of one implementation.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum RunResult {
    /// Its figures.
    Ok(BTreeMap<String, f64>),
    /// Why it failed.
    Err {
        /// The message.
        error: String,
    },
    /// Why it could not run in this build (not a failure).
    Skipped {
        /// The message.
        skipped: String,
    },
}

impl RunResult {
    /// From a runner's result.
    pub fn from_outcome(outcome: Result<Values, String>) -> RunResult {
        match outcome {
            Ok(v) => RunResult::Ok(v.into_iter().map(|(k, v)| (k.to_string(), v)).collect()),
            Err(error) => match error.strip_prefix(SKIPPED) {
                Some(why) => RunResult::Skipped {
                    skipped: why.to_string(),
                },
                None => RunResult::Err { error },
            },
        }
    }

    fn get(&self, metric: &str) -> Option<f64> {
        match self {
            RunResult::Ok(v) => v.get(metric).copied(),
            RunResult::Err { .. } | RunResult::Skipped { .. } => None,
        }
    }
}

/// Everything measured for one case.
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    /// Scenario name.
    pub scenario: String,
    /// Case id.
    pub id: String,
    /// Title.
    pub title: String,
    /// How it was run.
    pub setup: String,
    /// The figures.
    pub metrics: Vec<Metric>,
    /// Implementations in table order.
    pub impls: Vec<String>,
    /// Ratios are taken against these.
    pub baselines: Vec<String>,
    /// Metrics with a ratio column in the table.
    pub ratio_metrics: Vec<String>,
    /// Per round: implementation → outcome.
    pub rounds: Vec<BTreeMap<String, RunResult>>,
    /// Implementation → metric → median over the rounds.
    pub median: BTreeMap<String, BTreeMap<String, f64>>,
    /// Implementation → baseline → metric → median of the per-round ratios.
    pub ratios: BTreeMap<String, BTreeMap<String, BTreeMap<String, f64>>>,
    /// Every failed run, as `round N, impl: message`.
    pub errors: Vec<String>,
}

impl CaseResult {
    /// An empty result for `case` run with `impls`.
    pub fn new(case: &Case, impls: &[Impl]) -> CaseResult {
        CaseResult {
            scenario: case.scenario.to_string(),
            id: case.id.clone(),
            title: case.title.clone(),
            setup: case.setup.clone(),
            metrics: case.metrics.clone(),
            impls: impls.iter().map(|i| i.name().to_string()).collect(),
            baselines: case
                .baselines
                .iter()
                .filter(|b| impls.contains(b))
                .map(|b| b.name().to_string())
                .collect(),
            ratio_metrics: case.ratio_metrics.iter().map(|m| m.to_string()).collect(),
            rounds: Vec::new(),
            median: BTreeMap::new(),
            ratios: BTreeMap::new(),
            errors: Vec::new(),
        }
    }

    /// Adds one round.
    pub fn push_round(&mut self, round: BTreeMap<String, RunResult>) {
        for (imp, r) in &round {
            if let RunResult::Err { error } = r {
                self.errors
                    .push(format!("round {}, {imp}: {error}", self.rounds.len() + 1));
            }
        }
        self.rounds.push(round);
    }

    fn series(&self, imp: &str, metric: &str) -> Vec<Option<f64>> {
        self.rounds
            .iter()
            .map(|r| r.get(imp).and_then(|x| x.get(metric)))
            .collect()
    }

    /// Computes the medians and ratios from the rounds.
    pub fn summarize(&mut self) {
        let keys: Vec<String> = self
            .rounds
            .iter()
            .flat_map(|r| r.values())
            .filter_map(|r| match r {
                RunResult::Ok(v) => Some(v.keys().cloned()),
                RunResult::Err { .. } | RunResult::Skipped { .. } => None,
            })
            .flatten()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for imp in &self.impls {
            for key in &keys {
                let s: Vec<f64> = self.series(imp, key).into_iter().flatten().collect();
                if let Some(m) = median(&s) {
                    self.median
                        .entry(imp.clone())
                        .or_default()
                        .insert(key.clone(), m);
                }
                for base in self.baselines.iter().filter(|b| *b != imp) {
                    if let Some(r) = median_ratio(&self.series(imp, key), &self.series(base, key)) {
                        self.ratios
                            .entry(imp.clone())
                            .or_default()
                            .entry(base.clone())
                            .or_default()
                            .insert(key.clone(), r);
                    }
                }
            }
        }
    }

    /// The median of `metric` for `imp`.
    pub fn median_of(&self, imp: &str, metric: &str) -> Option<f64> {
        self.median.get(imp)?.get(metric).copied()
    }

    /// The median within-round ratio `imp / base` of `metric`.
    pub fn ratio_of(&self, imp: &str, base: &str, metric: &str) -> Option<f64> {
        self.ratios.get(imp)?.get(base)?.get(metric).copied()
    }

    /// The implementations with no successful run, but those skipped in
    /// every round (they cannot run in this build).
    pub fn missing(&self) -> Vec<&str> {
        self.impls
            .iter()
            .filter(|i| !self.median.contains_key(*i) && !self.skipped(i))
            .map(String::as_str)
            .collect()
    }

    /// Whether every round skipped `imp`.
    pub fn skipped(&self, imp: &str) -> bool {
        !self.rounds.is_empty()
            && self
                .rounds
                .iter()
                .all(|r| matches!(r.get(imp), Some(RunResult::Skipped { .. })))
    }

    /// The header and rows of the table of medians and ratios.
    fn cells(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let mut headers = vec!["impl".to_string()];
        headers.extend(self.metrics.iter().map(|m| m.label.to_string()));
        let ratio_cols: Vec<(&Metric, &String)> = self
            .ratio_metrics
            .iter()
            .filter_map(|k| self.metrics.iter().find(|m| m.key == k))
            .flat_map(|m| self.baselines.iter().map(move |b| (m, b)))
            .collect();
        headers.extend(ratio_cols.iter().map(|(m, b)| format!("{} ÷{b}", m.label)));
        let rows: Vec<Vec<String>> = self
            .impls
            .iter()
            .map(|imp| {
                let mut row = vec![imp.clone()];
                for m in &self.metrics {
                    row.push(match self.median_of(imp, m.key) {
                        Some(v) => format_value(v, m.unit),
                        None if self.skipped(imp) => "skipped".into(),
                        None => "fail".into(),
                    });
                }
                for (m, b) in &ratio_cols {
                    row.push(if *b == imp {
                        "—".into()
                    } else {
                        self.ratio_of(imp, b, m.key)
                            .map_or_else(|| "?".into(), |r| format!("{r:.2}×"))
                    });
                }
                row
            })
            .collect();
        (headers, rows)
    }

    /// The table of medians and ratios.
    pub fn table(&self) -> String {
        let (headers, rows) = self.cells();
        render_table(&headers, &rows)
    }

    /// The same table in Markdown.
    pub fn markdown(&self) -> String {
        let (headers, rows) = self.cells();
        markdown_table(&headers, &rows)
    }
}

/// A value in its unit, short.
pub fn format_value(v: f64, unit: Unit) -> String {
    match unit {
        Unit::PerSec if v >= 1e6 => format!("{:.2}M", v / 1e6),
        Unit::PerSec if v >= 1e3 => format!("{:.1}k", v / 1e3),
        Unit::PerSec => format!("{v:.0}"),
        Unit::Ns if v >= 1e6 => format!("{:.2} ms", v / 1e6),
        Unit::Ns if v >= 1e4 => format!("{:.1} µs", v / 1e3),
        Unit::Ns if v >= 100.0 => format!("{v:.0} ns"),
        Unit::Ns => format!("{v:.1} ns"),
        Unit::Percent => format!("{v:.1}%"),
        Unit::Bytes if v >= (1u64 << 30) as f64 => format!("{:.2} GiB", v / (1u64 << 30) as f64),
        Unit::Bytes if v >= (1u64 << 20) as f64 => format!("{:.1} MiB", v / (1u64 << 20) as f64),
        Unit::Bytes => format!("{v:.0} B"),
        Unit::Count if v >= 1e6 => format!("{:.2}M", v / 1e6),
        Unit::Count if v >= 1e4 => format!("{:.1}k", v / 1e3),
        Unit::Count if v >= 100.0 => format!("{v:.0}"),
        Unit::Count => format!("{v:.2}"),
    }
}

/// Columns separated by " │ ", the first left-aligned, the others right.
pub fn render_table(headers: &[String], rows: &[Vec<String>]) -> String {
    let width = |c: usize| {
        std::iter::once(&headers[c])
            .chain(rows.iter().filter_map(|r| r.get(c)))
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..headers.len()).map(width).collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = widths[i].saturating_sub(c.chars().count());
                if i == 0 {
                    format!("{c}{}", " ".repeat(pad))
                } else {
                    format!("{}{c}", " ".repeat(pad))
                }
            })
            .collect::<Vec<_>>()
            .join(" │ ")
    };
    let mut out = vec![line(headers)];
    out.extend(rows.iter().map(|r| line(r)));
    out.join("\n")
}

/// A Markdown table, the first column left-aligned, the others right.
pub fn markdown_table(headers: &[String], rows: &[Vec<String>]) -> String {
    let row = |cells: &[String]| format!("| {} |", cells.join(" | "));
    let align: Vec<&str> = (0..headers.len())
        .map(|i| if i == 0 { "---" } else { "---:" })
        .collect();
    let mut out = vec![row(headers), format!("| {} |", align.join(" | "))];
    out.extend(rows.iter().map(|r| row(r)));
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios::{Better, Metric};

    fn result() -> CaseResult {
        let metrics = vec![Metric::new("rate", "rate", Unit::PerSec, Better::Higher)];
        let mut r = CaseResult {
            scenario: "s".into(),
            id: "s".into(),
            title: "t".into(),
            setup: String::new(),
            metrics,
            impls: vec!["ruv".into(), "libuv".into()],
            baselines: vec!["libuv".into()],
            ratio_metrics: vec!["rate".into()],
            rounds: Vec::new(),
            median: BTreeMap::new(),
            ratios: BTreeMap::new(),
            errors: Vec::new(),
        };
        for (a, b) in [(2000.0, 1000.0), (3000.0, 2000.0), (900.0, 1000.0)] {
            let mut round = BTreeMap::new();
            round.insert(
                "ruv".into(),
                RunResult::Ok(BTreeMap::from([("rate".into(), a)])),
            );
            round.insert(
                "libuv".into(),
                RunResult::Ok(BTreeMap::from([("rate".into(), b)])),
            );
            r.push_round(round);
        }
        r.summarize();
        r
    }

    #[test]
    fn medians_and_ratios() {
        let r = result();
        assert_eq!(r.median_of("ruv", "rate"), Some(2000.0));
        assert_eq!(r.median_of("libuv", "rate"), Some(1000.0));
        assert_eq!(r.ratio_of("ruv", "libuv", "rate"), Some(1.5));
        assert_eq!(r.ratio_of("libuv", "libuv", "rate"), None);
        assert!(r.missing().is_empty());
        let table = r.table();
        assert!(table.contains("rate ÷libuv"), "{table}");
        assert!(table.contains("1.50×"), "{table}");
        let md = r.markdown();
        assert!(
            md.starts_with("| impl | rate | rate ÷libuv |\n| --- | ---: | ---: |"),
            "{md}"
        );
    }

    #[test]
    fn failures_are_recorded() {
        let mut r = result();
        let mut round = BTreeMap::new();
        round.insert(
            "ruv".into(),
            RunResult::Err {
                error: "boom".into(),
            },
        );
        r.push_round(round);
        assert_eq!(r.errors, vec!["round 4, ruv: boom"]);
    }

    #[test]
    fn skipped_runs_are_not_failures() {
        let mut r = result();
        r.impls.push("uv-compat".into());
        r.rounds.clear();
        for _ in 0..2 {
            let mut round = BTreeMap::new();
            round.insert(
                "uv-compat".into(),
                RunResult::from_outcome(Err(format!("{SKIPPED}no uv_tcp_init"))),
            );
            round.insert(
                "ruv".into(),
                RunResult::Ok(BTreeMap::from([("rate".into(), 1.0)])),
            );
            round.insert(
                "libuv".into(),
                RunResult::Ok(BTreeMap::from([("rate".into(), 1.0)])),
            );
            r.push_round(round);
        }
        r.summarize();
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert!(r.skipped("uv-compat"));
        assert!(!r.skipped("ruv"));
        assert!(r.missing().is_empty());
        assert!(r.table().contains("skipped"), "{}", r.table());
        // An error without the marker stays a failure.
        assert!(matches!(
            RunResult::from_outcome(Err("boom".into())),
            RunResult::Err { .. }
        ));
    }

    #[test]
    fn formats_values() {
        assert_eq!(format_value(1_234_567.0, Unit::PerSec), "1.23M");
        assert_eq!(format_value(288_000.0, Unit::PerSec), "288.0k");
        assert_eq!(format_value(1040.0, Unit::Ns), "1040 ns");
        assert_eq!(format_value(12.34, Unit::Ns), "12.3 ns");
        assert_eq!(format_value(52.0, Unit::Bytes), "52 B");
        assert_eq!(
            format_value(1.5 * (1u64 << 30) as f64, Unit::Bytes),
            "1.50 GiB"
        );
        assert_eq!(format_value(5.0, Unit::Count), "5.00");
        assert_eq!(format_value(2750.0, Unit::Count), "2750");
    }
}
