//! Dispersion and budget policies (DESIGN §3): each [`PolicyFamily`] with its rows, its value in
//! the domain's own unit and its slack. A new family is a variant here, its `add_*`, and its
//! validation in [`crate::network`].

use super::*;

/// A dispersion or budget policy family: the name its rows carry, its value under a plan
/// ([`SitingProblem::row_value`]) and how a limit of it reads in a diagnosis, in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PolicyFamily {
    /// A site's share of its material's capacity (at most).
    SiteShare,
    /// A country's share of a material's capacity (at most).
    CountryShare,
    /// Trusted countries' capacity as a share of the material's demand (at least).
    TrustedShare,
    /// Open sites (at least).
    OpenSitesMin,
    /// Open sites (at most).
    OpenSitesMax,
    /// Countries with an open site of the material (at least).
    MinCountries,
    /// Distance between two open sites (at least).
    MinSeparationKm,
    /// First-stage investment (at most).
    Budget,
}

impl PolicyFamily {
    /// The family's name in results, diagnoses and rows-by-family.
    pub(super) fn name(self) -> &'static str {
        match self {
            PolicyFamily::SiteShare => "site_share",
            PolicyFamily::CountryShare => "country_share",
            PolicyFamily::TrustedShare => "trusted_share",
            PolicyFamily::OpenSitesMin => "open_sites_min",
            PolicyFamily::OpenSitesMax => "open_sites_max",
            PolicyFamily::MinCountries => "min_countries",
            PolicyFamily::MinSeparationKm => "min_separation_km",
            PolicyFamily::Budget => "budget",
        }
    }

    /// A limit or achieved value in the family's unit: shares in percent, distances in km.
    pub(super) fn show(self, x: f64) -> String {
        match self {
            PolicyFamily::SiteShare | PolicyFamily::CountryShare | PolicyFamily::TrustedShare => {
                format!("{:.1}%", 100.0 * x)
            }
            PolicyFamily::MinSeparationKm => format!("{x:.0} km"),
            _ => format!("{x}"),
        }
    }

    /// What a row of the family constrains, in words: "country share CN (ndpr)".
    pub(super) fn label(self, subject: &str, on_material: &str) -> String {
        match self {
            PolicyFamily::MinSeparationKm => {
                format!("separation of {}", subject.replace('+', " and "))
            }
            _ => format!("{} {subject}{on_material}", self.name().replace('_', " ")),
        }
    }
}

impl<'a> SitingProblem<'a> {
    /// Adds a policy row; in elastic mode it gets a violation column weighted by `1/scale`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn policy_row(
        &mut self,
        family: PolicyFamily,
        subject: String,
        material: Option<usize>,
        sense: Sense,
        limit: f64,
        rhs: f64,
        mut terms: Vec<(Col, f64)>,
        scale: f64,
    ) -> Row {
        let fam = self.mip.family(family.name());
        let violation = self.elastic.then(|| {
            let col = self.mip.add_col(0.0, 0.0, f64::INFINITY, false);
            self.elastic_cost.push((col, 1.0 / scale.max(1e-9)));
            col
        });
        let (lo, hi, sign) = match sense {
            Sense::AtMost => (f64::NEG_INFINITY, rhs, -1.0),
            Sense::AtLeast => (rhs, f64::INFINITY, 1.0),
        };
        if let Some(v) = violation {
            terms.push((v, sign));
        }
        self.policy_rows.push(PolicyRow {
            family,
            subject,
            material,
            sense,
            limit,
            violation,
            pair: None,
        });
        self.mip.add_row(fam, lo, hi, terms)
    }

    /// Sites grouped by output material.
    pub(super) fn sites_by_material(&self) -> BTreeMap<usize, Vec<usize>> {
        let mut by: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        let only = &self.net.model.policies.materials;
        for (i, s) in self.net.model.sites.iter().enumerate() {
            if !only.is_empty() && !only.contains(&s.output) {
                continue;
            }
            if let Some(m) = self.net.material(&s.output) {
                by.entry(m).or_default().push(i);
            }
        }
        by
    }

    /// Scale for share rows of material m: its demand, else its largest possible capacity.
    pub(super) fn capacity_scale(&self, sites: &[usize], m: usize) -> f64 {
        let d = self.net.material_demand(m);
        if d > 0.0 {
            return d;
        }
        sites
            .iter()
            .map(|s| {
                let site = &self.net.model.sites[*s];
                site.module_capacity * f64::from(site.max_modules)
            })
            .sum::<f64>()
            .max(1.0)
    }

    /// capacity_s <= sigma * total capacity of the material, for every site.
    pub fn add_site_share(&mut self, sigma: f64) {
        for (m, sites) in self.sites_by_material() {
            let scale = self.capacity_scale(&sites, m);
            for &s in &sites {
                let mut terms: Vec<(Col, f64)> = sites
                    .iter()
                    .map(|t| {
                        let (col, mc) = self.capacity_term(*t);
                        (col, -sigma * mc)
                    })
                    .collect();
                terms.iter_mut().for_each(|(c, v)| {
                    if *c == self.modules[s] {
                        *v += self.net.model.sites[s].module_capacity;
                    }
                });
                let id = self.net.model.sites[s].id.clone();
                self.policy_row(
                    PolicyFamily::SiteShare,
                    id,
                    Some(m),
                    Sense::AtMost,
                    sigma,
                    0.0,
                    terms,
                    scale,
                );
            }
        }
    }

    /// capacity in a country <= cap * total capacity of the material, for every country.
    pub fn add_country_share(&mut self, cap: f64, by_country: &BTreeMap<String, f64>) {
        for (m, sites) in self.sites_by_material() {
            let scale = self.capacity_scale(&sites, m);
            let countries: BTreeSet<String> = sites
                .iter()
                .map(|s| self.net.model.sites[*s].country.clone())
                .collect();
            for c in countries {
                let sigma = by_country.get(&c).copied().unwrap_or(cap);
                let terms: Vec<(Col, f64)> = sites
                    .iter()
                    .map(|t| {
                        let (col, mc) = self.capacity_term(*t);
                        let inside = self.net.model.sites[*t].country == c;
                        (
                            col,
                            if inside {
                                (1.0 - sigma) * mc
                            } else {
                                -sigma * mc
                            },
                        )
                    })
                    .collect();
                self.policy_row(
                    PolicyFamily::CountryShare,
                    c,
                    Some(m),
                    Sense::AtMost,
                    sigma,
                    0.0,
                    terms,
                    scale,
                );
            }
        }
    }

    /// capacity in trusted countries >= tau * demand, for every material with demand.
    pub fn add_trusted_share(&mut self, tau: f64) {
        for (m, sites) in self.sites_by_material() {
            let demand = self.net.material_demand(m);
            if demand <= 0.0 {
                continue;
            }
            let terms: Vec<(Col, f64)> = sites
                .iter()
                .filter(|s| self.net.is_trusted(&self.net.model.sites[**s].country))
                .map(|s| self.capacity_term(*s))
                .collect();
            self.policy_row(
                PolicyFamily::TrustedShare,
                "trusted".into(),
                Some(m),
                Sense::AtLeast,
                tau,
                tau * demand,
                terms,
                demand,
            );
        }
    }

    /// min <= number of open sites <= max.
    pub fn add_open_sites(&mut self, min: Option<u32>, max: Option<u32>) {
        let terms: Vec<(Col, f64)> = self.open.iter().map(|c| (*c, 1.0)).collect();
        if let Some(lo) = min {
            let lo = f64::from(lo);
            self.policy_row(
                PolicyFamily::OpenSitesMin,
                "all".into(),
                None,
                Sense::AtLeast,
                lo,
                lo,
                terms.clone(),
                1.0,
            );
        }
        if let Some(hi) = max {
            let hi = f64::from(hi);
            self.policy_row(
                PolicyFamily::OpenSitesMax,
                "all".into(),
                None,
                Sense::AtMost,
                hi,
                hi,
                terms,
                1.0,
            );
        }
    }

    /// Open sites of each material in at least `count` countries. A country counts through a
    /// continuous cover variable `z_c <= min(1, open sites in c)`, exact because the open
    /// variables are integer.
    pub fn add_min_countries(&mut self, count: u32) {
        let fam = self.mip.family("country_cover");
        for (m, sites) in self.sites_by_material() {
            let mut by_country: BTreeMap<String, Vec<usize>> = BTreeMap::new();
            for s in sites {
                by_country
                    .entry(self.net.model.sites[s].country.clone())
                    .or_default()
                    .push(s);
            }
            let mut cover_terms = Vec::new();
            for members in by_country.values() {
                let z = self.mip.add_col(0.0, 0.0, 1.0, false);
                let mut terms: Vec<(Col, f64)> =
                    members.iter().map(|s| (self.open[*s], -1.0)).collect();
                terms.push((z, 1.0));
                self.mip.add_row(fam, f64::NEG_INFINITY, 0.0, terms);
                cover_terms.push((z, 1.0));
            }
            let c = f64::from(count);
            self.policy_row(
                PolicyFamily::MinCountries,
                "countries".into(),
                Some(m),
                Sense::AtLeast,
                c,
                c,
                cover_terms,
                1.0,
            );
        }
    }

    /// No two open sites closer than `km`: `open_a + open_b <= 1` for every such pair.
    pub fn add_separation(&mut self, km: f64) {
        let n = self.net.model.sites.len();
        for a in 0..n {
            for b in (a + 1)..n {
                let Some(dist) = self.net.site_distance_km(a, b) else {
                    continue;
                };
                if dist < km {
                    let subject = format!(
                        "{}+{}",
                        self.net.model.sites[a].id, self.net.model.sites[b].id
                    );
                    let terms = vec![(self.open[a], 1.0), (self.open[b], 1.0)];
                    self.policy_row(
                        PolicyFamily::MinSeparationKm,
                        subject,
                        None,
                        Sense::AtMost,
                        km,
                        1.0,
                        terms,
                        1.0,
                    );
                    if let Some(last) = self.policy_rows.last_mut() {
                        last.pair = Some((a, b));
                    }
                }
            }
        }
    }

    /// Investment (site opening, new modules, depot opening) <= budget.
    pub fn add_budget(&mut self, budget: f64) {
        let m = &self.net.model;
        let mut terms = Vec::new();
        let mut sunk = 0.0;
        for (i, s) in m.sites.iter().enumerate() {
            terms.push((self.open[i], s.open_cost));
            terms.push((self.modules[i], s.module_cost));
            sunk += s.module_cost * f64::from(s.existing_modules);
        }
        for (l, d) in m.depots.iter().enumerate() {
            terms.push((self.depot_open[l], d.open_cost));
        }
        for (i, s) in m.sites.iter().enumerate() {
            for (k, chosen, _) in &self.harden[i] {
                terms.push((*chosen, s.hardening[*k].cost));
            }
        }
        self.policy_row(
            PolicyFamily::Budget,
            "investment".into(),
            None,
            Sense::AtMost,
            budget,
            budget + sunk,
            terms,
            budget.max(1.0),
        );
    }

    /// The plan's value of one policy row in the domain's own unit (share, count, km, money).
    pub(super) fn row_value(
        &self,
        row: &PolicyRow,
        capacity: &[f64],
        open: &[bool],
        investment: f64,
    ) -> f64 {
        let net = self.net;
        let m = &net.model;
        let capacity_where = |keep: &dyn Fn(&crate::model::Site) -> bool| -> f64 {
            m.sites
                .iter()
                .zip(capacity)
                .filter(|(s, _)| net.material(&s.output) == row.material && keep(s))
                .map(|(_, c)| *c)
                .sum()
        };
        let total = || capacity_where(&|_| true);
        match row.family {
            PolicyFamily::SiteShare => share(capacity_where(&|s| s.id == row.subject), total()),
            PolicyFamily::CountryShare => {
                share(capacity_where(&|s| s.country == row.subject), total())
            }
            PolicyFamily::TrustedShare => share(
                capacity_where(&|s| net.is_trusted(&s.country)),
                row.material.map_or(0.0, |k| net.material_demand(k)),
            ),
            PolicyFamily::OpenSitesMin | PolicyFamily::OpenSitesMax => {
                open.iter().filter(|o| **o).count() as f64
            }
            PolicyFamily::MinCountries => m
                .sites
                .iter()
                .zip(open)
                .filter(|(s, o)| **o && net.material(&s.output) == row.material)
                .map(|(s, _)| s.country.as_str())
                .collect::<BTreeSet<&str>>()
                .len() as f64,
            PolicyFamily::MinSeparationKm => row
                .pair
                .and_then(|(a, b)| net.site_distance_km(a, b))
                .unwrap_or(f64::NAN),
            PolicyFamily::Budget => investment,
        }
    }

    /// Each policy constraint with its value and slack. Separation is summarised in one entry:
    /// the closest pair of open sites against the minimum distance.
    pub(super) fn policy_values(
        &self,
        capacity: &[f64],
        open: &[bool],
        investment: f64,
    ) -> Vec<PolicyResult> {
        let net = self.net;
        let m = &net.model;
        let mut out = Vec::new();
        for row in &self.policy_rows {
            if row.family == PolicyFamily::MinSeparationKm {
                continue;
            }
            let value = self.row_value(row, capacity, open, investment);
            let slack = match row.sense {
                Sense::AtMost => row.limit - value,
                Sense::AtLeast => value - row.limit,
            };
            let binding = slack.abs() < 1e-6 * row.limit.abs().max(1.0);
            out.push(PolicyResult {
                family: row.family.name().to_string(),
                subject: row.subject.clone(),
                material: row.material.map(|k| m.materials[k].id.clone()),
                sense: sense_str(row.sense).into(),
                limit: row.limit,
                value,
                slack: if binding { 0.0 } else { slack },
                binding,
            });
        }
        if let Some(km) = m.policies.min_separation_km {
            let mut closest = f64::INFINITY;
            for a in 0..m.sites.len() {
                for b in (a + 1)..m.sites.len() {
                    if open[a] && open[b] {
                        if let Some(d) = net.site_distance_km(a, b) {
                            closest = closest.min(d);
                        }
                    }
                }
            }
            if closest.is_finite() {
                out.push(PolicyResult {
                    family: PolicyFamily::MinSeparationKm.name().into(),
                    subject: "closest open pair".into(),
                    material: None,
                    sense: ">=".into(),
                    limit: km,
                    value: closest,
                    slack: closest - km,
                    binding: false,
                });
            }
        }
        out
    }
}

pub(super) fn sense_str(s: Sense) -> &'static str {
    match s {
        Sense::AtMost => "<=",
        Sense::AtLeast => ">=",
    }
}

pub(super) fn share(part: f64, total: f64) -> f64 {
    if total > 0.0 {
        part / total
    } else {
        0.0
    }
}
