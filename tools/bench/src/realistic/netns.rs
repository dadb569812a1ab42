//! Two network namespaces joined by a veth pair, created for one run and removed when the
//! guard drops (and by a signal handler on Ctrl-C / SIGTERM). Names carry the benchmark's pid,
//! so concurrent runs do not collide and leftovers of a killed run are recognised and removed.
//! Addresses exist only inside the two namespaces (10.254.x.1/30 and .2/30).

use std::process::{Command, Stdio};

const PREFIX: &str = "msbench";

pub struct NetPair {
    pub server_ns: String,
    pub client_ns: String,
    /// The server end's address (reachable from the client namespace only).
    pub server_ip: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The proxy dials the server once per client connection and closes first, so each dial
/// leaves a TIME_WAIT socket for 60 s, all to the one server address. A full run's cold
/// starts open, by the cells' connection counts, ~28,000 such connections inside a minute, the
/// whole default ephemeral range (32768-60999): the next dial failed and a cold-start cell with
/// it (measured 2026-12-03: 17,127 TIME_WAIT sockets 18 s into the RTT 50 cold starts of three
/// variants; a full run's floor token request failed there). Both settings are the client namespace's own (net.* sysctls are per namespace).
const PORT_SETTINGS: &str = "echo '1024 65535' > /proc/sys/net/ipv4/ip_local_port_range \
    && echo 1 > /proc/sys/net/ipv4/tcp_tw_reuse";

/// Gives the client namespace the whole port range and TIME_WAIT reuse for new dials
/// ([`PORT_SETTINGS`]). A failure is printed, not fatal: short runs never need it.
fn widen_ports(ns: &str) {
    if let Err(e) = ip(&["netns", "exec", ns, "sh", "-c", PORT_SETTINGS]) {
        eprintln!("msstore-bench: could not widen the client namespace's ports (long cold-start runs may run out): {e}");
    }
}

/// Namespaces named by this benchmark for process `pid`.
fn names(pid: u32) -> (String, String) {
    (format!("{PREFIX}{pid}s"), format!("{PREFIX}{pid}c"))
}

/// Deletes both namespaces of `pid` (the veth pair goes with them); errors ignored.
pub fn remove(pid: u32) {
    let (s, c) = names(pid);
    for ns in [s, c] {
        let _ = ip(&["netns", "delete", &ns]);
    }
    // Only left in the root namespace when creation failed half-way.
    let _ = ip(&["link", "delete", &format!("msb{pid}a")]);
}

/// Removes this run's namespaces on Ctrl-C or SIGTERM too (Drop does not run then).
pub fn remove_on_signal() {
    let pid = std::process::id();
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                return;
            };
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            remove(pid);
            eprintln!("msstore-bench: interrupted; network namespaces removed");
            std::process::exit(130);
        });
    });
}

/// Removes namespaces left behind by benchmark runs whose process no longer exists.
fn remove_stale() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let pid = name
            .strip_prefix(PREFIX)
            .and_then(|r| r.strip_suffix(['s', 'c']))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = ip(&["netns", "delete", name]);
            }
        }
    }
}

impl NetPair {
    /// Creates the pair, or says why it cannot (not root, no `ip`, no netns support).
    pub fn create() -> Result<NetPair, String> {
        remove_stale();
        let pid = std::process::id();
        let (s, c) = names(pid);
        let guard = NetPair {
            server_ns: s.clone(),
            client_ns: c.clone(),
            server_ip: format!("10.254.{}.1", pid % 250),
        };
        let client_ip = format!("10.254.{}.2", pid % 250);
        let (va, vb) = (format!("msb{pid}a"), format!("msb{pid}b"));
        ip(&["netns", "add", &s])?;
        ip(&["netns", "add", &c])?;
        ip(&["link", "add", &va, "type", "veth", "peer", "name", &vb])?;
        ip(&["link", "set", &va, "netns", &s])?;
        ip(&["link", "set", &vb, "netns", &c])?;
        for (ns, dev, addr) in [(&s, &va, &guard.server_ip), (&c, &vb, &client_ip)] {
            ip(&["-n", ns, "addr", "add", &format!("{addr}/30"), "dev", dev])?;
            ip(&["-n", ns, "link", "set", dev, "up"])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        widen_ports(&c);
        Ok(guard)
    }

    /// A command run inside `ns` (`ip netns exec`).
    pub fn exec(ns: &str, program: &std::path::Path) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns]).arg(program);
        c
    }
}

impl Drop for NetPair {
    fn drop(&mut self) {
        remove(std::process::id());
    }
}
