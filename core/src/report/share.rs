//! The cost-sharing report: a negotiator's briefing on the joint plan and each party's share.

use super::*;

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
