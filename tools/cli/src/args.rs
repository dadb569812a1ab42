//! A small command-line parser: `--flag value`, `--flag=value`, boolean `--flag`, positionals.
//! Hand-written because the tool needs a dozen flags and nothing clap would add.

use std::collections::HashMap;

pub struct Args {
    pub positionals: Vec<String>,
    values: HashMap<String, Vec<String>>,
    switches: Vec<String>,
}

/// Flags that take no value.
const SWITCHES: &[&str] = &[
    "one-page",
    "help",
    "all",
    "developer-managed",
    "no-order-ids",
    "pretty",
    "no-clawback",
];

impl Args {
    pub fn parse(raw: impl IntoIterator<Item = String>) -> Result<Args, String> {
        let mut positionals = Vec::new();
        let mut values: HashMap<String, Vec<String>> = HashMap::new();
        let mut switches = Vec::new();
        let mut it = raw.into_iter();
        while let Some(a) = it.next() {
            if a == "--" {
                positionals.extend(it.by_ref());
                break;
            }
            if let Some(flag) = a.strip_prefix("--") {
                if let Some((k, v)) = flag.split_once('=') {
                    values.entry(k.to_string()).or_default().push(v.to_string());
                } else if SWITCHES.contains(&flag) {
                    switches.push(flag.to_string());
                } else {
                    let v = it.next().ok_or_else(|| format!("--{flag} needs a value"))?;
                    values.entry(flag.to_string()).or_default().push(v);
                }
            } else if a == "-h" {
                switches.push("help".into());
            } else {
                positionals.push(a);
            }
        }
        Ok(Args {
            positionals,
            values,
            switches,
        })
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.values
            .get(k)
            .and_then(|v| v.last())
            .map(String::as_str)
    }

    pub fn all(&self, k: &str) -> Vec<String> {
        self.values.get(k).cloned().unwrap_or_default()
    }

    pub fn flag(&self, k: &str) -> bool {
        self.switches.iter().any(|s| s == k)
    }

    pub fn require(&self, k: &str) -> Result<&str, String> {
        self.get(k).ok_or_else(|| format!("--{k} is required"))
    }

    pub fn parse_num<T: std::str::FromStr>(&self, k: &str) -> Result<Option<T>, String> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| format!("--{k} '{v}' is not a valid number")),
        }
    }

    /// Every flag given, to reject unknown ones.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values
            .keys()
            .map(String::as_str)
            .chain(self.switches.iter().map(String::as_str))
    }
}
