//! Reports of sweeps and frontiers: one line per variant or level.

use super::*;

/// The human report of a sweep: one line per variant.
pub fn render_sweep(r: &crate::analysis::sweep::SweepReport) -> String {
    let mut out = String::new();
    let solved = r.variants.iter().filter(|v| v.has_solution).count();
    let _ = writeln!(
        out,
        "{} variants, {} with a plan, {:.2} s on {} worker(s){}",
        r.variants.len(),
        solved,
        r.runtime_s,
        r.workers,
        if r.warm_start {
            ", each warm-started from its nearest solved neighbour"
        } else {
            ""
        }
    );
    let mut header = String::new();
    for p in &r.parameters {
        let _ = write!(header, "{:>14} ", truncate(&p.path, 14));
    }
    let _ = writeln!(
        out,
        "\n{header}{:<11} {:>16} {:>12} {:>12} {:>8} {:>8}",
        "status", "cost/yr", "E[short] t", "CVaR95 t", "top cty", "share"
    );
    for v in &r.variants {
        let mut line = String::new();
        for p in &r.parameters {
            let x = v.values.get(&p.path).copied().unwrap_or(f64::NAN);
            let _ = write!(line, "{x:>14} ");
        }
        let cost = v
            .objective
            .map_or_else(|| "-".to_string(), |c| money(c, &r.currency));
        match &v.kpis {
            Some(k) => {
                let _ = writeln!(
                    out,
                    "{line}{:<11} {:>16} {:>12.1} {:>12.1} {:>8} {:>7.1}%",
                    v.status.as_str(),
                    cost,
                    k.expected_shortfall_t,
                    k.cvar95_shortfall_t,
                    k.largest_country,
                    100.0 * k.largest_country_share
                );
            }
            None => {
                let _ = writeln!(out, "{line}{:<11} {:>16}", v.status.as_str(), cost);
            }
        }
    }
    out
}

/// The human report of a cost-resilience frontier.
pub fn render_frontier(r: &crate::analysis::frontier::FrontierReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "cost-resilience frontier: {} ({}{}), {} levels, {:.2} s",
        r.resilience.as_str(),
        r.unit,
        if r.resilience == crate::analysis::frontier::Resilience::CvarShortfall {
            format!(", beta {}", r.beta)
        } else {
            String::new()
        },
        r.points.len(),
        r.runtime_s
    );
    if let (Some(a), Some(b)) = (r.cost_optimal_level, r.best_level) {
        let _ = writeln!(
            out,
            "cost-optimal plan at {a:.2}, best achievable {b:.2} {}",
            r.unit
        );
    }
    for note in &r.notes {
        let _ = writeln!(out, "note: {note}");
    }
    let _ = writeln!(
        out,
        "\n{:>12} {:<11} {:>16} {:>16} {:>12}  note",
        "level", "status", "cost/yr", "extra cost/yr", "resilience"
    );
    let base = r.points.iter().find_map(|p| p.cost);
    for (i, p) in r.points.iter().enumerate() {
        let cost = p
            .cost
            .map_or_else(|| "-".to_string(), |c| money(c, &r.currency));
        let extra = p
            .cost
            .zip(base)
            .map_or_else(|| "-".to_string(), |(c, b)| money(c - b, &r.currency));
        let res = p
            .resilience
            .map_or_else(|| "-".to_string(), |x| format!("{x:.2}"));
        let note = if r.knee == Some(i) {
            "knee"
        } else if p.dominated {
            "dominated"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{:>12.2} {:<11} {:>16} {:>16} {:>12}  {note}",
            p.level,
            p.status.as_str(),
            cost,
            extra,
            res
        );
    }
    out
}
