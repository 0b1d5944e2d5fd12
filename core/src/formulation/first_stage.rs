//! First stage: sites sized in modules, depots and their stock, single sourcing; a fixed plan's
//! bounds, and the plan read back from a solution.

use super::*;

impl<'a> SitingProblem<'a> {
    /// Open/modules for every site: `existing <= modules <= max * open`.
    pub(super) fn add_sites(&mut self) {
        let fam = self.mip.family("site_modules");
        for s in &self.net.model.sites {
            let existing = f64::from(s.existing_modules);
            let open_lb = if s.existing_modules > 0 { 1.0 } else { 0.0 };
            let open = self.mip.add_col(s.open_cost, open_lb, 1.0, true);
            let modules = self
                .mip
                .add_col(s.module_cost, existing, f64::from(s.max_modules), true);
            // Existing modules are sunk: only new ones cost.
            self.mip.offset -= s.module_cost * existing;
            self.mip.add_row(
                fam,
                f64::NEG_INFINITY,
                0.0,
                [(modules, 1.0), (open, -f64::from(s.max_modules))],
            );
            self.open.push(open);
            self.modules.push(modules);
        }
        // Hardening: at most one option per site; y = modules x chosen, linearised exactly
        // (modules integer, chosen binary): y <= max chosen, y <= modules,
        // y >= modules - max (1 - chosen).
        let fam_h = self.mip.family("hardening");
        for (i, s) in self.net.model.sites.iter().enumerate() {
            let max = f64::from(s.max_modules);
            let mut options = Vec::new();
            for (k, h) in s.hardening.iter().enumerate() {
                let chosen = self.mip.add_binary(h.cost);
                let y = self.mip.add_col(0.0, 0.0, max, false);
                let modules = self.modules[i];
                self.mip
                    .add_row(fam_h, f64::NEG_INFINITY, 0.0, [(y, 1.0), (chosen, -max)]);
                self.mip
                    .add_row(fam_h, f64::NEG_INFINITY, 0.0, [(y, 1.0), (modules, -1.0)]);
                self.mip.add_row(
                    fam_h,
                    -max,
                    f64::INFINITY,
                    [(y, 1.0), (modules, -1.0), (chosen, -max)],
                );
                options.push((k, chosen, y));
            }
            if options.len() > 1 {
                let terms: Vec<_> = options.iter().map(|(_, c, _)| (*c, 1.0)).collect();
                self.mip.add_row(fam_h, f64::NEG_INFINITY, 1.0, terms);
            }
            self.harden.push(options);
        }
    }

    /// Depot opening and stock: `sum_m stock <= capacity * open`, `stock >= existing`.
    pub(super) fn add_depots(&mut self) {
        let fam = self.mip.family("depot_capacity");
        for (l, d) in self.net.model.depots.iter().enumerate() {
            let held: f64 = d.existing_stock.values().sum();
            let open_lb = if held > 0.0 { 1.0 } else { 0.0 };
            let open = self.mip.add_col(d.open_cost, open_lb, 1.0, true);
            let mut cols = Vec::new();
            for &m in &self.net.depot_materials[l] {
                let existing = d
                    .existing_stock
                    .get(&self.net.model.materials[m].id)
                    .copied()
                    .unwrap_or(0.0);
                let col = self
                    .mip
                    .add_col(d.holding_cost, existing, d.capacity, false);
                cols.push((m, col));
            }
            let mut terms: Vec<(Col, f64)> = cols.iter().map(|(_, c)| (*c, 1.0)).collect();
            terms.push((open, -d.capacity));
            self.mip.add_row(fam, f64::NEG_INFINITY, 0.0, terms);
            self.depot_open.push(open);
            self.stock.push(cols);
        }
    }

    /// Single sourcing: each flagged demand node is assigned to exactly one open site.
    pub(super) fn add_single_source(&mut self) {
        let fam_one = self.mip.family("single_source_assign");
        let fam_open = self.mip.family("single_source_open");
        for (d, dn) in self.net.model.demand.iter().enumerate() {
            if !dn.single_source {
                continue;
            }
            let mut sites = BTreeSet::new();
            for (f, t) in self.net.route_from.iter().zip(&self.net.route_to) {
                if let (NodeRef::Site(s), NodeRef::Demand(k)) = (f, t) {
                    if *k == d {
                        sites.insert(*s);
                    }
                }
            }
            let mut terms = Vec::new();
            for s in sites {
                let z = self.mip.add_binary(0.0);
                self.mip.add_row(
                    fam_open,
                    f64::NEG_INFINITY,
                    0.0,
                    [(z, 1.0), (self.open[s], -1.0)],
                );
                self.assign.insert((s, d), z);
                terms.push((z, 1.0));
            }
            self.mip.add_row(fam_one, 1.0, 1.0, terms);
        }
    }

    /// Fixes the first stage to `plan` (bounds lb = ub), for evaluation. Every site and depot of
    /// the model must be named; unknown ids and impossible values are input errors.
    pub fn fix_plan(&mut self, plan: &Plan) -> Result<(), InputError> {
        let m = &self.net.model;
        let mut problems = Vec::new();
        let mut bad = |path: String, message: String| {
            problems.push(Problem {
                path,
                entity: None,
                message,
            })
        };
        for id in plan.sites.keys() {
            if !m.sites.iter().any(|s| &s.id == id) {
                bad(format!("plan.sites.{id}"), format!("unknown site `{id}`"));
            }
        }
        for id in plan.depots.keys() {
            if !m.depots.iter().any(|s| &s.id == id) {
                bad(format!("plan.depots.{id}"), format!("unknown depot `{id}`"));
            }
        }
        // A fixed column is a constant: it need not stay integer, so the problem becomes an LP.
        let fix = |mip: &mut SparseMip, c: Col, v: f64| {
            mip.col_lower[c.0] = v;
            mip.col_upper[c.0] = v;
            mip.col_integer[c.0] = false;
        };
        for (i, site) in m.sites.iter().enumerate() {
            let Some(d) = plan.sites.get(&site.id) else {
                bad(
                    format!("plan.sites.{}", site.id),
                    "missing: the plan must say whether every site is open".into(),
                );
                continue;
            };
            if d.modules < site.existing_modules
                || d.modules > site.max_modules
                || (!d.open && d.modules > 0)
            {
                bad(
                    format!("plan.sites.{}.modules", site.id),
                    format!(
                        "must be within [{}, {}] (0 when closed), got {}",
                        site.existing_modules, site.max_modules, d.modules
                    ),
                );
                continue;
            }
            fix(&mut self.mip, self.open[i], if d.open { 1.0 } else { 0.0 });
            fix(&mut self.mip, self.modules[i], f64::from(d.modules));
            if let Some(h) = &d.hardening {
                if !site.hardening.iter().any(|o| &o.id == h) {
                    bad(
                        format!("plan.sites.{}.hardening", site.id),
                        format!("unknown hardening option `{h}`"),
                    );
                }
            }
            for (k, chosen, y) in &self.harden[i] {
                let on = d.hardening.as_deref() == Some(site.hardening[*k].id.as_str());
                fix(&mut self.mip, *chosen, if on { 1.0 } else { 0.0 });
                fix(
                    &mut self.mip,
                    *y,
                    if on { f64::from(d.modules) } else { 0.0 },
                );
            }
        }
        for (l, depot) in m.depots.iter().enumerate() {
            let decision = plan.depots.get(&depot.id).cloned().unwrap_or_default();
            fix(
                &mut self.mip,
                self.depot_open[l],
                if decision.open { 1.0 } else { 0.0 },
            );
            for (mat, col) in &self.stock[l] {
                let id = &m.materials[*mat].id;
                let t = decision.stock.get(id).copied().unwrap_or(0.0);
                let lower = self.mip.col_lower[col.0];
                if !(t.is_finite() && t >= lower - 1e-9) {
                    bad(
                        format!("plan.depots.{}.stock.{id}", depot.id),
                        format!("must be at least the existing {lower} t, got {t}"),
                    );
                    continue;
                }
                fix(&mut self.mip, *col, t.max(lower));
            }
        }
        for ((s, d), z) in &self.assign {
            let on = plan.assignments.get(&m.demand[*d].id) == Some(&m.sites[*s].id);
            fix(&mut self.mip, *z, if on { 1.0 } else { 0.0 });
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(InputError { problems })
        }
    }

    /// The plan (first-stage decisions) in a solution vector.
    pub fn plan(&self, x: &[f64]) -> Plan {
        let m = &self.net.model;
        let first = self.first_stage(x);
        let mut plan = Plan::default();
        for (i, site) in m.sites.iter().enumerate() {
            let hardening = self.harden[i]
                .iter()
                .find(|(_, chosen, _)| x[chosen.0] > 0.5)
                .map(|(k, _, _)| site.hardening[*k].id.clone());
            plan.sites.insert(
                site.id.clone(),
                SiteDecision {
                    open: first.open[i],
                    modules: first.modules[i],
                    hardening,
                },
            );
        }
        for (l, depot) in m.depots.iter().enumerate() {
            let stock = self.stock[l]
                .iter()
                .map(|(mat, col)| (m.materials[*mat].id.clone(), clean(x[col.0])))
                .collect();
            plan.depots.insert(
                depot.id.clone(),
                DepotDecision {
                    open: first.depot_open[l],
                    stock,
                },
            );
        }
        for ((s, d), z) in &self.assign {
            if x[z.0] > 0.5 {
                plan.assignments
                    .insert(m.demand[*d].id.clone(), m.sites[*s].id.clone());
            }
        }
        plan
    }

    /// The first stage of `plan` as column values, for a MIP start: open, modules and hardening
    /// of every site, depots and their stock, single-source assignments. Sites and depots the plan
    /// does not name are left out (HiGHS completes them).
    pub fn start_values(&self, plan: &Plan) -> Vec<(usize, f64)> {
        let m = &self.net.model;
        let mut start = Vec::new();
        let on = |b: bool| if b { 1.0 } else { 0.0 };
        for (i, site) in m.sites.iter().enumerate() {
            let Some(d) = plan.sites.get(&site.id) else {
                continue;
            };
            start.push((self.open[i].0, on(d.open)));
            start.push((self.modules[i].0, f64::from(d.modules)));
            for (k, chosen, y) in &self.harden[i] {
                let picked = d.hardening.as_deref() == Some(site.hardening[*k].id.as_str());
                start.push((chosen.0, on(picked)));
                start.push((y.0, if picked { f64::from(d.modules) } else { 0.0 }));
            }
        }
        for (l, depot) in m.depots.iter().enumerate() {
            let Some(d) = plan.depots.get(&depot.id) else {
                continue;
            };
            start.push((self.depot_open[l].0, on(d.open)));
            for (mat, col) in &self.stock[l] {
                let t = d.stock.get(&m.materials[*mat].id).copied().unwrap_or(0.0);
                start.push((col.0, t));
            }
        }
        for ((s, d), z) in &self.assign {
            let picked = plan.assignments.get(&m.demand[*d].id) == Some(&m.sites[*s].id);
            start.push((z.0, on(picked)));
        }
        start
    }

    /// First-stage decisions read from a solution vector.
    pub(super) fn first_stage(&self, x: &[f64]) -> FirstStage {
        let m = &self.net.model;
        let modules: Vec<u32> = self
            .modules
            .iter()
            .map(|c| x[c.0].round().max(0.0) as u32)
            .collect();
        let open: Vec<bool> = self.open.iter().map(|c| x[c.0] > 0.5).collect();
        let capacity = m
            .sites
            .iter()
            .zip(&modules)
            .map(|(s, k)| s.module_capacity * f64::from(*k))
            .collect();
        let depot_open: Vec<bool> = self.depot_open.iter().map(|c| x[c.0] > 0.5).collect();
        let hardening: f64 = m
            .sites
            .iter()
            .enumerate()
            .flat_map(|(i, s)| {
                self.harden[i]
                    .iter()
                    .filter(|(_, chosen, _)| x[chosen.0] > 0.5)
                    .map(move |(k, _, _)| s.hardening[*k].cost)
            })
            .sum();
        let investment = m
            .sites
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (if open[i] { s.open_cost } else { 0.0 })
                    + s.module_cost * f64::from(modules[i].saturating_sub(s.existing_modules))
            })
            .sum::<f64>()
            + hardening
            + m.depots
                .iter()
                .zip(&depot_open)
                .map(|(d, o)| if *o { d.open_cost } else { 0.0 })
                .sum::<f64>();
        FirstStage {
            modules,
            open,
            capacity,
            depot_open,
            investment,
        }
    }
}

/// First-stage decisions of a solution.
#[derive(Debug, Clone)]
pub(super) struct FirstStage {
    pub(super) modules: Vec<u32>,
    pub(super) open: Vec<bool>,
    pub(super) capacity: Vec<f64>,
    pub(super) depot_open: Vec<bool>,
    /// Site opening, new modules and depot opening, currency/yr.
    pub(super) investment: f64,
}
