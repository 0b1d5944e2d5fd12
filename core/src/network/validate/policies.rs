//! Policies: dispersion limits, budget, risk, survivability and fairness, each against what the
//! model can give it.

use super::*;

impl Validator {
    pub(super) fn policies(&mut self, m: &Model, countries: &HashSet<&str>) {
        let p = &m.policies;
        for (k, mat) in p.materials.iter().enumerate() {
            if !m.sites.iter().any(|s| &s.output == mat) {
                self.push(
                    format!("policies.materials[{k}]"),
                    None,
                    format!("no site produces `{mat}`"),
                );
            }
        }
        if let Some(sv) = &p.survivability {
            if !(1..=3).contains(&sv.k) {
                self.push(
                    "policies.survivability.k",
                    None,
                    format!("must be 1, 2 or 3, got {}", sv.k),
                );
            }
            self.share("policies.survivability.fraction".into(), None, sv.fraction);
            for (k, t) in sv.targets.iter().enumerate() {
                if !["sites", "suppliers", "depots", "routes"].contains(&t.as_str()) {
                    self.push(
                        format!("policies.survivability.targets[{k}]"),
                        None,
                        format!("must be one of sites, suppliers, depots, routes; got `{t}`"),
                    );
                }
            }
        }
        if let Some(r) = &m.risk {
            if !(r.beta >= 0.0 && r.beta < 1.0) {
                self.push(
                    "risk.beta",
                    None,
                    format!("must be within [0, 1), got {}", num(r.beta)),
                );
            }
            self.nonneg("risk.weight".into(), "", r.weight);
            if let Some(l) = r.limit {
                self.nonneg("risk.limit".into(), "", l);
            }
        }
        if let Some(x) = p.site_share {
            self.share("policies.site_share".into(), None, x);
        }
        if let Some(cs) = &p.country_share {
            self.share("policies.country_share.cap".into(), None, cs.cap);
            for (code, x) in &cs.by_country {
                let path = format!("policies.country_share.by_country.{code}");
                self.share(path.clone(), Some(code), *x);
                if !countries.contains(code.as_str()) {
                    self.push(path, Some(code), format!("unknown country `{code}`"));
                }
            }
        }
        if let Some(x) = p.trusted_share {
            self.share("policies.trusted_share".into(), None, x);
        }
        if let Some(os) = &p.open_sites {
            if let (Some(lo), Some(hi)) = (os.min, os.max) {
                if lo > hi {
                    self.push(
                        "policies.open_sites.min",
                        None,
                        format!("must be <= max ({hi}), got {lo}"),
                    );
                }
            }
        }
        if let Some(d) = p.min_separation_km {
            self.nonneg("policies.min_separation_km".into(), "", d);
            for (i, s) in m.sites.iter().enumerate() {
                if s.coordinates().is_none() {
                    self.push(
                        format!("sites[{i}].lat"),
                        Some(&s.id),
                        "lat and lon are needed by policies.min_separation_km".to_string(),
                    );
                }
            }
        }
        if let Some(b) = p.budget {
            self.nonneg("policies.budget".into(), "", b);
        }
    }
}
