//! The line protocol between the harness and every benchmark program (the
//! C programs speak it too, see `c/bench.h`):
//!
//! - arguments are `key=value` words after the scenario name;
//! - `READY port=N` is printed once the program's socket is bound;
//! - `go N` on stdin starts a program that waits (drain);
//! - `RESULT k=v ...` is printed once, at the end.

use std::collections::BTreeMap;
use std::fmt;

/// `key=value` pairs, from program arguments or from a `READY`/`RESULT`
/// line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// Parses `key=value` words; a word without `=` is an error.
    pub fn parse<'a>(words: impl IntoIterator<Item = &'a str>) -> Result<Params, String> {
        let mut map = BTreeMap::new();
        for word in words {
            let (k, v) = word
                .split_once('=')
                .ok_or_else(|| format!("expected key=value, got {word:?}"))?;
            map.insert(k.to_string(), v.to_string());
        }
        Ok(Params(map))
    }

    /// Parses a protocol line: `(kind, params)` for `KIND k=v ...`.
    pub fn parse_line(line: &str) -> Option<(&str, Params)> {
        let mut words = line.split_whitespace();
        let kind = words.next()?;
        Params::parse(words).ok().map(|p| (kind, p))
    }

    /// Adds or replaces a pair.
    pub fn set(&mut self, key: &str, value: impl fmt::Display) -> &mut Params {
        self.0.insert(key.to_string(), value.to_string());
        self
    }

    /// An unsigned value; `default` if absent or not a number.
    pub fn u64(&self, key: &str, default: u64) -> u64 {
        self.0
            .get(key)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    /// A value that must be there.
    pub fn require(&self, key: &str) -> Result<u64, String> {
        self.0
            .get(key)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("missing or bad {key}= in {self}"))
    }

    /// A 0/1 flag.
    pub fn flag(&self, key: &str) -> bool {
        self.u64(key, 0) != 0
    }

    /// A string value, if present.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The pairs as program arguments.
    pub fn to_args(&self) -> Vec<String> {
        self.0.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_args().join(" "))
    }
}

/// Prints `RESULT k=v ...` (the last line a program prints).
pub fn print_result(pairs: &[(&str, u64)]) {
    let words: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("RESULT {}", words.join(" "));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_args() {
        let (kind, p) = Params::parse_line("RESULT received=12 ns=1000").unwrap();
        assert_eq!(kind, "RESULT");
        assert_eq!(p.u64("received", 0), 12);
        assert_eq!(p.require("ns"), Ok(1000));
        assert!(p.require("cpu_ns").is_err());
        assert_eq!(p.to_args(), vec!["ns=1000", "received=12"]);
        assert!(Params::parse(["nokey"]).is_err());
        let mut q = Params::default();
        q.set("mmsg", 1);
        assert!(q.flag("mmsg"));
        assert!(!q.flag("other"));
    }
}
