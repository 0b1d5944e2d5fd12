//! Reachability: every demand can be reached from some supplier or depot over the routes.

use super::*;

impl Validator {
    /// Demand that no chain of routes from a source can reach, and materials nobody supplies.
    pub(super) fn reachability(
        &mut self,
        m: &Model,
        from: &[NodeRef],
        to: &[NodeRef],
        material: &[usize],
        material_by_id: &HashMap<String, usize>,
    ) {
        // Which materials anybody puts into the network.
        let mut produced = vec![false; m.materials.len()];
        for s in &m.suppliers {
            if let Some(k) = material_by_id.get(&s.material) {
                produced[*k] = true;
            }
        }
        for s in &m.sites {
            if let Some(k) = material_by_id.get(&s.output) {
                produced[*k] = true;
            }
        }
        for (e, f) in from.iter().enumerate() {
            if matches!(f, NodeRef::Depot(_)) {
                produced[material[e]] = true;
            }
        }
        for (i, s) in m.sites.iter().enumerate() {
            if let Some(k) = s.input.as_ref().and_then(|x| material_by_id.get(x)) {
                if !produced[*k] {
                    self.push(
                        format!("sites[{i}].input"),
                        Some(&s.id),
                        format!(
                            "no supplier, site or depot provides `{}`",
                            m.materials[*k].id
                        ),
                    );
                }
            }
        }
        for (i, d) in m.demand.iter().enumerate() {
            if let Some(k) = material_by_id.get(&d.material) {
                if !produced[*k] {
                    self.push(
                        format!("demand[{i}].material"),
                        Some(&d.id),
                        format!("no supplier, site or depot provides `{}`", d.material),
                    );
                }
            }
        }
        // Forward reachability from the sources, to a fixed point.
        let mut site_live: Vec<bool> = m.sites.iter().map(|s| s.input.is_none()).collect();
        let mut demand_live = vec![false; m.demand.len()];
        loop {
            let mut changed = false;
            for (f, t) in from.iter().zip(to) {
                let live = match f {
                    NodeRef::Supplier(_) | NodeRef::Depot(_) => true,
                    NodeRef::Site(s) => site_live[*s],
                    NodeRef::Demand(_) => false,
                };
                if !live {
                    continue;
                }
                match t {
                    NodeRef::Site(s) if !site_live[*s] => {
                        site_live[*s] = true;
                        changed = true;
                    }
                    NodeRef::Demand(d) if !demand_live[*d] => {
                        demand_live[*d] = true;
                        changed = true;
                    }
                    _ => {}
                }
            }
            if !changed {
                break;
            }
        }
        for (i, d) in m.demand.iter().enumerate() {
            if !demand_live[i] && d.demand > 0.0 && !self.allow_unreached {
                self.push(
                    format!("demand[{i}]"),
                    Some(&d.id),
                    "no chain of routes from a supplier, site or depot reaches this demand"
                        .to_string(),
                );
            }
        }
    }
}
