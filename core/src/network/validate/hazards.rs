//! Hazards (sampled scenarios): the elements they strike and their probabilities.

use super::*;

impl Validator {
    pub(super) fn hazards(
        &mut self,
        m: &Model,
        nodes: &HashMap<String, NodeRef>,
        routes: &HashSet<&str>,
        countries: &HashSet<&str>,
        chokepoints: &HashSet<String>,
    ) {
        use crate::model::HazardScope;
        let mut seen = HashSet::new();
        for (i, h) in m.hazards.iter().enumerate() {
            let p = format!("hazards[{i}]");
            self.id(format!("{p}.id"), &h.id, &mut seen, "hazard");
            self.share(format!("{p}.probability"), Some(&h.id), h.probability);
            self.share(format!("{p}.availability"), Some(&h.id), h.availability);
            self.share(format!("{p}.duration"), Some(&h.id), h.duration);
            match &h.scope {
                HazardScope::Node { id } => match nodes.get(id) {
                    Some(NodeRef::Demand(_)) => self.push(
                        format!("{p}.scope.id"),
                        Some(&h.id),
                        format!("`{id}` is a demand node; hazards hit suppliers, sites, depots and routes"),
                    ),
                    Some(_) => {}
                    None if routes.contains(id.as_str()) => {}
                    None => self.push(format!("{p}.scope.id"), Some(&h.id), format!("unknown node or route `{id}`")),
                },
                HazardScope::Region { region, country } => {
                    if let Some(c) = country {
                        if !countries.contains(c.as_str()) {
                            self.push(format!("{p}.scope.country"), Some(&h.id), format!("unknown country `{c}`"));
                        }
                    }
                    let any = m.suppliers.iter().map(|n| &n.region)
                        .chain(m.sites.iter().map(|n| &n.region))
                        .chain(m.depots.iter().map(|n| &n.region))
                        .any(|r| r == region);
                    if !any {
                        self.push(format!("{p}.scope.region"), Some(&h.id), format!("no supplier, site or depot is in region `{region}`"));
                    }
                }
                HazardScope::Country { country } | HazardScope::Embargo { country } => {
                    if !countries.contains(country.as_str()) {
                        self.push(format!("{p}.scope.country"), Some(&h.id), format!("unknown country `{country}`"));
                    }
                }
                HazardScope::Chokepoint { name } => {
                    if !chokepoints.contains(name) {
                        self.push(format!("{p}.scope.name"), Some(&h.id), format!("no route passes the chokepoint `{name}`"));
                    }
                }
            }
        }
    }
}
