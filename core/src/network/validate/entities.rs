//! Materials, countries, nodes (suppliers, sites, depots, demand), routes and scenarios: ids, numbers
//! and references, and the indexed [`Network`] they become.

use super::*;

impl Validator {
    pub(super) fn check(&mut self, m: &Model) -> Option<Network> {
        // Materials and countries.
        let mut material_by_id = HashMap::new();
        let mut seen = HashSet::new();
        for (i, mat) in m.materials.iter().enumerate() {
            self.id(format!("materials[{i}].id"), &mat.id, &mut seen, "material");
            self.nonneg(
                format!("materials[{i}].unit_price"),
                &mat.id,
                mat.unit_price,
            );
            material_by_id.entry(mat.id.clone()).or_insert(i);
        }
        let mut seen = HashSet::new();
        for (i, c) in m.countries.iter().enumerate() {
            self.id(
                format!("countries[{i}].code"),
                &c.code,
                &mut seen,
                "country",
            );
        }
        let countries: HashSet<&str> = m.countries.iter().map(|c| c.code.as_str()).collect();
        let material_ok = |id: &str| material_by_id.contains_key(id);

        // Nodes: ids unique across every kind, since routes and scenarios name them.
        let mut node_by_id: HashMap<String, NodeRef> = HashMap::new();
        let mut seen = HashSet::new();
        for (i, s) in m.suppliers.iter().enumerate() {
            let p = format!("suppliers[{i}]");
            self.id(format!("{p}.id"), &s.id, &mut seen, "node");
            node_by_id
                .entry(s.id.clone())
                .or_insert(NodeRef::Supplier(i));
            self.location(&p, s, &countries);
            if !material_ok(&s.material) {
                self.push(
                    format!("{p}.material"),
                    Some(&s.id),
                    format!("unknown material `{}`", s.material),
                );
            }
            self.nonneg(format!("{p}.capacity"), &s.id, s.capacity);
            self.nonneg(format!("{p}.unit_cost"), &s.id, s.unit_cost);
            if let Some(c) = s.protection_cost {
                self.nonneg(format!("{p}.protection_cost"), &s.id, c);
            }
        }
        for (i, s) in m.sites.iter().enumerate() {
            let p = format!("sites[{i}]");
            self.id(format!("{p}.id"), &s.id, &mut seen, "node");
            node_by_id.entry(s.id.clone()).or_insert(NodeRef::Site(i));
            self.location(&p, s, &countries);
            if let Some(input) = &s.input {
                if !material_ok(input) {
                    self.push(
                        format!("{p}.input"),
                        Some(&s.id),
                        format!("unknown material `{input}`"),
                    );
                }
                if input == &s.output {
                    self.push(
                        format!("{p}.input"),
                        Some(&s.id),
                        "input and output must differ".to_string(),
                    );
                }
            }
            if !material_ok(&s.output) {
                self.push(
                    format!("{p}.output"),
                    Some(&s.id),
                    format!("unknown material `{}`", s.output),
                );
            }
            if !(s.yield_ > 0.0 && s.yield_ <= 1.0) {
                self.push(
                    format!("{p}.yield"),
                    Some(&s.id),
                    format!("must be within (0, 1], got {}", num(s.yield_)),
                );
            }
            self.positive(format!("{p}.module_capacity"), &s.id, s.module_capacity);
            if s.max_modules == 0 {
                self.push(
                    format!("{p}.max_modules"),
                    Some(&s.id),
                    "must be >= 1, got 0".to_string(),
                );
            }
            if s.existing_modules > s.max_modules {
                self.push(
                    format!("{p}.existing_modules"),
                    Some(&s.id),
                    format!(
                        "must be <= max_modules ({}), got {}",
                        s.max_modules, s.existing_modules
                    ),
                );
            }
            self.nonneg(format!("{p}.open_cost"), &s.id, s.open_cost);
            self.nonneg(format!("{p}.module_cost"), &s.id, s.module_cost);
            self.nonneg(format!("{p}.unit_cost"), &s.id, s.unit_cost);
            if let Some(c) = s.protection_cost {
                self.nonneg(format!("{p}.protection_cost"), &s.id, c);
            }
            let mut hseen = HashSet::new();
            for (k, h) in s.hardening.iter().enumerate() {
                let hp = format!("{p}.hardening[{k}]");
                self.id(format!("{hp}.id"), &h.id, &mut hseen, "hardening option");
                self.nonneg(format!("{hp}.cost"), &s.id, h.cost);
                self.share(format!("{hp}.restored"), Some(&s.id), h.restored);
            }
        }
        for (i, d) in m.depots.iter().enumerate() {
            let p = format!("depots[{i}]");
            self.id(format!("{p}.id"), &d.id, &mut seen, "node");
            node_by_id.entry(d.id.clone()).or_insert(NodeRef::Depot(i));
            self.location(&p, d, &countries);
            self.nonneg(format!("{p}.capacity"), &d.id, d.capacity);
            self.nonneg(format!("{p}.open_cost"), &d.id, d.open_cost);
            self.nonneg(format!("{p}.holding_cost"), &d.id, d.holding_cost);
            if let Some(c) = d.protection_cost {
                self.nonneg(format!("{p}.protection_cost"), &d.id, c);
            }
            let mut held = 0.0;
            for (mat, t) in &d.existing_stock {
                if !material_ok(mat) {
                    self.push(
                        format!("{p}.existing_stock.{mat}"),
                        Some(&d.id),
                        format!("unknown material `{mat}`"),
                    );
                }
                self.nonneg(format!("{p}.existing_stock.{mat}"), &d.id, *t);
                held += t;
            }
            if held > d.capacity {
                self.push(
                    format!("{p}.existing_stock"),
                    Some(&d.id),
                    format!(
                        "existing stock {} t exceeds the capacity {} t",
                        num(held),
                        num(d.capacity)
                    ),
                );
            }
        }
        let mut demand_penalty = Vec::with_capacity(m.demand.len());
        let mut priority_penalty = HashMap::new();
        for (key, pen) in &m.shortfall_penalty_by_priority {
            let path = format!("shortfall_penalty_by_priority.{key}");
            match key.parse::<u32>() {
                Ok(p) => {
                    priority_penalty.insert(p, *pen);
                }
                Err(_) => self.push(
                    path.clone(),
                    None,
                    format!("key must be a priority (a whole number), got `{key}`"),
                ),
            }
            if !(pen.is_finite() && *pen >= 0.0) {
                self.push(
                    path,
                    None,
                    format!("must be a finite number >= 0, got {}", num(*pen)),
                );
            }
        }
        for (i, d) in m.demand.iter().enumerate() {
            let p = format!("demand[{i}]");
            self.id(format!("{p}.id"), &d.id, &mut seen, "node");
            node_by_id.entry(d.id.clone()).or_insert(NodeRef::Demand(i));
            self.location(&p, d, &countries);
            if !material_ok(&d.material) {
                self.push(
                    format!("{p}.material"),
                    Some(&d.id),
                    format!("unknown material `{}`", d.material),
                );
            }
            self.nonneg(format!("{p}.demand"), &d.id, d.demand);
            if let Some(pen) = d.shortfall_penalty {
                self.nonneg(format!("{p}.shortfall_penalty"), &d.id, pen);
            }
            demand_penalty.push(
                d.shortfall_penalty
                    .or_else(|| priority_penalty.get(&d.priority).copied()),
            );
        }

        // Routes: resolved ends, a carried material that both ends agree on.
        let n_routes = m.routes.len();
        let mut route_material = Vec::with_capacity(n_routes);
        let mut route_from = Vec::with_capacity(n_routes);
        let mut route_to = Vec::with_capacity(n_routes);
        let mut route_key = Vec::with_capacity(n_routes);
        let mut route_index = Vec::with_capacity(n_routes);
        let mut depot_materials: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); m.depots.len()];
        let mut seen_routes = HashSet::new();
        let mut chokepoints = HashSet::new();
        for (i, r) in m.routes.iter().enumerate() {
            let p = format!("routes[{i}]");
            let key = r.key();
            self.id(format!("{p}.id"), &key, &mut seen_routes, "route");
            if node_by_id.contains_key(&key) {
                self.push(
                    format!("{p}.id"),
                    Some(&key),
                    format!("route id `{key}` is also a node id"),
                );
            }
            self.nonneg(format!("{p}.unit_cost"), &key, r.unit_cost);
            if let Some(c) = r.protection_cost {
                self.nonneg(format!("{p}.protection_cost"), &key, c);
            }
            if let Some(c) = r.capacity {
                self.nonneg(format!("{p}.capacity"), &key, c);
            }
            if let Some(dk) = r.distance_km {
                self.nonneg(format!("{p}.distance_km"), &key, dk);
            }
            chokepoints.extend(r.chokepoints.iter().cloned());
            let from = node_by_id.get(&r.from).copied();
            let to = node_by_id.get(&r.to).copied();
            if from.is_none() {
                self.push(
                    format!("{p}.from"),
                    Some(&key),
                    format!("unknown node `{}`", r.from),
                );
            }
            if to.is_none() {
                self.push(
                    format!("{p}.to"),
                    Some(&key),
                    format!("unknown node `{}`", r.to),
                );
            }
            let (Some(from), Some(to)) = (from, to) else {
                continue;
            };
            if r.from == r.to {
                self.push(
                    format!("{p}.to"),
                    Some(&key),
                    "a route must join two different nodes".to_string(),
                );
            }
            // What the end node takes in.
            let wants = match to {
                NodeRef::Site(s) => match &m.sites[s].input {
                    Some(inp) => Some(inp.as_str()),
                    None => {
                        self.push(
                            format!("{p}.to"),
                            Some(&key),
                            format!(
                                "site `{}` has no input material, so no route can lead to it",
                                r.to
                            ),
                        );
                        continue;
                    }
                },
                NodeRef::Demand(d) => Some(m.demand[d].material.as_str()),
                NodeRef::Supplier(_) | NodeRef::Depot(_) => {
                    self.push(
                        format!("{p}.to"),
                        Some(&key),
                        format!(
                            "`{}` is a supplier or depot; routes lead to sites and demand nodes",
                            r.to
                        ),
                    );
                    continue;
                }
            };
            // What the start node puts out.
            let gives = match from {
                NodeRef::Supplier(s) => Some(m.suppliers[s].material.as_str()),
                NodeRef::Site(s) => Some(m.sites[s].output.as_str()),
                NodeRef::Depot(_) => wants,
                NodeRef::Demand(_) => {
                    self.push(
                        format!("{p}.from"),
                        Some(&key),
                        format!(
                            "`{}` is a demand node; routes leave suppliers, sites and depots",
                            r.from
                        ),
                    );
                    continue;
                }
            };
            if gives != wants {
                self.push(
                    format!("{p}.to"),
                    Some(&key),
                    format!(
                        "`{}` puts out `{}` but `{}` takes `{}`",
                        r.from,
                        gives.unwrap_or("?"),
                        r.to,
                        wants.unwrap_or("?")
                    ),
                );
                continue;
            }
            let Some(mat) = gives.and_then(|g| material_by_id.get(g).copied()) else {
                continue; // unknown material, already reported on the node
            };
            if let NodeRef::Depot(l) = from {
                depot_materials[l].insert(mat);
            }
            route_material.push(mat);
            route_from.push(from);
            route_to.push(to);
            route_key.push(key);
            route_index.push(i);
        }
        for (l, d) in m.depots.iter().enumerate() {
            for mat in d.existing_stock.keys() {
                if let Some(k) = material_by_id.get(mat) {
                    depot_materials[l].insert(*k);
                }
            }
        }

        // Scenarios.
        let route_keys: HashSet<&str> = route_key.iter().map(String::as_str).collect();
        let mut seen = HashSet::new();
        let mut total_probability = 0.0;
        for (i, s) in m.scenarios.iter().enumerate() {
            let p = format!("scenarios[{i}]");
            self.id(format!("{p}.id"), &s.id, &mut seen, "scenario");
            if s.id == "base" {
                self.push(
                    format!("{p}.id"),
                    Some(&s.id),
                    "`base` is reserved for the no-disruption scenario".to_string(),
                );
            }
            self.share(format!("{p}.probability"), Some(&s.id), s.probability);
            if s.probability.is_finite() {
                total_probability += s.probability;
            }
            for (target, a) in &s.availability {
                let ap = format!("{p}.availability.{target}");
                self.share(ap.clone(), Some(&s.id), *a);
                match node_by_id.get(target) {
                    Some(NodeRef::Demand(_)) => self.push(
                        ap,
                        Some(&s.id),
                        format!("`{target}` is a demand node; only suppliers, sites, depots and routes can be disrupted"),
                    ),
                    Some(_) => {}
                    None if route_keys.contains(target.as_str()) => {}
                    None => self.push(ap, Some(&s.id), format!("unknown node or route `{target}`")),
                }
            }
            for (k, c) in s.closed_chokepoints.iter().enumerate() {
                if !chokepoints.contains(c) {
                    self.push(
                        format!("{p}.closed_chokepoints[{k}]"),
                        Some(&s.id),
                        format!("no route passes the chokepoint `{c}`"),
                    );
                }
            }
            for (k, c) in s.embargoes.iter().enumerate() {
                if !countries.contains(c.as_str()) {
                    self.push(
                        format!("{p}.embargoes[{k}]"),
                        Some(&s.id),
                        format!("unknown country `{c}`"),
                    );
                }
            }
        }
        if total_probability > 1.0 + 1e-9 {
            self.push(
                "scenarios",
                None,
                format!(
                    "probabilities sum to {}, more than 1",
                    num(total_probability)
                ),
            );
        }

        // Partial availability on a route without capacity would change nothing (unlimited
        // times 0.6 is unlimited): say so rather than ignore it.
        for (i, s) in m.scenarios.iter().enumerate() {
            for (target, a) in &s.availability {
                if *a > 0.0 && *a < 1.0 {
                    if let Some(r) = route_keys
                        .contains(target.as_str())
                        .then(|| m.routes.iter().find(|r| &r.key() == target))
                        .flatten()
                    {
                        if r.capacity.is_none() {
                            self.push(
                                format!("scenarios[{i}].availability.{target}"),
                                Some(&s.id),
                                format!("route `{target}` has no capacity, so availability {} would change nothing; give the route a capacity or use 0", num(*a)),
                            );
                        }
                    }
                }
            }
            for (k, h) in s.hazards.iter().enumerate() {
                if !m.hazards.iter().any(|x| &x.id == h) {
                    self.push(
                        format!("scenarios[{i}].hazards[{k}]"),
                        Some(&s.id),
                        format!("unknown hazard `{h}`"),
                    );
                }
            }
        }
        self.hazards(m, &node_by_id, &route_keys, &countries, &chokepoints);
        for (i, s) in m.sites.iter().enumerate() {
            for (k, h) in s.hardening.iter().enumerate() {
                for (j, hz) in h.hazards.iter().enumerate() {
                    if !m.hazards.iter().any(|x| &x.id == hz) {
                        self.push(
                            format!("sites[{i}].hardening[{k}].hazards[{j}]"),
                            Some(&s.id),
                            format!("unknown hazard `{hz}`"),
                        );
                    }
                }
            }
        }
        self.policies(m, &countries);
        let (depot_party, demand_party) = self.parties(m, &countries, &material_by_id);
        self.reachability(m, &route_from, &route_to, &route_material, &material_by_id);

        for (i, d) in m.demand.iter().enumerate() {
            if d.single_source
                && !route_from.iter().zip(&route_to).any(
                    |(f, t)| matches!((f, t), (NodeRef::Site(_), NodeRef::Demand(k)) if *k == i),
                )
            {
                self.push(
                    format!("demand[{i}].single_source"),
                    Some(&d.id),
                    "single-source demand needs at least one route from a site".to_string(),
                );
            }
        }

        if !self.problems.is_empty() {
            return None;
        }
        let mut routes_out: HashMap<NodeRef, Vec<usize>> = HashMap::new();
        let mut routes_in: HashMap<NodeRef, Vec<usize>> = HashMap::new();
        for (e, (f, t)) in route_from.iter().zip(&route_to).enumerate() {
            routes_out.entry(*f).or_default().push(e);
            routes_in.entry(*t).or_default().push(e);
        }
        Some(Network {
            model: Model::default(),
            routes_out,
            routes_in,
            node_by_id,
            material_by_id,
            route_material,
            route_from,
            route_to,
            route_by_key: route_key
                .iter()
                .enumerate()
                .map(|(e, k)| (k.clone(), e))
                .collect(),
            route_key,
            route_index,
            demand_penalty,
            depot_materials: depot_materials
                .into_iter()
                .map(|s| s.into_iter().collect())
                .collect(),
            depot_party,
            demand_party,
        })
    }
}
