//! Importers for the public facility-location benchmark files (formats in
//! `shared/benchmarks/README.md`): each turns a file into an ordinary [`Model`], so the
//! benchmarks run through the same pipeline as every other model.
//!
//! All three formats are streams of whitespace-separated tokens; line layout carries no meaning.

use std::collections::BTreeMap;

use crate::error::InputError;
use crate::model::{Country, DemandNode, Material, Model, OpenSites, Route, Scenario, Site};

/// Reads whitespace-separated tokens, remembering the line of each for error messages.
struct Tokens<'a> {
    tokens: Vec<(usize, &'a str)>,
    next: usize,
    what: &'static str,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str, what: &'static str) -> Self {
        let tokens = text
            .lines()
            .enumerate()
            .flat_map(|(i, line)| line.split_whitespace().map(move |t| (i + 1, t)))
            .collect();
        Tokens {
            tokens,
            next: 0,
            what,
        }
    }

    fn error(&self, message: String) -> InputError {
        let line = self
            .tokens
            .get(self.next.saturating_sub(1))
            .map_or(0, |t| t.0);
        InputError::single(
            format!("{} line {line} (token {})", self.what, self.next),
            message,
        )
    }

    fn raw(&mut self, name: &str) -> Result<&'a str, InputError> {
        let tok = self.tokens.get(self.next).map(|t| t.1);
        self.next += 1;
        tok.ok_or_else(|| self.error(format!("file ends where {name} was expected")))
    }

    fn number(&mut self, name: &str) -> Result<f64, InputError> {
        let tok = self.raw(name)?;
        match tok.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(self.error(format!("{name} must be a number, got `{tok}`"))),
        }
    }

    fn count(&mut self, name: &str, max: usize) -> Result<usize, InputError> {
        let tok = self.raw(name)?;
        match tok.parse::<usize>() {
            Ok(v) if v <= max => Ok(v),
            Ok(v) => Err(self.error(format!(
                "{name} = {v} is larger than the {max} this importer accepts"
            ))),
            Err(_) => Err(self.error(format!("{name} must be a whole number, got `{tok}`"))),
        }
    }
}

/// Largest instance dimension accepted, so a malformed header cannot ask for absurd memory.
const MAX_DIM: usize = 100_000;

/// Most vertices of an OR-Library p-median file (its largest instance has 900).
pub const MAX_PMED_VERTICES: usize = 1_000;

fn base_model(name: &str) -> Model {
    Model {
        name: name.to_string(),
        materials: vec![Material {
            id: "goods".into(),
            name: "goods".into(),
            unit_price: 0.0,
            critical: false,
        }],
        countries: vec![Country {
            code: "XX".into(),
            name: "benchmark".into(),
            trusted: true,
            party: None,
        }],
        ..Model::default()
    }
}

fn facility(id: String, capacity: f64, open_cost: f64) -> Site {
    Site {
        id,
        name: String::new(),
        country: "XX".into(),
        region: String::new(),
        lat: None,
        lon: None,
        input: None,
        output: "goods".into(),
        yield_: 1.0,
        module_capacity: capacity,
        existing_modules: 0,
        max_modules: 1,
        open_cost,
        module_cost: 0.0,
        unit_cost: 0.0,
        hardening: Vec::new(),
        protection_cost: None,
    }
}

fn customer(id: String, demand: f64, single_source: bool) -> DemandNode {
    DemandNode {
        id,
        name: String::new(),
        country: "XX".into(),
        region: String::new(),
        lat: None,
        lon: None,
        material: "goods".into(),
        demand,
        priority: 1,
        shortfall_penalty: None,
        single_source,
        party: None,
    }
}

fn link(from: String, to: String, unit_cost: f64) -> Route {
    Route {
        id: None,
        from,
        to,
        unit_cost,
        capacity: None,
        distance_km: None,
        chokepoints: Vec::new(),
        protection_cost: None,
    }
}

/// Options of the OR-Library `cap` importer.
#[derive(Debug, Clone, Default)]
pub struct CapOptions {
    /// Capacity of every warehouse; required for capa/capb/capc, whose files say `capacity`.
    pub capacity: Option<f64>,
    /// Each customer served by exactly one warehouse.
    pub single_source: bool,
    /// Failure scenarios (stoch-cflp format: one equally likely scenario per line, listing the
    /// 0-based indices of the failed warehouses). Adds the shortfall penalty of that model.
    pub failures: Option<String>,
}

/// OR-Library capacitated warehouse location (`cap41` ... `capc`). `c_ij` is the cost of serving
/// all of customer j's demand from i, so the per-tonne route cost is `c_ij / d_j`.
pub fn orlib_cap(text: &str, name: &str, opts: &CapOptions) -> Result<Model, InputError> {
    let mut t = Tokens::new(text, "orlib-cap");
    let m = t.count("number of warehouses", MAX_DIM)?;
    let n = t.count("number of customers", MAX_DIM)?;
    let mut model = base_model(name);
    for i in 0..m {
        let cap_tok = t.raw("warehouse capacity")?;
        let cap = match (cap_tok.parse::<f64>(), opts.capacity) {
            (_, Some(c)) => c,
            (Ok(c), None) if c.is_finite() => c,
            _ => {
                return Err(t.error(format!(
                    "warehouse {} capacity is `{cap_tok}`: give one with --capacity",
                    i + 1
                )))
            }
        };
        let fixed = t.number("warehouse fixed cost")?;
        model
            .sites
            .push(facility(format!("w{}", i + 1), cap, fixed));
    }
    let mut max_unit = 0.0f64;
    for j in 0..n {
        let d = t.number("customer demand")?;
        model
            .demand
            .push(customer(format!("c{}", j + 1), d, opts.single_source));
        for i in 0..m {
            let c = t.number("allocation cost")?;
            let unit = if d > 0.0 { c / d } else { 0.0 };
            max_unit = max_unit.max(unit);
            model
                .routes
                .push(link(format!("w{}", i + 1), format!("c{}", j + 1), unit));
        }
    }
    if let Some(failures) = &opts.failures {
        // One scenario per line; an empty line is the scenario in which nothing failed (the
        // S = 1000 file ends with one), so no line is dropped.
        let lines: Vec<&str> = failures.lines().collect();
        if lines.is_empty() {
            return Err(InputError::single(
                "failures",
                "the failure file lists no scenario",
            ));
        }
        let p = 1.0 / lines.len() as f64;
        for (k, line) in lines.iter().enumerate() {
            let mut availability = BTreeMap::new();
            for tok in line.split_whitespace() {
                let i: usize = tok.parse().map_err(|_| {
                    InputError::single(
                        format!("failures line {}", k + 1),
                        format!("`{tok}` is not a warehouse index"),
                    )
                })?;
                if i >= m {
                    return Err(InputError::single(
                        format!("failures line {}", k + 1),
                        format!("warehouse index {i} is out of range (0..{m})"),
                    ));
                }
                availability.insert(format!("w{}", i + 1), 0.0);
            }
            model.scenarios.push(Scenario {
                id: format!("s{}", k + 1),
                description: String::new(),
                probability: p,
                availability,
                closed_chokepoints: Vec::new(),
                embargoes: Vec::new(),
                hazards: Vec::new(),
            });
        }
        // stoch-cflp's penalty: 10 x the largest per-unit allocation cost, per unit unserved.
        for d in &mut model.demand {
            d.shortfall_penalty = Some(10.0 * max_unit);
        }
    }
    expect_end(&t)?;
    Ok(model)
}

fn expect_end(t: &Tokens<'_>) -> Result<(), InputError> {
    if t.next < t.tokens.len() {
        return Err(InputError::single(
            format!("{} line {}", t.what, t.tokens[t.next].0),
            format!(
                "{} tokens left over after the data the header announces",
                t.tokens.len() - t.next
            ),
        ));
    }
    Ok(())
}

/// Holmberg, Rönnqvist & Yuan single-source CFLP (`p1` ... `p71`): facility-major cost rows.
pub fn holmberg(text: &str, name: &str) -> Result<Model, InputError> {
    let mut t = Tokens::new(text, "holmberg");
    let m = t.count("number of facilities", MAX_DIM)?;
    let n = t.count("number of customers", MAX_DIM)?;
    let mut model = base_model(name);
    for i in 0..m {
        let cap = t.number("facility capacity")?;
        let fixed = t.number("facility fixed cost")?;
        model
            .sites
            .push(facility(format!("f{}", i + 1), cap, fixed));
    }
    let mut demand = Vec::with_capacity(n);
    for j in 0..n {
        let d = t.number("customer demand")?;
        demand.push(d);
        model.demand.push(customer(format!("c{}", j + 1), d, true));
    }
    let mut cost = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            cost[j * m + i] = t.number("allocation cost")?;
        }
    }
    for j in 0..n {
        for i in 0..m {
            let unit = if demand[j] > 0.0 {
                cost[j * m + i] / demand[j]
            } else {
                0.0
            };
            model
                .routes
                .push(link(format!("f{}", i + 1), format!("c{}", j + 1), unit));
        }
    }
    expect_end(&t)?;
    Ok(model)
}

/// OR-Library p-median (`pmed1` ... `pmed40`): edges in order (a later line for the same pair
/// overwrites an earlier one), all-pairs shortest paths by Floyd-Warshall, every vertex a
/// customer of weight 1 and a candidate median, exactly p medians, no fixed costs.
pub fn orlib_pmed(text: &str, name: &str) -> Result<Model, InputError> {
    let mut t = Tokens::new(text, "orlib-pmed");
    // OR-Library's largest p-median instance (pmed40) has 900 vertices; a few header bytes may
    // not declare more than 1000, whose all-pairs routes validation then walks.
    let n = t.count("number of vertices", MAX_PMED_VERTICES)?;
    let e = t.count("number of edges", MAX_DIM * 10)?;
    let p = t.count("p", n)?;
    let mut edges = Vec::with_capacity(e.min(text.len()));
    for _ in 0..e {
        let a = t.count("edge end", n)?;
        let b = t.count("edge end", n)?;
        let c = t.number("edge cost")?;
        if a == 0 || b == 0 {
            return Err(t.error("vertex ids are 1-based".into()));
        }
        if c < 0.0 {
            // An undirected negative edge is a negative cycle: no shortest paths exist.
            return Err(t.error(format!("edge cost must be >= 0, got {c}")));
        }
        edges.push((a - 1, b - 1, c));
    }
    expect_end(&t)?;
    // Floyd-Warshall over the vertices that lie on an edge only: the others reach nothing but
    // themselves. Time and memory then grow with the edges given, not with a header's n
    // (a few bytes declaring 5000 vertices, the old limit, used to cost a 200 MB matrix).
    let mut index = vec![usize::MAX; n];
    let mut touched = Vec::new();
    for &(a, b, _) in &edges {
        for v in [a, b] {
            if index[v] == usize::MAX {
                index[v] = touched.len();
                touched.push(v);
            }
        }
    }
    let m = touched.len();
    let mut dist = vec![f64::INFINITY; m * m];
    for v in 0..m {
        dist[v * m + v] = 0.0;
    }
    for &(a, b, c) in &edges {
        if a != b {
            let (a, b) = (index[a], index[b]);
            dist[a * m + b] = c;
            dist[b * m + a] = c;
        }
    }
    for k in 0..m {
        for i in 0..m {
            let dik = dist[i * m + k];
            if !dik.is_finite() {
                continue;
            }
            for j in 0..m {
                let via = dik + dist[k * m + j];
                if via < dist[i * m + j] {
                    dist[i * m + j] = via;
                }
            }
        }
    }
    let mut model = base_model(name);
    for v in 0..n {
        model
            .sites
            .push(facility(format!("v{}", v + 1), n as f64, 0.0));
        model
            .demand
            .push(customer(format!("d{}", v + 1), 1.0, false));
    }
    for j in 0..n {
        for i in 0..n {
            let d = if i == j {
                0.0
            } else if index[i] != usize::MAX && index[j] != usize::MAX {
                dist[index[i] * m + index[j]]
            } else {
                f64::INFINITY
            };
            if d.is_finite() {
                model
                    .routes
                    .push(link(format!("v{}", i + 1), format!("d{}", j + 1), d));
            }
        }
    }
    let p = u32::try_from(p).map_err(|_| InputError::single("orlib-pmed", "p too large"))?;
    model.policies.open_sites = Some(OpenSites {
        min: Some(p),
        max: Some(p),
    });
    Ok(model)
}

/// File names of the San Francisco data in `shared/benchmarks/spopt-sf`.
pub const SPOPT_SF_DEMAND: &str = "SF_demand_205_centroid_uniform_weight.csv";
/// See [`SPOPT_SF_DEMAND`].
pub const SPOPT_SF_DISTANCE: &str = "SF_network_distance_candidateStore_16_censusTract_205_new.csv";

/// PySAL spopt's San Francisco siting data (`shared/benchmarks/spopt-sf`): 205 census tracts
/// weighted by their population (`POP2000` of the demand file) and 16 candidate stores with the
/// street-network distance in metres from each store to each tract (the distance file). The
/// p-median model: every store can serve all demand, no opening cost, tracts as hard demand,
/// route cost = distance, exactly `p` stores open. Its objective is the population-weighted
/// distance to the nearest open store.
pub fn spopt_sf(
    demand_csv: &str,
    distance_csv: &str,
    p: u32,
    name: &str,
) -> Result<Model, InputError> {
    const DEMAND: &str = "spopt-sf demand";
    const DISTANCE: &str = "spopt-sf distance";
    let mut model = base_model(name);
    // Tracts by the numeric value of their NAME, as the data's README says to match them.
    let mut tracts: BTreeMap<String, String> = BTreeMap::new();
    for (row, f) in csv_rows(demand_csv, DEMAND, &["NAME", "POP2000"])? {
        let weight = csv_number(&f[1], DEMAND, row, "POP2000")?;
        if tracts
            .insert(tract_key(&f[0], DEMAND, row)?, f[0].clone())
            .is_some()
        {
            return Err(csv_error(
                DEMAND,
                row,
                "NAME",
                format!("tract {} appears twice", f[0]),
            ));
        }
        model.demand.push(customer(f[0].clone(), weight, false));
    }
    let total: f64 = model.demand.iter().map(|d| d.demand).sum();
    let mut stores: Vec<String> = Vec::new();
    for (row, f) in csv_rows(
        distance_csv,
        DISTANCE,
        &["name", "DestinationName", "distance"],
    )? {
        let distance = csv_number(&f[2], DISTANCE, row, "distance")?;
        let Some(tract) = tracts.get(&tract_key(&f[1], DISTANCE, row)?) else {
            return Err(csv_error(
                DISTANCE,
                row,
                "DestinationName",
                format!("tract {} is not in the demand file", f[1]),
            ));
        };
        if !stores.contains(&f[0]) {
            stores.push(f[0].clone());
        }
        model
            .routes
            .push(link(f[0].clone(), tract.clone(), distance));
    }
    if p as usize > stores.len() {
        return Err(InputError::single(
            "spopt-sf --p",
            format!(
                "{p} stores cannot open: the distance file has {}",
                stores.len()
            ),
        ));
    }
    for store in stores {
        model.sites.push(facility(store, total.max(1.0), 0.0));
    }
    model.policies.open_sites = Some(OpenSites {
        min: Some(p),
        max: Some(p),
    });
    Ok(model)
}

fn csv_error(what: &str, row: usize, column: &str, message: String) -> InputError {
    InputError::single(format!("{what} row {row} ({column})"), message)
}

/// A census tract's key: the numeric value of its NAME (`060750479.01`).
fn tract_key(name: &str, what: &str, row: usize) -> Result<String, InputError> {
    match name.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(format!("{v:.4}")),
        _ => Err(csv_error(
            what,
            row,
            "NAME",
            format!("a tract NAME is a number such as 060750479.01, got `{name}`"),
        )),
    }
}

/// The named columns of every record of a CSV file with a header row, with the record's number
/// (1 = the first after the header).
fn csv_rows(
    text: &str,
    what: &str,
    columns: &[&str],
) -> Result<Vec<(usize, Vec<String>)>, InputError> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| InputError::single(what, format!("cannot read the header: {e}")))?
        .clone();
    let index: Vec<usize> = columns
        .iter()
        .map(|c| {
            headers
                .iter()
                .position(|h| h == *c)
                .ok_or_else(|| InputError::single(what, format!("the header has no column `{c}`")))
        })
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record
            .map_err(|e| InputError::single(format!("{what} row {}", i + 1), e.to_string()))?;
        let fields = index
            .iter()
            .map(|&k| record.get(k).unwrap_or("").to_string())
            .collect();
        out.push((i + 1, fields));
    }
    Ok(out)
}

/// A finite number >= 0 from a CSV field.
fn csv_number(text: &str, what: &str, row: usize, column: &str) -> Result<f64, InputError> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(csv_error(
            what,
            row,
            column,
            format!("must be a number >= 0, got `{text}`"),
        )),
    }
}
