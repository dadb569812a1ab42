//! `msstore-emulator`: runs the local Microsoft Store Services emulator.
//!
//! ```text
//! msstore-emulator [--port N] [--host 127.0.0.1] [--seed demo] [--knobs JSON]
//!                  [--exit-on-stdin-eof] [--max-seconds N] [--tls]
//! ```
//!
//! `--tls` serves HTTPS with the committed test certificate (emulator only, never production);
//! the JSON line then also carries it as `tls_cert_pem`, for the client's
//! `extra_root_cert_pem`.
//!
//! Prints one line of JSON (`{"base_url":…, "login_base_url":…, …}` plus the demo seed fields
//! with `--seed demo`) to stdout, then serves until SIGINT/SIGTERM, stdin EOF (with
//! `--exit-on-stdin-eof`, so a test harness cannot leak it) or `--max-seconds`.

use msstore_emulator::{Emulator, EmulatorConfig, Knobs};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Duration;

struct Args {
    port: u16,
    host: String,
    seed: Option<String>,
    knobs: Option<String>,
    exit_on_stdin_eof: bool,
    max_seconds: Option<u64>,
    tls: bool,
}

const USAGE: &str = "usage: msstore-emulator [--port N] [--host 127.0.0.1] [--seed demo] [--knobs JSON] [--exit-on-stdin-eof] [--max-seconds N] [--tls]";

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        port: 0,
        host: "127.0.0.1".into(),
        seed: None,
        knobs: None,
        exit_on_stdin_eof: false,
        max_seconds: None,
        tls: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |n: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{n} needs a value"))
        };
        match name.as_str() {
            "--port" => a.port = value("--port")?.parse().map_err(|_| "invalid --port")?,
            "--host" => a.host = value("--host")?,
            "--tls" => a.tls = true,
            "--seed" => a.seed = Some(value("--seed")?),
            "--knobs" => a.knobs = Some(value("--knobs")?),
            "--max-seconds" => {
                a.max_seconds = Some(
                    value("--max-seconds")?
                        .parse()
                        .map_err(|_| "invalid --max-seconds")?,
                )
            }
            "--exit-on-stdin-eof" => a.exit_on_stdin_eof = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument '{other}'\n{USAGE}")),
        }
    }
    if let Some(s) = &a.seed {
        if s != "demo" {
            return Err(format!("unknown seed '{s}' (only 'demo')"));
        }
    }
    Ok(a)
}

/// Merges a partial knobs object over the defaults.
fn knobs_from(json_text: &str) -> Result<Knobs, String> {
    let patch: Value = serde_json::from_str(json_text).map_err(|e| format!("--knobs: {e}"))?;
    let Value::Object(patch) = patch else {
        return Err("--knobs must be a JSON object".into());
    };
    let mut cur = serde_json::to_value(Knobs::default()).map_err(|e| e.to_string())?;
    if let Some(o) = cur.as_object_mut() {
        for (k, v) in patch {
            if !o.contains_key(&k) {
                return Err(format!("--knobs: unknown knob '{k}'"));
            }
            o.insert(k, v);
        }
    }
    serde_json::from_value(cur).map_err(|e| format!("--knobs: {e}"))
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let knobs = match &args.knobs {
        Some(k) => knobs_from(k)?,
        None => Knobs::default(),
    };
    let mut emu = Emulator::start(EmulatorConfig {
        host: args.host.clone(),
        port: args.port,
        knobs,
        tls: args.tls,
        ..Default::default()
    })
    .map_err(|e| format!("cannot start emulator: {e}"))?;
    let mut line = json!({
        "base_url": emu.base_url(),
        "login_base_url": emu.login_base_url(),
        "collections_base_url": emu.collections_base_url(),
        "purchase_base_url": emu.purchase_base_url(),
        "admin_base_url": format!("{}/admin", emu.base_url()),
    });
    if args.tls {
        if let Some(o) = line.as_object_mut() {
            o.insert(
                "tls_cert_pem".into(),
                msstore_emulator::TEST_CERT_PEM.into(),
            );
        }
    }
    if args.seed.is_some() {
        let seed = serde_json::to_value(emu.seed_demo()).map_err(|e| e.to_string())?;
        if let (Some(o), Value::Object(s)) = (line.as_object_mut(), seed) {
            o.extend(s);
        }
    }
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let reason = rt.block_on(async {
        let (eof_tx, mut eof_rx) = tokio::sync::mpsc::channel::<()>(1);
        if args.exit_on_stdin_eof {
            // A plain thread: blocking stdin reads must not stall the runtime.
            std::thread::spawn(move || {
                let mut buf = [0u8; 1024];
                let mut stdin = std::io::stdin();
                while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
                let _ = eof_tx.blocking_send(());
            });
        } else {
            std::mem::forget(eof_tx);
        }
        let max = async {
            match args.max_seconds {
                Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
                None => std::future::pending().await,
            }
        };
        let term = async {
            #[cfg(unix)]
            {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending().await,
                }
            }
            #[cfg(not(unix))]
            std::future::pending::<()>().await
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => "SIGINT",
            _ = term => "SIGTERM",
            _ = eof_rx.recv() => "stdin closed",
            _ = max => "max-seconds reached",
        }
    });
    eprintln!("msstore-emulator: stopping ({reason})");
    emu.shutdown();
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("msstore-emulator: {e}");
            ExitCode::from(2)
        }
    }
}
