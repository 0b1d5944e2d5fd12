//! Parties of a joint stockpile: members, shares, who owns which depot and demand, and what
//! each may release to whom.

use super::*;

impl Validator {
    /// Parties, the agreement, and the party of every depot and demand node.
    pub(super) fn parties(
        &mut self,
        m: &Model,
        countries: &HashSet<&str>,
        material_by_id: &HashMap<String, usize>,
    ) -> (Vec<Option<usize>>, Vec<Option<usize>>) {
        let mut party_by_id: HashMap<&str, usize> = HashMap::new();
        let mut seen = HashSet::new();
        // Country code -> (party index, where it was claimed).
        let mut country_party: HashMap<&str, (usize, String)> = HashMap::new();
        for (i, p) in m.parties.iter().enumerate() {
            self.id(format!("parties[{i}].id"), &p.id, &mut seen, "party");
            party_by_id.entry(p.id.as_str()).or_insert(i);
            for (k, c) in p.countries.iter().enumerate() {
                let path = format!("parties[{i}].countries[{k}]");
                if !countries.contains(c.as_str()) {
                    self.push(
                        path,
                        Some(&p.id),
                        format!("unknown country `{c}` (not in `countries`)"),
                    );
                    continue;
                }
                match country_party.get(c.as_str()) {
                    Some((j, at)) if *j != i => {
                        let other = &m.parties[*j].id;
                        self.push(
                            path,
                            Some(&p.id),
                            format!("country `{c}` is already claimed by party `{other}` ({at})"),
                        );
                    }
                    Some(_) => {}
                    None => {
                        country_party.insert(c.as_str(), (i, path));
                    }
                }
            }
        }
        if m.parties.len() > MAX_PARTIES {
            self.push(
                "parties",
                None,
                format!(
                    "at most {MAX_PARTIES} parties (2^n - 1 coalitions are solved), got {}",
                    m.parties.len()
                ),
            );
        }
        for (i, c) in m.countries.iter().enumerate() {
            let Some(pid) = &c.party else { continue };
            let path = format!("countries[{i}].party");
            match party_by_id.get(pid.as_str()) {
                None => self.push(
                    path,
                    Some(&c.code),
                    format!("unknown party `{pid}` (not in `parties`)"),
                ),
                Some(j) => match country_party.get(c.code.as_str()) {
                    Some((k, at)) if k != j => {
                        let other = &m.parties[*k].id;
                        self.push(
                            path,
                            Some(&c.code),
                            format!("country `{}` names party `{pid}` but party `{other}` claims it ({at})", c.code),
                        );
                    }
                    Some(_) => {}
                    None => {
                        country_party.insert(c.code.as_str(), (*j, path));
                    }
                },
            }
        }
        let resolve = |this: &mut Self,
                       path: String,
                       id: &str,
                       own: &Option<String>,
                       country: &str|
         -> Option<usize> {
            if let Some(pid) = own {
                let found = party_by_id.get(pid.as_str()).copied();
                if found.is_none() {
                    this.push(
                        format!("{path}.party"),
                        Some(id),
                        format!("unknown party `{pid}` (not in `parties`)"),
                    );
                }
                return found;
            }
            let found = country_party.get(country).map(|(j, _)| *j);
            if found.is_none() && !m.parties.is_empty() {
                this.push(
                    format!("{path}.party"),
                    Some(id),
                    format!("belongs to no party: with `parties` listed every depot and demand node needs one (set `party`, or list its country `{country}` under a party)"),
                );
            }
            found
        };
        let depot_party: Vec<Option<usize>> = m
            .depots
            .iter()
            .enumerate()
            .map(|(i, d)| resolve(self, format!("depots[{i}]"), &d.id, &d.party, &d.country))
            .collect();
        let demand_party: Vec<Option<usize>> = m
            .demand
            .iter()
            .enumerate()
            .map(|(i, d)| resolve(self, format!("demand[{i}]"), &d.id, &d.party, &d.country))
            .collect();
        let Some(a) = &m.agreement else {
            return (depot_party, demand_party);
        };
        if m.parties.is_empty() {
            self.push(
                "agreement",
                None,
                "an agreement needs `parties` to bind".to_string(),
            );
        }
        let mut pairs = HashSet::new();
        for (i, al) in a.allowances.iter().enumerate() {
            let p = format!("agreement.allowances[{i}]");
            let entity = format!("{}->{}", al.from, al.to);
            for (field, pid) in [("from", &al.from), ("to", &al.to)] {
                if !party_by_id.contains_key(pid.as_str()) {
                    self.push(
                        format!("{p}.{field}"),
                        Some(&entity),
                        format!("unknown party `{pid}` (not in `parties`)"),
                    );
                }
            }
            if al.from == al.to {
                self.push(
                    format!("{p}.to"),
                    Some(&entity),
                    "a party always draws on its own depots; an allowance joins two different parties".to_string(),
                );
            }
            if let Some(mat) = &al.material {
                if !material_by_id.contains_key(mat) {
                    self.push(
                        format!("{p}.material"),
                        Some(&entity),
                        format!("unknown material `{mat}`"),
                    );
                }
            }
            if !pairs.insert((&al.from, &al.to, &al.material)) {
                self.push(
                    p.clone(),
                    Some(&entity),
                    "duplicate allowance for this pair and material".to_string(),
                );
            }
            match (al.max_tonnes, al.max_fraction) {
                (None, None) => self.push(
                    p.clone(),
                    Some(&entity),
                    "give max_tonnes, max_fraction or both".to_string(),
                ),
                (t, f) => {
                    if let Some(t) = t {
                        self.nonneg(format!("{p}.max_tonnes"), &entity, t);
                    }
                    if let Some(f) = f {
                        self.share(format!("{p}.max_fraction"), Some(&entity), f);
                    }
                }
            }
        }
        if let Some(f) = &a.fairness {
            if let Some(x) = f.max_shortfall_fraction {
                self.share("agreement.fairness.max_shortfall_fraction".into(), None, x);
            }
        }
        (depot_party, demand_party)
    }
}
