//! CPU time of this process from `/proc/self/stat` (Linux; 0 elsewhere).

/// Clock ticks per second of `/proc/*/stat` (USER_HZ, 100 on every Linux build we run on).
const USER_HZ: f64 = 100.0;

/// User + system CPU time of this process (all threads), ms.
pub fn process_cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| parse_stat(&s))
        .unwrap_or(0.0)
}

fn parse_stat(stat: &str) -> Option<f64> {
    // The command name (field 2) may contain spaces: count fields after its closing ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks * 1000.0 / USER_HZ)
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_utime_and_stime() {
        let s = "42 (a b) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0";
        assert_eq!(super::parse_stat(s), Some(3000.0));
        assert_eq!(super::parse_stat("garbage"), None);
        assert!(super::process_cpu_ms() >= 0.0);
    }
}
