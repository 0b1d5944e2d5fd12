//! What to protect (DESIGN §4.3): the fortification loop, choosing elements to harden within a
//! budget or count so that the worst k losses of what is left cost least.

use super::*;

/// How much protection the defender may buy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProtectionLimit {
    /// At most this many elements (any target element can be protected).
    Count(u32),
    /// Protection costs (each element's `protection_cost`) at most this, currency/yr; elements
    /// without a protection cost cannot be protected.
    Budget(f64),
}

/// Which elements to protect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fortification {
    /// `optimal` when the gap closed, else `time_limit` (best protection found) or the status
    /// of the failed solve.
    pub status: Status,
    /// Most elements lost at once.
    pub k: u32,
    /// Element kinds that can be lost (and protected).
    pub targets: Vec<String>,
    /// The protection limit.
    pub limit: ProtectionLimit,
    /// Currency of every money figure.
    pub currency: String,
    /// Elements to protect.
    pub protected: Vec<ElementRef>,
    /// Their protection cost (elements without one count 0), currency/yr.
    pub protection_cost: f64,
    /// Elements that could be protected.
    pub protectable: usize,
    /// Worst second-stage cost with nothing protected, currency/yr (NaN, null in JSON, when the
    /// time limit left no time to find it).
    pub unprotected_worst: f64,
    /// Proven lower bound on the best achievable worst cost, currency/yr.
    pub lower_bound: Option<f64>,
    /// Worst cost with the chosen protection (or a proven bound on it), currency/yr.
    pub upper_bound: Option<f64>,
    /// Relative gap.
    pub gap: Option<f64>,
    /// Every iteration of the loop.
    pub iterations: Vec<LoopIteration>,
    /// The worst loss left with the chosen protection.
    pub worst_case: Option<WorstCase>,
    /// Things a reader must know (e.g. nothing could be protected within the budget).
    pub notes: Vec<String>,
    /// Why the loop ended `unknown` (an internal inconsistency), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Wall-clock seconds.
    pub runtime_s: f64,
}

/// The fortification master: protection binaries and the epigraph of the attacks seen so far.
pub(super) struct FortifyMaster {
    pub(super) mip: SparseMip,
    pub(super) theta: Col,
    pub(super) protect: Vec<(Element, Col)>,
}

impl FortifyMaster {
    pub(super) fn new(protectable: &[(Element, f64)], limit: ProtectionLimit, base: f64) -> Self {
        let mut mip = SparseMip::new();
        let theta = mip.add_col(1.0, base, f64::INFINITY, false);
        let protect: Vec<(Element, Col)> = protectable
            .iter()
            .map(|(e, _)| (*e, mip.add_binary(0.0)))
            .collect();
        let fam = mip.family("protection_limit");
        match limit {
            ProtectionLimit::Count(q) => {
                let terms: Vec<(Col, f64)> = protect.iter().map(|(_, w)| (*w, 1.0)).collect();
                mip.add_row(fam, f64::NEG_INFINITY, f64::from(q), terms);
            }
            ProtectionLimit::Budget(b) => {
                let terms: Vec<(Col, f64)> = protect
                    .iter()
                    .zip(protectable)
                    .map(|((_, w), (_, c))| (*w, *c))
                    .collect();
                mip.add_row(fam, f64::NEG_INFINITY, b, terms);
            }
        }
        FortifyMaster {
            mip,
            theta,
            protect,
        }
    }

    /// theta >= cost - (cost - base) * (protected elements of the attack).
    pub(super) fn add_attack(&mut self, attack: &[Element], cost: f64, base: f64) {
        let fam = self.mip.family("attack_cut");
        let mut terms = vec![(self.theta, 1.0)];
        for (e, w) in &self.protect {
            if attack.contains(e) {
                terms.push((*w, cost - base));
            }
        }
        self.mip.add_row(fam, cost, f64::INFINITY, terms);
    }

    pub(super) fn protected(&self, x: &[f64]) -> Vec<Element> {
        self.protect
            .iter()
            .filter(|(_, w)| x[w.0] > 0.5)
            .map(|(e, _)| *e)
            .collect()
    }
}

pub(super) fn protection_cost(net: &Network, e: Element) -> Option<f64> {
    let m = &net.model;
    match e {
        Element::Supplier(i) => m.suppliers[i].protection_cost,
        Element::Site(i) => m.sites[i].protection_cost,
        Element::Depot(i) => m.depots[i].protection_cost,
        Element::Route(i) => net.route_def(i).protection_cost,
    }
}

/// Fortification of a fixed plan: which elements to protect so that the worst loss of up to
/// `losses.k` unprotected target elements costs least. `progress` hears every iteration.
pub fn fortify(
    net: &Network,
    plan: &Plan,
    losses: &WorstCaseOptions,
    limit: ProtectionLimit,
    settings: &Settings,
    control: &SolveControl,
    progress: &dyn Fn(&LoopIteration),
) -> Result<Fortification, StockadeError> {
    let started = Instant::now();
    match limit {
        ProtectionLimit::Budget(b) if !(b.is_finite() && b >= 0.0) => {
            return Err(InputError::single(
                "--budget",
                format!("must be a finite number >= 0, got {b}"),
            )
            .into())
        }
        _ => {}
    }
    crate::analysis::interdiction::checked_first_stage_cost(net, plan)?;
    let candidates = losses.candidates(net)?;
    let (k, duration) = (losses.k, losses.duration);
    let protectable: Vec<(Element, f64)> = candidates
        .iter()
        .filter_map(|e| match limit {
            ProtectionLimit::Count(_) => Some((*e, protection_cost(net, *e).unwrap_or(0.0))),
            ProtectionLimit::Budget(_) => protection_cost(net, *e).map(|c| (*e, c)),
        })
        .collect();
    let (base, _) = loss_outcome(net, plan, &[], duration)?;
    let tolerance = settings.mip_gap.max(LOOP_GAP);
    let mut master = FortifyMaster::new(&protectable, limit, base);
    let mut out = Fortification {
        status: Status::Unknown,
        k,
        targets: losses.targets.clone(),
        limit,
        currency: net.model.currency.clone(),
        protected: Vec::new(),
        protection_cost: 0.0,
        protectable: protectable.len(),
        unprotected_worst: f64::NAN,
        lower_bound: None,
        upper_bound: None,
        gap: None,
        iterations: Vec::new(),
        worst_case: None,
        notes: Vec::new(),
        message: None,
        runtime_s: 0.0,
    };
    if protectable.is_empty() {
        out.notes.push(match limit {
            ProtectionLimit::Budget(_) => {
                "no target element has a protection_cost in the model: nothing can be protected within a budget".to_string()
            }
            ProtectionLimit::Count(_) => "there are no target elements to protect".to_string(),
        });
    }
    let mut best: Option<(f64, Vec<Element>)> = None;
    let mut found: Vec<Vec<Element>> = Vec::new();
    loop {
        let left = settings.remaining_s(&started);
        if left == Some(0.0) {
            out.status = Status::TimeLimit;
            break;
        }
        let run = solve_mip(&master.mip, &settings.with_time_limit(left), control)?;
        if !run.has_solution {
            out.status = run.status;
            break;
        }
        if let Some(lower) = run.proven_bound() {
            out.lower_bound = Some(out.lower_bound.map_or(lower, |l: f64| l.max(lower)));
        }
        let protected = master.protected(&run.values);
        let open: Vec<Element> = candidates
            .iter()
            .copied()
            .filter(|e| !protected.contains(e))
            .collect();
        let left = settings.remaining_s(&started);
        let attack = interdict(
            net,
            plan,
            k,
            duration,
            &open,
            &settings.with_time_limit(left),
            control,
        )?;
        let (attack_cost, _) = loss_outcome(net, plan, &attack.lost, duration)?;
        if out.iterations.is_empty() && protected.is_empty() {
            out.unprotected_worst = attack_cost;
        }
        // Only a proven worst cost is an upper bound; an unproven one still keeps the first
        // protection found, priced at infinity, so the answer has a protection set.
        let worst = proven_worst(&attack, attack_cost).unwrap_or(f64::INFINITY);
        if best.as_ref().is_none_or(|(b, _)| worst < *b) {
            best = Some((worst, protected.clone()));
        }
        let upper = best.as_ref().map_or(f64::INFINITY, |b| b.0);
        let lower = out.lower_bound.unwrap_or(base);
        let iteration =
            LoopIteration::next(net, &out.iterations, lower, upper, &attack.lost, started);
        progress(&iteration);
        out.upper_bound = upper.is_finite().then_some(upper);
        out.gap = Some(iteration.gap);
        let end = loop_end(
            &iteration,
            tolerance,
            &attack.lost,
            &found,
            run.status,
            attack.status,
            repeat_proves(&run, &attack, attack_cost, upper),
        );
        out.iterations.push(iteration);
        if let Some(stop) = end {
            (out.status, out.message) = (stop.status, stop.message);
            break;
        }
        master.add_attack(&attack.lost, attack_cost, base);
        found.push(attack.lost);
    }
    // The first master may protect something already; the unprotected worst is then its own
    // solve, within what is left of the time limit (NaN, null in JSON, when none is left).
    let left = settings.remaining_s(&started);
    if out.unprotected_worst.is_nan() && left != Some(0.0) {
        let attack = interdict(
            net,
            plan,
            k,
            duration,
            &candidates,
            &settings.with_time_limit(left),
            control,
        )?;
        if attack.status == Status::Optimal {
            out.unprotected_worst = loss_outcome(net, plan, &attack.lost, duration)?.0;
        }
    }
    if let Some((_, protected)) = best {
        // fold from +0.0: an empty f64 sum is -0.0, which prints as "-0.00".
        out.protection_cost = protected
            .iter()
            .map(|e| protection_cost(net, *e).unwrap_or(0.0))
            .fold(0.0, |a, b| a + b);
        out.protected = protected.iter().map(|e| ElementRef::of(net, *e)).collect();
        let options = WorstCaseOptions {
            single_points_of_failure: false,
            ..losses.clone()
        };
        let left = settings.remaining_s(&started).map(|t| t.max(1.0));
        out.worst_case = Some(worst_case(
            net,
            plan,
            &options,
            &protected,
            &settings.with_time_limit(left),
            control,
        )?);
    }
    out.runtime_s = started.elapsed().as_secs_f64();
    Ok(out)
}
