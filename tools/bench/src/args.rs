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
    "--no-cpu-memory",
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
    use super::{Args, SWITCHES};

    /// A switch the code asks for but this table lacks is parsed as a flag taking the next
    /// argument as its value (`--no-cpu-memory --out DIR` once read DIR as the command): every
    /// `has("--…")` in the sources must name a listed switch.
    #[test]
    fn every_switch_asked_for_is_listed() {
        fn sources(dir: &std::path::Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    sources(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(std::fs::read_to_string(&p).unwrap());
                }
            }
        }
        let mut texts = Vec::new();
        sources(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
            &mut texts,
        );
        let mut asked = Vec::new();
        for t in &texts {
            for part in t.split("has(\"").skip(1) {
                if let Some(name) = part.split('"').next().filter(|n| {
                    n.len() > 2
                        && n.starts_with("--")
                        && n[2..].bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
                }) {
                    asked.push(name.to_string());
                }
            }
        }
        assert!(asked.len() >= 8, "found only {asked:?}");
        for name in asked {
            assert!(
                SWITCHES.contains(&name.as_str()),
                "{name} is asked for but not in SWITCHES"
            );
        }
        let a = Args::parse(
            ["--no-cpu-memory", "--out", "d"]
                .iter()
                .map(|s| s.to_string()),
        );
        let a = a.unwrap();
        assert!(a.has("--no-cpu-memory") && a.get("out") == Some("d") && a.command.is_none());
    }

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
