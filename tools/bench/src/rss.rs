//! Peak resident set size of this process, from `/proc/self/status` (Linux).

/// `VmHWM` in KiB, or 0 where `/proc` is not available.
pub fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| parse_vmhwm(&s))
        .unwrap_or(0)
}

fn parse_vmhwm(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_vmhwm() {
        let s = "Name:\tx\nVmPeak:\t  9000 kB\nVmHWM:\t    4321 kB\nVmRSS:\t 100 kB\n";
        assert_eq!(super::parse_vmhwm(s), Some(4321));
        assert_eq!(super::parse_vmhwm("nothing"), None);
        assert!(super::peak_rss_kb() > 0);
    }
}
