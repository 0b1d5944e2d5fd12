//! Reports of a fixed plan's evaluation and of the SAA bounds.

use super::*;

/// Renders a plan evaluation for a person.
pub fn render_evaluation(e: &crate::analysis::evaluate::Evaluation, currency: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "scenarios          {} ({:.0} per second, {:.2} s)",
        e.scenarios, e.scenarios_per_second, e.runtime_s
    );
    if !e.failed.is_empty() {
        let _ = writeln!(
            s,
            "failed             {} scenario LPs did not solve: {}",
            e.failed.len(),
            e.failed.join(", ")
        );
    }
    let _ = writeln!(
        s,
        "expected cost      {}/yr (first stage {})",
        money(e.expected_cost, currency),
        money(e.first_stage_cost, currency)
    );
    let t = &e.total;
    let _ = writeln!(
        s,
        "shortfall          expected {:.1} t/yr ({:.2}% of demand), CVaR95 {:.1} t/yr ({:.2}%)",
        t.expected_shortfall_t,
        100.0 * t.expected_shortfall_share,
        t.cvar95_shortfall_t,
        if t.demand_t > 0.0 {
            100.0 * t.cvar95_shortfall_t / t.demand_t
        } else {
            0.0
        }
    );
    let _ = writeln!(s, "P(any shortfall)   {:.4}", t.probability_of_shortfall);
    let _ = writeln!(s, "availability       {:.4}", t.availability);
    for (title, groups) in [
        ("material", &e.by_material),
        ("priority", &e.by_priority),
        ("country", &e.by_country),
    ] {
        let _ = writeln!(s, "\nby {title}:");
        for g in groups {
            let _ = writeln!(
                s,
                "  {:<16} demand {:>10.1}  expected shortfall {:>9.1} t ({:>5.2}%)  CVaR95 {:>9.1} t  P(short) {:.4}  availability {:.4}",
                truncate(&g.key, 16),
                g.demand_t,
                g.expected_shortfall_t,
                100.0 * g.expected_shortfall_share,
                g.cvar95_shortfall_t,
                g.probability_of_shortfall,
                g.availability
            );
        }
    }
    if !e.concentration_hhi.is_empty() {
        let _ = writeln!(s, "\nconcentration of capacity by country (HHI, 0-10000):");
        for (m, h) in &e.concentration_hhi {
            let _ = writeln!(s, "  {m:<16} {h:.0}");
        }
    }
    let _ = writeln!(s, "\nworst scenarios:");
    for w in &e.worst {
        let broke: Vec<String> = w
            .disrupted
            .iter()
            .take(6)
            .map(|(id, a)| format!("{id} ({:.0}%)", 100.0 * a))
            .collect();
        let _ = writeln!(
            s,
            "  {:<10} shortfall {:>9.1} t  cost {}  hazards [{}]  {}",
            truncate(&w.id, 10),
            w.shortfall_t,
            money(w.cost, currency),
            w.hazards.join(", "),
            broke.join(", ")
        );
    }
    s
}

/// Renders the SAA bounds for a person.
pub fn render_saa(r: &crate::analysis::saa::SaaReport, currency: &str) -> String {
    let mut s = String::new();
    let d = &r.design;
    let _ = writeln!(
        s,
        "SAA (Mak, Morton and Wood): {} replications of {} scenarios, {} for the upper bound",
        d.replications, d.sample, d.evaluation_sample
    );
    for (name, e) in [
        ("lower bound", &r.lower_bound),
        ("upper bound", &r.upper_bound),
        ("gap", &r.gap),
    ] {
        let _ = writeln!(
            s,
            "  {name:<12} {}  (95% CI {} .. {})",
            money(e.mean, currency),
            money(e.low, currency),
            money(e.high, currency)
        );
    }
    let rel = if r.upper_bound.mean.abs() > 0.0 {
        r.gap.high / r.upper_bound.mean.abs()
    } else {
        0.0
    };
    let _ = writeln!(
        s,
        "  the candidate plan (replication {}) is within {:.3}% of optimal with 95% confidence",
        r.candidate + 1,
        100.0 * rel
    );
    s
}
