//! The human-readable report of a solve: what a planner reads first.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::result::SolveResult;
use crate::solver::Status;

pub mod csv;

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

/// Renders the cost-sharing analysis as a negotiator's briefing: the joint plan, what each
/// party pays alone and under the agreement, the other divisions, stability and the gain.
pub fn render_share(r: &crate::analysis::share::ShareReport) -> String {
    use crate::analysis::share::Rule;
    use crate::model::Sharing;
    let mut s = String::new();
    let cur = &r.currency;
    let n = r.parties.len();
    let ids: Vec<&str> = r.parties.iter().map(|p| p.id.as_str()).collect();
    let title = if r.model.is_empty() {
        String::new()
    } else {
        format!(" -- {}", r.model)
    };
    let _ = writeln!(
        s,
        "JOINT STOCKPILE BRIEFING{title}\n{} parties: {}",
        n,
        r.parties
            .iter()
            .map(|p| if p.name.is_empty() {
                p.id.clone()
            } else {
                format!("{} ({})", p.id, p.name)
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    let sharing = match r.sharing {
        Sharing::Pooled => "pooled: any party's depot may serve any party's demand",
        Sharing::National => "national: each party draws on its own depots only",
    };
    let _ = writeln!(s, "agreement   {sharing}");
    for a in &r.allowances {
        let mut limits = Vec::new();
        if let Some(t) = a.max_tonnes {
            limits.push(format!("up to {t} t/yr"));
        }
        if let Some(f) = a.max_fraction {
            limits.push(format!("up to {:.0}% of {}'s stock", 100.0 * f, a.from));
        }
        let what = a.material.as_deref().unwrap_or("any material");
        let _ = writeln!(
            s,
            "            allowance: {} may draw on {}'s depots, {} ({what})",
            a.to,
            a.from,
            limits.join(" and ")
        );
    }
    if let Some(f) = &r.fairness {
        if let Some(b) = f.max_shortfall_fraction {
            let _ = writeln!(
                s,
                "            fairness: no party's expected shortfall above {:.1}% of its demand",
                100.0 * b
            );
        }
        if f.min_max {
            let _ = writeln!(
                s,
                "            fairness: the largest party shortfall as small as possible, then the cheapest plan"
            );
        }
    }

    let j = &r.joint;
    let _ = writeln!(s, "\n1. THE JOINT PLAN ({})", j.status.as_str());
    match j.cost {
        Some(c) => {
            let gap = j
                .mip_gap
                .filter(|g| *g > 1e-9)
                .map(|g| format!(" (within {:.2}% of optimal)", 100.0 * g))
                .unwrap_or_default();
            let _ = writeln!(s, "   expected cost        {}/yr{gap}", money(c, cur));
        }
        None => {
            let _ = writeln!(s, "   no joint plan: {}", j.result.solver_detail);
        }
    }
    if let Some(c) = &j.result.costs {
        let _ = writeln!(
            s,
            "   of which             stockpiles {}, operating {}, expected shortfall {}",
            money(c.stockpile, cur),
            money(c.expected_operating, cur),
            money(c.expected_shortfall_penalty, cur)
        );
    }
    if j.stock.is_empty() && j.cost.is_some() {
        let _ = writeln!(s, "   stock held           none");
    }
    for held in &j.stock {
        let (depot, owner) = (&held.depot, &held.party);
        let items: Vec<String> = held
            .stock
            .iter()
            .filter(|(_, t)| **t > 0.0)
            .map(|(m, t)| format!("{m} {t:.0} t"))
            .collect();
        let _ = writeln!(s, "   stock at {depot:<12} ({owner}) {}", items.join(", "));
    }
    if j.releases.is_empty() && j.cost.is_some() {
        let _ = writeln!(
            s,
            "   cross-party draws    none: each party's crises are met from its own depots"
        );
    }
    for rel in &j.releases {
        let _ = writeln!(
            s,
            "   {} draws on {}'s depots: {:.1} t/yr of {} in expectation",
            rel.to, rel.from, rel.expected_t, rel.material
        );
    }
    if let Some(l) = j.max_shortfall_fraction {
        let _ = writeln!(
            s,
            "   largest party shortfall (min-max)  {:.2}% of demand",
            100.0 * l
        );
    }

    let headline = r.rule.as_str();
    let _ = writeln!(
        s,
        "\n2. WHAT EACH PARTY PAYS (headline division: {headline})"
    );
    let _ = writeln!(
        s,
        "   {:<8} {:>12} {:>14} {:>14} {:>20} {:>22}",
        "party", "demand t/yr", "alone", "allocated", "saves", "exp. shortfall alone>joint"
    );
    let opt = |x: Option<f64>| x.map_or("-".to_string(), |v| money(v, cur));
    for p in &r.parties {
        let saves = match (p.savings, p.savings_share) {
            (Some(v), Some(f)) => format!("{} ({:.0}%)", money(v, cur), 100.0 * f),
            _ => "-".into(),
        };
        let pct = |x: Option<f64>| x.map_or("-".to_string(), |f| format!("{:.2}%", 100.0 * f));
        let _ = writeln!(
            s,
            "   {:<8} {:>12.1} {:>14} {:>14} {:>20} {:>22}",
            p.id,
            p.demand_t,
            opt(p.stand_alone),
            opt(p.allocated),
            saves,
            format!("{} > {}", pct(p.shortfall_alone), pct(p.shortfall_joint))
        );
    }
    for p in &r.parties {
        if let (Some(alone), Some(joint)) = (p.shortfall_alone, p.shortfall_joint) {
            if joint > alone + 1e-6 {
                let _ = writeln!(
                    s,
                    "   ! {} is short more in the joint plan ({:.2}% of its demand, {:.2}% alone): the deal pays it in money, not in security",
                    p.id,
                    100.0 * joint,
                    100.0 * alone
                );
            }
        }
        if p.savings.is_some_and(|v| v < 0.0) {
            let _ = writeln!(
                s,
                "   ! {} would pay more under this division than alone: it has reason to walk away",
                p.id
            );
        }
    }

    let _ = writeln!(s, "\n3. THE DIVISIONS SIDE BY SIDE");
    let mut header = format!("   {:<14}", "rule");
    for id in &ids {
        let _ = write!(header, " {:>14}", id);
    }
    let _ = writeln!(s, "{header}   stable?");
    for a in &r.allocations {
        let mut line = format!("   {:<14}", a.rule.as_str());
        for (i, c) in a.cost.iter().enumerate() {
            let cell = match &a.std_error {
                Some(se) => format!("{}±{:.0}", money(*c, ""), se[i]),
                None => money(*c, cur),
            };
            let _ = write!(line, " {:>14}", cell.trim());
        }
        let verdict = match (&a.objection, a.in_core) {
            (Some(o), _) => format!(
                "no: {{{}}} pays {} more than alone ({} vs {})",
                o.coalition.join(", "),
                money(o.charged - o.alone, cur),
                money(o.charged, cur),
                money(o.alone, cur)
            ),
            (None, Some(true)) => "yes: no coalition pays more than alone".into(),
            _ => "not every coalition checked".into(),
        };
        let marker = if a.rule == r.rule { " *" } else { "" };
        let _ = writeln!(s, "{line}   {verdict}{marker}");
    }
    if !r.allocations.iter().any(|a| a.rule == Rule::Avoided) {
        let _ = writeln!(s, "   (avoided: not defined, see notes)");
    }
    let stable: Vec<&str> = r
        .allocations
        .iter()
        .filter(|a| a.in_core == Some(true))
        .map(|a| a.rule.as_str())
        .collect();
    let headline_stable = r
        .allocations
        .iter()
        .any(|a| a.rule == r.rule && a.in_core == Some(true));
    if !headline_stable && !stable.is_empty() {
        let _ = writeln!(
            s,
            "   The headline division is not stable; {} {} (no group pays more than alone).",
            stable.join(" and "),
            if stable.len() == 1 { "is" } else { "are" }
        );
    }

    let _ = writeln!(s, "\n4. IS THERE A STABLE DEAL? (the core)");
    match &r.core {
        Some(c) if c.nonempty => {
            let _ = writeln!(
                s,
                "   Yes. Some division leaves every group of parties at least {} better off than going it alone (least-core surplus).",
                money(c.least_core_surplus, cur)
            );
        }
        Some(c) => {
            let _ = writeln!(
                s,
                "   No. Under any division some group of parties pays at least {} more than it would alone: the agreement needs side payments or a smaller membership.",
                money(-c.least_core_surplus, cur)
            );
        }
        None => {
            let _ = writeln!(s, "   Not checked (see notes).");
        }
    }
    if r.nucleolus_over_imputations == Some(true) {
        let _ = writeln!(
            s,
            "   The nucleolus is the division that makes the worst-off group as well off as possible, then the next."
        );
    }

    let _ = writeln!(s, "\n5. WHAT COOPERATION IS WORTH");
    if let (Some(g), Some(f)) = (r.cooperation_gain, r.cooperation_gain_share) {
        let alone: f64 = r.parties.iter().filter_map(|p| p.stand_alone).sum();
        let _ = writeln!(
            s,
            "   cooperation gain     {}/yr: {:.1}% of the {}/yr the parties would pay alone",
            money(g, cur),
            100.0 * f,
            money(alone, cur)
        );
    }
    if let (Some(o), Some(c)) = (&r.other_sharing, j.cost) {
        let mode = match o.sharing {
            Sharing::Pooled => "pooled",
            Sharing::National => "national",
        };
        match o.cost {
            Some(oc) => {
                let _ = writeln!(
                    s,
                    "   under {mode} sharing the joint plan would cost {}/yr ({}{})",
                    money(oc, cur),
                    if oc >= c { "+" } else { "-" },
                    money((oc - c).abs(), cur)
                );
            }
            None => {
                let _ = writeln!(s, "   under {mode} sharing: {}", o.status.as_str());
            }
        }
    }
    if !r.notes.is_empty() {
        let _ = writeln!(s, "\nNOTES");
        for note in &r.notes {
            let _ = writeln!(s, "   - {note}");
        }
    }
    let _ = writeln!(
        s,
        "\n{} coalition models solved in {:.1} s",
        r.coalitions.len(),
        r.runtime_s
    );
    s
}

/// The ranked single points of failure as a table.
fn render_spof(
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

fn render_iterations(s: &mut String, its: &[crate::analysis::robust::LoopIteration], cur: &str) {
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
