//! `throughput-realistic.svg`: the realistic run's throughput as a share of the floor, one panel
//! per RTT, a group of bars per concurrency (one bar per variant at its default cap, the median
//! of its per-round ratios to the floor with their range as a whisker), the 0.95x target as a
//! line. Shares, not ops/s: at c=1 and c=256 the ops/s differ 100-fold, and the target is a
//! share.

use super::verdict::{find, Spread};
use super::Cell;
use crate::report::{colour, panel_grid, svg_open};
use crate::variants::Variant;
use std::fmt::Write;

const TARGET: f64 = 0.95;

pub(crate) fn svg(cells: &[Cell], rtts: &[u64], title: &str) -> String {
    let warm: Vec<&Cell> = cells
        .iter()
        .filter(|c| !c.cold && c.max_conns.is_none())
        .collect();
    let mut levels: Vec<usize> = warm.iter().map(|c| c.concurrency).collect();
    levels.sort_unstable();
    levels.dedup();
    let variants: Vec<Variant> = Variant::ALL
        .into_iter()
        .filter(|v| warm.iter().any(|c| c.variant == *v))
        .collect();
    let ymax = 1.5f64;
    let (pw, ph) = (460.0, 280.0);
    let (w, h) = (pw * rtts.len().max(1) as f64 + 20.0, ph + 110.0);
    let mut s = svg_open(w, h, title);
    for (i, &rtt) in rtts.iter().enumerate() {
        let ox = 10.0 + pw * i as f64;
        let (left, top, pwid, phei) = (ox + 45.0, 50.0, pw - 65.0, ph - 40.0);
        let y_of = |v: f64| top + phei - v.min(ymax) / ymax * phei;
        let _ = writeln!(
            s,
            r#"<text x="{ox}" y="40" font-weight="bold">RTT {rtt} ms</text>"#
        );
        panel_grid(&mut s, (left, top, pwid, phei), ymax, 6, |v| {
            format!("{v:.2}x")
        });
        let gw = pwid / levels.len().max(1) as f64;
        let bw = (gw - 16.0) / variants.len().max(1) as f64;
        for (g, &c) in levels.iter().enumerate() {
            let gx = left + gw * g as f64 + 8.0;
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{}" text-anchor="middle">c={c}</text>"#,
                gx + (gw - 16.0) / 2.0,
                top + phei + 14.0
            );
            let Some(floor) = find(cells, rtt, Variant::Floor, c, false) else {
                continue;
            };
            for (k, v) in variants.iter().enumerate() {
                let Some(cell) = warm
                    .iter()
                    .find(|x| x.variant == *v && x.rtt_ms == rtt && x.concurrency == c)
                else {
                    continue;
                };
                let (Some(ops), Some(Spread { med, min, max })) = (cell.ops(), cell.x_floor(floor))
                else {
                    continue;
                };
                let x = gx + bw * k as f64;
                let (y, base) = (y_of(med), y_of(0.0));
                let _ = writeln!(
                    s,
                    r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{} c={c}: {:.0} ops/s ({:.0}-{:.0}), {med:.2}x the floor ({min:.2}-{max:.2})</title></rect>"#,
                    bw - 2.0,
                    base - y,
                    colour(*v),
                    v.name(),
                    ops.med,
                    ops.min,
                    ops.max
                );
                let xm = x + (bw - 2.0) / 2.0;
                let _ = writeln!(
                    s,
                    r##"<line x1="{xm:.1}" y1="{:.1}" x2="{xm:.1}" y2="{:.1}" stroke="#444"/>"##,
                    y_of(min),
                    y_of(max)
                );
            }
        }
        let ty = y_of(TARGET);
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{ty:.1}" x2="{}" y2="{ty:.1}" stroke="#C00" stroke-dasharray="4 3"/><text x="{}" y="{:.1}" fill="#C00" text-anchor="end">target {TARGET}x</text>"##,
            left + pwid,
            left + pwid - 4.0,
            ty - 4.0
        );
    }
    let ly = h - 40.0;
    for (i, v) in variants.iter().enumerate() {
        let x = 10.0 + 150.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{x}" y="{}" width="14" height="10" fill="{}"/><text x="{}" y="{}">{}</text>"#,
            ly - 5.0,
            colour(*v),
            x + 18.0,
            ly + 4.0,
            v.name()
        );
    }
    let _ = writeln!(
        s,
        r##"<text x="10" y="{}" fill="#555">y: ops/s as a share of the floor (raw reqwest, keep-alive) at the same RTT and concurrency; bars: median of the per-round ratios to the floor, whiskers: their range (capped at {ymax}x)</text>"##,
        h - 14.0
    );
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_empty_run_still_draws_a_valid_frame() {
        let s = super::svg(&[], &[20, 50], "t");
        assert!(s.starts_with("<svg") && s.ends_with("</svg>\n"));
        assert!(s.contains("RTT 20 ms") && s.contains("RTT 50 ms"));
        assert!(!s.contains("<title>"), "no bars without cells");
    }
}
