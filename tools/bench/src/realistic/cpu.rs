//! CPU time of this process from `/proc/self/stat`, and of the whole machine from
//! `/proc/stat` (Linux; 0 or `None` elsewhere).

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

/// The machine's CPU ticks so far, all cores: busy (user, nice, system, irq, softirq), stolen
/// (the hypervisor ran someone else while this machine's CPU wanted to run: the host's load,
/// which none of our processes show) and in total (idle and iowait added).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MachineTicks {
    pub busy: u64,
    pub steal: u64,
    pub total: u64,
}

impl MachineTicks {
    pub fn now() -> Option<MachineTicks> {
        parse_machine(&std::fs::read_to_string("/proc/stat").ok()?)
    }

    /// The busy and the stolen share of every core between `before` and `self`, % (100:
    /// every core).
    pub fn pct_since(&self, before: &MachineTicks) -> (f64, f64) {
        let total = self.total.saturating_sub(before.total);
        if total == 0 {
            return (0.0, 0.0);
        }
        let pct = |now: u64, then: u64| now.saturating_sub(then) as f64 * 100.0 / total as f64;
        (pct(self.busy, before.busy), pct(self.steal, before.steal))
    }
}

fn parse_machine(stat: &str) -> Option<MachineTicks> {
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let f: Vec<u64> = line
        .split_whitespace()
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal (guest time is inside user already).
    let [user, nice, system, idle, iowait, irq, softirq, steal] = *f.get(..8)? else {
        return None;
    };
    let busy = user + nice + system + irq + softirq;
    Some(MachineTicks {
        busy,
        steal,
        total: busy + steal + idle + iowait,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_machine_line() {
        let s = "cpu  100 5 40 800 10 1 20 4 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n";
        let t = parse_machine(s).unwrap();
        let want = MachineTicks {
            busy: 166,
            steal: 4,
            total: 980,
        };
        assert_eq!(t, want);
        let later = MachineTicks {
            busy: 266,
            steal: 24,
            total: 1180,
        };
        assert_eq!(later.pct_since(&t), (50.0, 10.0));
        assert_eq!(t.pct_since(&t), (0.0, 0.0));
        assert_eq!(parse_machine("cpu0 1 2 3\n"), None);
        assert_eq!(parse_machine("cpu  1 2 x 4 5 6 7 8\n"), None);
        assert_eq!(parse_machine("cpu  1 2 3\n"), None);
        assert!(MachineTicks::now().is_some_and(|t| t.total >= t.busy));
    }

    #[test]
    fn parses_utime_and_stime() {
        let s = "42 (a b) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0";
        assert_eq!(parse_stat(s), Some(3000.0));
        assert_eq!(parse_stat("garbage"), None);
        assert!(process_cpu_ms() >= 0.0);
    }
}
