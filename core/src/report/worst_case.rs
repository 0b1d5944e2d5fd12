//! Reports of the worst-case analyses: a plan's worst loss and single points of failure, the
//! robust plan and the fortification, with their bounding loops.

use super::*;

/// The ranked single points of failure as a table.
pub(super) fn render_spof(
    s: &mut String,
    spof: &[crate::analysis::interdiction::SinglePointOfFailure],
    cur: &str,
    base: f64,
) {
    if spof.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\nsingle points of failure (each lost alone; intact second stage {}/yr):",
        money(base, cur)
    );
    let _ = writeln!(
        s,
        "  {:>4}  {:<9} {:<28} {:>16} {:>16} {:>12} {:>12}",
        "rank", "kind", "element", "cost/yr", "increase/yr", "short t/yr", "prio-1 t/yr"
    );
    // Elements whose loss changes nothing are counted, not listed (the JSON has them all).
    let matters = |p: &&crate::analysis::interdiction::SinglePointOfFailure| {
        p.increase > 1e-9 * base.abs().max(1.0) || p.shortfall_t > 1e-6
    };
    for p in spof.iter().filter(matters) {
        let _ = writeln!(
            s,
            "  {:>4}  {:<9} {:<28} {:>16} {:>16} {:>12.1} {:>12.1}",
            p.rank,
            p.element.kind,
            p.element.id,
            money(p.cost, cur),
            money(p.increase, cur),
            p.shortfall_t,
            p.priority1_shortfall_t
        );
    }
    let idle = spof.iter().filter(|p| !matters(p)).count();
    if idle > 0 {
        let _ = writeln!(
            s,
            "  ({idle} more elements: losing any one alone costs nothing extra)"
        );
    }
}

/// The worst case of a plan: the worst loss set, its cost and shortfall, the ranked single
/// points of failure.
pub fn render_worst_case(w: &crate::analysis::interdiction::WorstCase) -> String {
    let mut s = String::new();
    let cur = &w.currency;
    let span = if w.duration >= 1.0 {
        "for the year".to_string()
    } else {
        format!("for {:.0}% of the year", 100.0 * w.duration)
    };
    let _ = writeln!(
        s,
        "worst loss of up to {} of {} elements ({}) {span}: {}",
        w.k,
        w.candidates,
        w.targets.join(", "),
        w.status.as_str()
    );
    let _ = writeln!(
        s,
        "  lost        {}",
        crate::analysis::interdiction::describe(&w.lost)
    );
    let _ = writeln!(
        s,
        "  cost        {}/yr second stage (intact {}/yr; first stage {}/yr)",
        money(w.cost, cur),
        money(w.base_cost, cur),
        money(w.first_stage_cost, cur)
    );
    if let (Some(b), Some(g)) = (w.bound, w.gap) {
        let _ = writeln!(s, "  bound       {} (gap {:.4}%)", money(b, cur), 100.0 * g);
    }
    let _ = writeln!(s, "  shortfall   {:.1} t/yr", w.shortfall_t);
    for d in &w.shortfall {
        let _ = writeln!(
            s,
            "    {:<24} priority {} {:>12.1} t/yr{}",
            d.demand,
            d.priority,
            d.shortfall_t,
            if d.hard { " (hard demand)" } else { "" }
        );
    }
    for n in &w.notes {
        let _ = writeln!(s, "  note: {n}");
    }
    let _ = writeln!(
        s,
        "  MIP         {} rows x {} columns, {} binary; {:.3} s (all solves {:.3} s)",
        w.model_size.rows,
        w.model_size.columns,
        w.model_size.integer_columns,
        w.mip_runtime_s,
        w.runtime_s
    );
    render_spof(&mut s, &w.single_points_of_failure, cur, w.base_cost);
    s
}

pub(super) fn render_iterations(
    s: &mut String,
    its: &[crate::analysis::robust::LoopIteration],
    cur: &str,
) {
    let _ = writeln!(s, "\niterations:");
    for it in its {
        let _ = writeln!(
            s,
            "  {}",
            crate::analysis::robust::describe_iteration(it, cur)
        );
    }
}

/// A robust (min-max) plan: bounds, gap, the plan's sites and its worst loss.
pub fn render_robust(r: &crate::analysis::robust::RobustResult) -> String {
    let mut s = String::new();
    let cur = &r.currency;
    let _ = writeln!(
        s,
        "robust siting against any loss of up to {} ({}): {}",
        r.k,
        r.targets.join(", "),
        r.status.as_str()
    );
    if let Some(m) = &r.message {
        let _ = writeln!(s, "  {m}");
    }
    if let Some(u) = r.upper_bound {
        let _ = writeln!(
            s,
            "  min-max cost  {}/yr (first stage + worst loss)",
            money(u, cur)
        );
    }
    if let Some(l) = r.lower_bound {
        let _ = writeln!(s, "  lower bound   {}/yr", money(l, cur));
    }
    if let Some(g) = r.gap {
        let _ = writeln!(s, "  gap           {:.4}%", 100.0 * g);
    }
    if let Some(f) = r.first_stage_cost {
        let _ = writeln!(s, "  first stage   {}/yr", money(f, cur));
    }
    if let Some(plan) = &r.plan {
        let _ = writeln!(s, "  open sites:");
        for (id, d) in plan.sites.iter().filter(|(_, d)| d.open) {
            let _ = writeln!(s, "    {id:<24} {} modules", d.modules);
        }
        for (id, d) in plan.depots.iter().filter(|(_, d)| d.open) {
            let stock: Vec<String> = d
                .stock
                .iter()
                .filter(|(_, t)| **t > 0.0)
                .map(|(m, t)| format!("{m} {t:.1} t"))
                .collect();
            let _ = writeln!(s, "    depot {id:<18} {}", stock.join(", "));
        }
    }
    render_iterations(&mut s, &r.iterations, cur);
    if let Some(w) = &r.worst_case {
        let _ = writeln!(s);
        s.push_str(&render_worst_case(w));
    }
    s
}

/// Which elements to protect, and what the worst loss is with and without protection.
pub fn render_fortification(f: &crate::analysis::robust::Fortification) -> String {
    let mut s = String::new();
    let cur = &f.currency;
    let limit = match f.limit {
        crate::analysis::robust::ProtectionLimit::Count(q) => format!("at most {q} elements"),
        crate::analysis::robust::ProtectionLimit::Budget(b) => {
            format!("budget {}/yr", money(b, cur))
        }
    };
    let _ = writeln!(
        s,
        "fortification against any loss of up to {} ({}), {limit}: {}",
        f.k,
        f.targets.join(", "),
        f.status.as_str()
    );
    if let Some(m) = &f.message {
        let _ = writeln!(s, "  {m}");
    }
    let _ = writeln!(
        s,
        "  protect       {} ({} of {} protectable; {}/yr)",
        crate::analysis::interdiction::describe(&f.protected),
        f.protected.len(),
        f.protectable,
        money(f.protection_cost, cur)
    );
    let _ = writeln!(
        s,
        "  worst loss    {}/yr unprotected",
        money(f.unprotected_worst, cur)
    );
    if let Some(u) = f.upper_bound {
        let _ = writeln!(s, "                {}/yr protected", money(u, cur));
    }
    if let Some(l) = f.lower_bound {
        let _ = writeln!(s, "  lower bound   {}/yr", money(l, cur));
    }
    if let Some(g) = f.gap {
        let _ = writeln!(s, "  gap           {:.4}%", 100.0 * g);
    }
    for n in &f.notes {
        let _ = writeln!(s, "  note: {n}");
    }
    render_iterations(&mut s, &f.iterations, cur);
    if let Some(w) = &f.worst_case {
        let _ = writeln!(s);
        s.push_str(&render_worst_case(w));
    }
    s
}
