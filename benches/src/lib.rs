//! Seeded synthetic instance generator for the benchmarks: a size parameter (sites x demand nodes
//! x scenarios) and a seed give the same model on every platform (ChaCha).

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use stockade::model::{
    Country, DemandNode, Hazard, HazardKind, HazardScope, Material, Model, Route, Scenario, Site,
};

/// Size of a synthetic instance.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    /// Candidate sites.
    pub sites: usize,
    /// Demand nodes.
    pub demand: usize,
    /// Failure scenarios (each site fails with probability 5 % in each, independently).
    pub scenarios: usize,
}

/// A single-material siting model: sites and demand scattered over a 40 x 80 degree box in eight
/// countries, every site linked to every demand node at a cost proportional to distance.
pub fn synthetic(size: Size, seed: u64) -> Model {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let countries: Vec<Country> = (0..8)
        .map(|i| Country {
            code: format!("K{i}"),
            name: String::new(),
            trusted: i % 3 != 0,
            party: None,
        })
        .collect();
    let mut model = Model {
        name: format!(
            "synthetic-{}x{}x{}-{seed}",
            size.sites, size.demand, size.scenarios
        ),
        materials: vec![Material {
            id: "oxide".into(),
            name: "oxide".into(),
            unit_price: 50.0,
            critical: true,
        }],
        countries,
        ..Model::default()
    };
    let point = |rng: &mut ChaCha8Rng| (rng.gen_range(10.0..50.0), rng.gen_range(-40.0..40.0));
    let mut total_demand = 0.0;
    for j in 0..size.demand {
        let (lat, lon) = point(&mut rng);
        let demand = rng.gen_range(5.0..100.0f64).round();
        total_demand += demand;
        model.demand.push(DemandNode {
            id: format!("d{j}"),
            name: String::new(),
            country: format!("K{}", rng.gen_range(0..8)),
            region: String::new(),
            lat: Some(lat),
            lon: Some(lon),
            material: "oxide".into(),
            demand,
            priority: 1 + (j % 2) as u32,
            shortfall_penalty: Some(if j % 2 == 0 { 5_000.0 } else { 1_000.0 }),
            single_source: false,
            party: None,
        });
    }
    let module_capacity = (total_demand / size.sites as f64 * 2.0).ceil().max(1.0);
    for i in 0..size.sites {
        let (lat, lon) = point(&mut rng);
        model.sites.push(Site {
            id: format!("s{i}"),
            name: String::new(),
            country: format!("K{}", rng.gen_range(0..8)),
            region: String::new(),
            lat: Some(lat),
            lon: Some(lon),
            input: None,
            output: "oxide".into(),
            yield_: 1.0,
            module_capacity,
            existing_modules: 0,
            max_modules: 3,
            open_cost: rng.gen_range(5_000.0..20_000.0f64).round(),
            module_cost: rng.gen_range(1_000.0..5_000.0f64).round(),
            unit_cost: rng.gen_range(1.0..10.0f64).round(),
            hardening: Vec::new(),
            protection_cost: None,
        });
    }
    for i in 0..size.sites {
        for j in 0..size.demand {
            let (s, d) = (&model.sites[i], &model.demand[j]);
            let km = stockade::model::haversine_km(
                s.lat.unwrap_or(0.0),
                s.lon.unwrap_or(0.0),
                d.lat.unwrap_or(0.0),
                d.lon.unwrap_or(0.0),
            );
            model.routes.push(Route {
                id: None,
                from: format!("s{i}"),
                to: format!("d{j}"),
                unit_cost: (km * 0.05).round(),
                capacity: None,
                distance_km: None,
                chokepoints: Vec::new(),
                protection_cost: None,
            });
        }
    }
    // Hazards for sampling: a political event per country (an export embargo that leaves 30 %
    // for half a year) and an outage per site.
    for c in 0..8 {
        model.hazards.push(Hazard {
            id: format!("embargo-K{c}"),
            kind: HazardKind::Political,
            scope: HazardScope::Embargo {
                country: format!("K{c}"),
            },
            probability: 0.03,
            availability: 0.3,
            duration: 0.5,
            description: String::new(),
        });
    }
    for i in 0..size.sites {
        model.hazards.push(Hazard {
            id: format!("outage-s{i}"),
            kind: HazardKind::Other,
            scope: HazardScope::Node {
                id: format!("s{i}"),
            },
            probability: 0.05,
            availability: 0.0,
            duration: 1.0,
            description: String::new(),
        });
    }
    for w in 0..size.scenarios {
        let availability: BTreeMap<String, f64> = (0..size.sites)
            .filter(|_| rng.gen_bool(0.05))
            .map(|i| (format!("s{i}"), 0.0))
            .collect();
        model.scenarios.push(Scenario {
            id: format!("w{w}"),
            description: String::new(),
            probability: 1.0 / size.scenarios as f64,
            availability,
            closed_chokepoints: Vec::new(),
            embargoes: Vec::new(),
            hazards: Vec::new(),
        });
    }
    model
}
