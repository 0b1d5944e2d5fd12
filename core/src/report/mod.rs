//! Reports for a person (what a planner reads first), one file per kind of result: a solve here,
//! evaluations, cost shares, worst cases, sweeps and frontiers beside it; [`csv`] for the tables.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::result::SolveResult;
use crate::solver::Status;

pub mod csv;
mod evaluation;
mod share;
mod sweep;
mod worst_case;

pub use evaluation::{render_evaluation, render_saa};
pub use share::render_share;
pub use sweep::{render_frontier, render_sweep};
pub use worst_case::{render_fortification, render_robust, render_worst_case};

fn money(x: f64, currency: &str) -> String {
    let abs = x.abs();
    let (v, unit) = if abs >= 1e9 {
        (x / 1e9, "bn")
    } else if abs >= 1e6 {
        (x / 1e6, "m")
    } else if abs >= 1e3 {
        (x / 1e3, "k")
    } else {
        (x, "")
    };
    format!("{currency} {v:.2}{unit}")
}

/// Renders a solve result for a person: status, sites by country, flows, shortfall, policies.
pub fn render(r: &SolveResult) -> String {
    let mut s = String::new();
    let cur = &r.currency;
    let _ = writeln!(s, "status      {}", r.status.as_str());
    if let Some(obj) = r.objective {
        let _ = writeln!(s, "objective   {obj:.3} ({}/yr expected)", money(obj, cur));
    }
    if let Some(b) = r.best_bound {
        let _ = writeln!(s, "best bound  {b:.3}");
    }
    if let Some(g) = r.mip_gap {
        let _ = writeln!(s, "gap         {:.4}%", 100.0 * g);
    }
    let z = &r.model_size;
    let _ = writeln!(
        s,
        "runtime     {:.3} s solve, {:.3} s build; {} rows x {} columns, {} nonzeros, {} integer",
        r.runtime_s, r.build_s, z.rows, z.columns, z.nonzeros, z.integer_columns
    );
    match &r.decomposition {
        Some(d) => {
            let _ = writeln!(
                s,
                "method      benders: {} scenarios ({} distinct LPs, {} cut groups); {} LP + {} integer iterations, {} cuts; {:.3} s master, {:.3} s scenario LPs",
                d.scenarios,
                d.distinct_scenarios,
                d.cut_groups,
                d.lp_iterations,
                d.integer_iterations,
                d.cuts,
                d.master_s,
                d.subproblems_s
            );
        }
        None => {
            let _ = writeln!(s, "method      {} (one MIP)", r.method.as_str());
        }
    }
    if let Some(d) = &r.diagnosis {
        let _ = writeln!(s, "\nwhy infeasible (elastic re-solve):");
        if d.violations.is_empty() {
            let _ = writeln!(
                s,
                "  no policy constraint or hard demand is to blame: check capacities and routes"
            );
        }
        for v in &d.violations {
            let _ = writeln!(s, "  - {}", v.message);
        }
    }
    if !r.has_solution {
        if r.status == Status::TimeLimit {
            let _ = writeln!(s, "\nno plan found within the time limit");
        }
        return s;
    }
    if let Some(c) = &r.costs {
        let _ = writeln!(s, "\ncost per year");
        let _ = writeln!(s, "  investment          {}", money(c.investment, cur));
        let _ = writeln!(s, "  stockpile           {}", money(c.stockpile, cur));
        let _ = writeln!(
            s,
            "  operating (exp.)    {}",
            money(c.expected_operating, cur)
        );
        let _ = writeln!(
            s,
            "  shortfall (exp.)    {}",
            money(c.expected_shortfall_penalty, cur)
        );
    }

    let open: Vec<_> = r.sites.iter().filter(|x| x.open).collect();
    let _ = writeln!(s, "\nsites open: {} of {}", open.len(), r.sites.len());
    let mut by_country: BTreeMap<&str, Vec<_>> = BTreeMap::new();
    for site in &open {
        by_country
            .entry(site.country.as_str())
            .or_default()
            .push(*site);
    }
    for (country, sites) in &by_country {
        let cap: f64 = sites.iter().map(|x| x.capacity).sum();
        let _ = writeln!(s, "  {country}: {} site(s), {cap:.1} t/yr", sites.len());
        for site in sites.iter().take(20) {
            let name = if site.name.is_empty() {
                &site.id
            } else {
                &site.name
            };
            let _ = writeln!(
                s,
                "    {:<28} {:<14} {:>3} modules ({} new)  {:>10.1} t/yr capacity  {:>10.1} t/yr used",
                truncate(name, 28),
                truncate(&site.output, 14),
                site.modules,
                site.new_modules,
                site.capacity,
                site.base_output
            );
        }
        if sites.len() > 20 {
            let _ = writeln!(s, "    ... and {} more", sites.len() - 20);
        }
    }
    let stocked: Vec<_> = r.depots.iter().filter(|d| d.open).collect();
    if !stocked.is_empty() {
        let _ = writeln!(s, "\nstockpiles");
        for d in stocked {
            let items: Vec<String> = d
                .stock
                .iter()
                .filter(|(_, t)| **t > 0.0)
                .map(|(m, t)| format!("{m} {t:.1} t"))
                .collect();
            let _ = writeln!(
                s,
                "  {} ({}): {}",
                d.id,
                d.country,
                if items.is_empty() {
                    "empty".into()
                } else {
                    items.join(", ")
                }
            );
        }
    }
    let total_flow: f64 = r.flows.iter().map(|f| f.base).sum();
    let _ = writeln!(
        s,
        "\nflows: {} routes used in the base scenario, {total_flow:.1} t/yr moved",
        r.flows.iter().filter(|f| f.base > 0.0).count()
    );
    let mut top: Vec<_> = r.flows.iter().filter(|f| f.base > 0.0).collect();
    top.sort_by(|a, b| b.base.total_cmp(&a.base));
    for f in top.iter().take(10) {
        let _ = writeln!(
            s,
            "  {:<40} {:<14} {:>10.1} t/yr",
            truncate(&format!("{} -> {}", f.from, f.to), 40),
            truncate(&f.material, 14),
            f.base
        );
    }
    if r.scenarios.len() > 1 || r.scenarios.iter().any(|x| x.shortfall_t > 0.0) {
        let _ = writeln!(s, "\nscenarios ({}):", r.scenarios.len());
        let mut worst: Vec<_> = r.scenarios.iter().collect();
        worst.sort_by(|a, b| b.shortfall_t.total_cmp(&a.shortfall_t));
        for sc in worst.iter().take(10) {
            let _ = writeln!(
                s,
                "  {:<28} p={:<8.4} shortfall {:>10.1} t/yr ({:>5.1}% of demand)  operating {}",
                truncate(&sc.id, 28),
                sc.probability,
                sc.shortfall_t,
                100.0 * sc.shortfall_share,
                money(sc.operating_cost, cur)
            );
        }
    }
    if let Some(risk) = &r.risk {
        let unit = match risk.on {
            crate::model::RiskOn::Cost => money(risk.value, cur),
            crate::model::RiskOn::Shortfall => format!("{:.1} t/yr", risk.value),
        };
        let _ = writeln!(
            s,
            "\nrisk: {:?} (beta {}) of {:?} = {unit}",
            risk.measure, risk.beta, risk.on
        );
    }
    if let Some(sv) = &r.survivability {
        let _ = writeln!(
            s,
            "\nN-{} survivability: {} contingencies, {} in the model ({}, {} solve(s))",
            sv.k, sv.contingencies, sv.in_model, sv.method, sv.iterations
        );
        if !sv.not_survived.is_empty() {
            let _ = writeln!(
                s,
                "  NOT SURVIVED by this plan (the loop stopped before it could add them): {}",
                sv.not_survived.join(", ")
            );
        }
    }
    if let Some(plan) = &r.plan {
        let hardened: Vec<String> = plan
            .sites
            .iter()
            .filter_map(|(id, d)| d.hardening.as_ref().map(|h| format!("{id}: {h}")))
            .collect();
        if !hardened.is_empty() {
            let _ = writeln!(s, "\nhardening: {}", hardened.join(", "));
        }
    }
    if !r.policies.is_empty() {
        let _ = writeln!(s, "\npolicies (value vs limit, slack):");
        for p in &r.policies {
            let mat = p
                .material
                .as_deref()
                .map(|m| format!(" [{m}]"))
                .unwrap_or_default();
            let pct = matches!(
                p.family.as_str(),
                "site_share" | "country_share" | "trusted_share"
            );
            let fmt = |x: f64| {
                if pct {
                    format!("{:.1}%", 100.0 * x)
                } else {
                    format!("{x:.1}")
                }
            };
            let _ = writeln!(
                s,
                "  {:<18} {:<18}{} {} {} {}  slack {}{}",
                p.family,
                truncate(&p.subject, 18),
                mat,
                fmt(p.value),
                p.sense,
                fmt(p.limit),
                fmt(p.slack),
                if p.binding { "  (binding)" } else { "" }
            );
        }
    }
    s
}

fn truncate(x: &str, n: usize) -> String {
    if x.chars().count() <= n {
        x.to_string()
    } else {
        let mut t: String = x.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}
