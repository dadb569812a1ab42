//! Command-line flags (`--name value` pairs and bare switches); no parser crate needed for this.

use std::collections::HashMap;

pub struct Args {
    pub command: Option<String>,
    values: HashMap<String, String>,
    switches: Vec<String>,
}

/// Flags that take no value.
const SWITCHES: &[&str] = &[
    "--quick",
    "--smoke",
    "--help",
    "--no-curl",
    "--tls",
    "--no-cold",
    "--no-spread",
];

impl Args {
    pub fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
        let mut a = Args {
            command: None,
            values: HashMap::new(),
            switches: Vec::new(),
        };
        while let Some(x) = it.next() {
            if SWITCHES.contains(&x.as_str()) {
                a.switches.push(x);
            } else if let Some(name) = x.strip_prefix("--") {
                let v = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
                a.values.insert(name.to_string(), v);
            } else if a.command.is_none() {
                a.command = Some(x);
            } else {
                return Err(format!("unexpected argument '{x}'"));
            }
        }
        Ok(a)
    }

    pub fn has(&self, switch: &str) -> bool {
        self.switches.iter().any(|s| s == switch)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn req(&self, name: &str) -> Result<&str, String> {
        self.get(name)
            .ok_or_else(|| format!("--{name} is required"))
    }

    pub fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name}: '{v}' is not a valid number")),
        }
    }

    /// A comma-separated list, or `default` when absent.
    pub fn list(&self, name: &str, default: &[&str]) -> Vec<String> {
        match self.get(name) {
            Some(v) => v
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            None => default.iter().map(|s| s.to_string()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Args;

    #[test]
    fn parses_flags() {
        let a = Args::parse(
            [
                "client",
                "--variant",
                "floor",
                "--quick",
                "--concurrency",
                "16",
            ]
            .iter()
            .map(|s| s.to_string()),
        )
        .unwrap();
        assert_eq!(a.command.as_deref(), Some("client"));
        assert_eq!(a.get("variant"), Some("floor"));
        assert!(a.has("--quick"));
        assert_eq!(a.num("concurrency", 1usize).unwrap(), 16);
        assert!(a.num::<usize>("variant", 1).is_err());
        assert_eq!(a.list("missing", &["a", "b"]), vec!["a", "b"]);
        assert!(Args::parse(["--seconds"].iter().map(|s| s.to_string())).is_err());
    }
}
