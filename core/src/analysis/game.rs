//! Cooperative cost games over a plain characteristic function (DESIGN §4.2): the Shapley value
//! (exact, or by permutation sampling with a standard error), the core check (the least-core LP)
//! and the nucleolus (a sequence of LPs). Nothing here knows about MIPs or parties: a game is
//! `n` players and the cost `v(S)` of every coalition `S`, a bitmask (player `i` is bit `i`).
//!
//! Costs, not profits: an allocation `x` divides `v(N)`; coalition `S`'s *surplus* at `x` is
//! `v(S) - x(S)`, what it saves by staying in the grand coalition. The core is the set of
//! allocations where every surplus is >= 0. A profit game `w` is the cost game `-w`.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::solver::mip::{Col, SparseMip};
use crate::solver::{solve_mip, Settings, SolveControl, Status};
use crate::StockadeError;

/// Exact Shapley values are computed up to this many players (2^n coalition values).
pub const EXACT_SHAPLEY_UP_TO: usize = 12;

/// A cost game: `values[S]` is the cost of coalition `S` (a bitmask over `n` players),
/// `values[0] = 0`.
#[derive(Debug, Clone, PartialEq)]
pub struct Game {
    n: usize,
    values: Vec<f64>,
}

/// Whether an allocation is stable, and the allocation that spreads the smallest surplus most.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoreCheck {
    /// Whether some allocation leaves every coalition a surplus >= 0.
    pub nonempty: bool,
    /// The largest `e` such that some allocation leaves every proper coalition a surplus >= `e`
    /// (the least core): >= 0 exactly when the core is non-empty.
    pub least_core_surplus: f64,
    /// An allocation achieving it, by player.
    pub allocation: Vec<f64>,
}

/// The nucleolus and how it was found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nucleolus {
    /// Cost allocated to each player.
    pub allocation: Vec<f64>,
    /// `false`: over imputations (no player pays more than alone), the classical nucleolus;
    /// `true`: the imputation set is empty (the stand-alone costs sum to less than v(N)), so this
    /// is the prenucleolus, over every allocation that divides v(N).
    pub prenucleolus: bool,
    /// LPs solved.
    pub lps: usize,
}

/// A coalition that an allocation charges more than it would pay alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Objection {
    /// The coalition (bitmask).
    pub coalition: u64,
    /// What the allocation charges it beyond its stand-alone cost, `x(S) - v(S)` > 0.
    pub excess: f64,
}

impl Game {
    /// A game from the cost of every coalition, indexed by bitmask (`values.len() == 2^n`,
    /// `values[0] == 0`, every value finite).
    pub fn new(n: usize, values: Vec<f64>) -> Result<Game, String> {
        if n == 0 || n > 24 {
            return Err(format!("a game has 1 to 24 players, got {n}"));
        }
        if values.len() != 1 << n {
            return Err(format!(
                "{n} players need 2^{n} = {} coalition values, got {}",
                1usize << n,
                values.len()
            ));
        }
        if values[0] != 0.0 {
            return Err(format!("the empty coalition costs 0, got {}", values[0]));
        }
        if let Some(s) = values.iter().position(|v| !v.is_finite()) {
            return Err(format!("coalition {s:#b} has no finite value"));
        }
        Ok(Game { n, values })
    }

    /// A game from a function of the coalition bitmask.
    pub fn from_fn(n: usize, v: impl Fn(u64) -> f64) -> Result<Game, String> {
        let mut values: Vec<f64> = (0..1u64 << n).map(&v).collect();
        if let Some(first) = values.first_mut() {
            *first = 0.0;
        }
        Game::new(n, values)
    }

    /// Number of players.
    pub fn players(&self) -> usize {
        self.n
    }

    /// The grand coalition.
    pub fn grand(&self) -> u64 {
        (1u64 << self.n) - 1
    }

    /// Cost of coalition `s`.
    pub fn value(&self, s: u64) -> f64 {
        self.values[s as usize]
    }

    /// What each player pays alone.
    pub fn stand_alone(&self) -> Vec<f64> {
        (0..self.n).map(|i| self.value(1 << i)).collect()
    }

    /// The cooperation gain: the sum of stand-alone costs minus v(N).
    pub fn cooperation_gain(&self) -> f64 {
        self.stand_alone().iter().sum::<f64>() - self.value(self.grand())
    }

    /// The Shapley value: each player's marginal cost averaged over every order of arrival,
    /// `phi_i = sum_{S not containing i} |S|! (n-|S|-1)! / n! (v(S+i) - v(S))`.
    pub fn shapley(&self) -> Vec<f64> {
        let n = self.n;
        // weight[k] = k! (n-k-1)! / n!, built without factorials: w[0] = 1/n,
        // w[k] = w[k-1] * k / (n - k).
        let mut weight = vec![0.0; n];
        weight[0] = 1.0 / n as f64;
        for k in 1..n {
            weight[k] = weight[k - 1] * k as f64 / (n - k) as f64;
        }
        let mut phi = vec![0.0; n];
        for s in 0..(1u64 << n) {
            let size = s.count_ones() as usize;
            for (i, p) in phi.iter_mut().enumerate() {
                if s & (1 << i) == 0 {
                    *p += weight[size] * (self.value(s | (1 << i)) - self.value(s));
                }
            }
        }
        phi
    }

    /// The coalition the allocation `x` overcharges most (largest `x(S) - v(S)`), if any
    /// coalition is overcharged beyond a relative tolerance of 1e-7.
    pub fn objection(&self, x: &[f64]) -> Option<Objection> {
        let tol = self.tolerance() * 100.0;
        let mut best: Option<Objection> = None;
        for s in 1..self.grand() {
            let excess = coalition_sum(x, s) - self.value(s);
            if excess > tol && best.as_ref().is_none_or(|b| excess > b.excess) {
                best = Some(Objection {
                    coalition: s,
                    excess,
                });
            }
        }
        best
    }

    /// The core check: the least-core LP `max e` s.t. `x(S) + e <= v(S)` for every proper
    /// coalition, `x(N) = v(N)`. The core is non-empty exactly when `e* >= 0`.
    pub fn core_check(&self) -> Result<CoreCheck, StockadeError> {
        if self.n == 1 {
            return Ok(CoreCheck {
                nonempty: true,
                least_core_surplus: 0.0,
                allocation: vec![self.value(1)],
            });
        }
        let mut lp = SurplusLp::new(self, false);
        let (eps, x, _) = lp.solve(self)?;
        Ok(CoreCheck {
            nonempty: eps >= -self.tolerance() * 100.0,
            least_core_surplus: eps,
            allocation: x,
        })
    }

    /// The nucleolus: the allocation that maximises the smallest coalition surplus, then the
    /// next smallest, and so on (Schmeidler 1969), by the sequence of LPs of Maschler, Peleg and
    /// Shapley (1979). Each LP maximises the smallest surplus `e` of the coalitions not yet
    /// fixed; coalitions with a positive dual are tight in every optimum, so they are fixed at
    /// that surplus; coalitions whose sum the fixed ones determine leave the LP; it stops when
    /// the fixed coalitions determine the allocation.
    pub fn nucleolus(&self) -> Result<Nucleolus, StockadeError> {
        if self.n == 1 {
            return Ok(Nucleolus {
                allocation: vec![self.value(1)],
                prenucleolus: false,
                lps: 0,
            });
        }
        let imputations = self.stand_alone().iter().sum::<f64>()
            >= self.value(self.grand()) - self.tolerance() * 100.0;
        let mut lp = SurplusLp::new(self, imputations);
        let mut lps = 0;
        loop {
            let (eps, x, tight) = lp.solve(self)?;
            lps += 1;
            for s in tight {
                lp.fix(s, eps);
            }
            if lp.span.rank() == self.n || lps > 4 * self.n + 4 {
                return Ok(Nucleolus {
                    allocation: x,
                    prenucleolus: !imputations,
                    lps,
                });
            }
        }
    }

    /// Absolute tolerance: 1e-9 of the largest coalition cost (1e-9 when all are 0).
    fn tolerance(&self) -> f64 {
        1e-9 * self.values.iter().fold(1.0f64, |a, v| a.max(v.abs()))
    }
}

/// `x(S)`.
pub fn coalition_sum(x: &[f64], s: u64) -> f64 {
    x.iter()
        .enumerate()
        .filter(|(i, _)| s & (1 << i) != 0)
        .map(|(_, v)| v)
        .sum()
}

/// Members of a coalition, by index.
pub fn members(s: u64, n: usize) -> Vec<usize> {
    (0..n).filter(|i| s & (1 << i) != 0).collect()
}

/// One LP of the nucleolus sequence: which coalitions are fixed (with their surplus), and the
/// span of the fixed coalitions' indicator vectors (with the grand coalition).
struct SurplusLp {
    fixed: std::collections::BTreeMap<u64, f64>,
    span: Span,
    imputations: bool,
}

impl SurplusLp {
    fn new(game: &Game, imputations: bool) -> Self {
        let mut span = Span::new(game.n);
        span.insert(game.grand());
        SurplusLp {
            fixed: std::collections::BTreeMap::new(),
            span,
            imputations,
        }
    }

    /// Fixes coalition `s` at surplus `level`, unless the fixed ones already determine its
    /// sum (then its row would only repeat them, inexactly in floating point).
    fn fix(&mut self, s: u64, level: f64) {
        if !self.span.contains(s) {
            self.fixed.insert(s, level);
            self.span.insert(s);
        }
    }

    /// `max e` over the free coalitions; returns `e*`, the allocation, and the free coalitions
    /// whose row has a nonzero dual (tight in every optimum).
    fn solve(&mut self, game: &Game) -> Result<(f64, Vec<f64>, Vec<u64>), StockadeError> {
        let n = game.n;
        let mut mip = SparseMip::new();
        let x: Vec<Col> = (0..n)
            .map(|_| mip.add_col(0.0, f64::NEG_INFINITY, f64::INFINITY, false))
            .collect();
        let eps = mip.add_col(-1.0, f64::NEG_INFINITY, f64::INFINITY, false);
        let fam_free = mip.family("coalition_surplus");
        let fam_fixed = mip.family("fixed_surplus");
        let fam_total = mip.family("allocation_total");
        let terms = |s: u64| -> Vec<(Col, f64)> {
            members(s, n).into_iter().map(|i| (x[i], 1.0)).collect()
        };
        let grand = game.grand();
        mip.add_row(
            fam_total,
            game.value(grand),
            game.value(grand),
            terms(grand),
        );
        if self.imputations {
            for (i, col) in x.iter().enumerate() {
                let alone = game.value(1 << i);
                mip.add_row(fam_total, f64::NEG_INFINITY, alone, [(*col, 1.0)]);
            }
        }
        let mut free_rows: Vec<(usize, u64)> = Vec::new();
        for s in 1..grand {
            if let Some(level) = self.fixed.get(&s) {
                let rhs = game.value(s) - level;
                mip.add_row(fam_fixed, rhs, rhs, terms(s));
            } else if !self.span.contains(s) {
                let mut t = terms(s);
                t.push((eps, 1.0));
                let row = mip.add_row(fam_free, f64::NEG_INFINITY, game.value(s), t);
                free_rows.push((row.0, s));
            }
        }
        let run = solve_mip(&mip, &Settings::default(), &SolveControl::default())?;
        if run.status != Status::Optimal || !run.has_solution {
            return Err(StockadeError::Solver(format!(
                "the surplus LP of the nucleolus ended {} ({})",
                run.status.as_str(),
                run.detail
            )));
        }
        let value = run.values[eps.0];
        let alloc: Vec<f64> = x.iter().map(|c| run.values[c.0]).collect();
        let dual_tol = 1e-9;
        let mut tight: Vec<u64> = free_rows
            .iter()
            .filter(|(r, _)| run.row_duals.get(*r).is_some_and(|d| d.abs() > dual_tol))
            .map(|(_, s)| *s)
            .collect();
        if tight.is_empty() {
            // Duals lost to numerical noise: fall back on the rows tight at this optimum.
            let tol = game.tolerance() * 100.0;
            tight = free_rows
                .iter()
                .filter(|(_, s)| game.value(*s) - coalition_sum(&alloc, *s) - value <= tol)
                .map(|(_, s)| *s)
                .collect();
        }
        Ok((value, alloc, tight))
    }
}

/// The linear span of some 0/1 vectors over n players (Gaussian elimination, kept reduced).
struct Span {
    n: usize,
    /// Basis rows with their pivot column.
    basis: Vec<(usize, Vec<f64>)>,
}

impl Span {
    fn new(n: usize) -> Self {
        Span {
            n,
            basis: Vec::new(),
        }
    }

    fn rank(&self) -> usize {
        self.basis.len()
    }

    fn reduce(&self, s: u64) -> Vec<f64> {
        let mut v: Vec<f64> = (0..self.n)
            .map(|i| if s & (1 << i) != 0 { 1.0 } else { 0.0 })
            .collect();
        for (pivot, row) in &self.basis {
            let f = v[*pivot];
            if f != 0.0 {
                v.iter_mut().zip(row).for_each(|(a, b)| *a -= f * b);
            }
        }
        v
    }

    fn contains(&self, s: u64) -> bool {
        self.reduce(s).iter().all(|a| a.abs() < 1e-9)
    }

    fn insert(&mut self, s: u64) {
        let v = self.reduce(s);
        let Some(pivot) = (0..self.n).max_by(|a, b| v[*a].abs().total_cmp(&v[*b].abs())) else {
            return;
        };
        if v[pivot].abs() < 1e-9 {
            return;
        }
        let p = v[pivot];
        let v: Vec<f64> = v.iter().map(|a| a / p).collect();
        // Keep the basis reduced: clear the new pivot from the older rows.
        for (_, row) in &mut self.basis {
            let f = row[pivot];
            if f != 0.0 {
                row.iter_mut().zip(&v).for_each(|(a, b)| *a -= f * b);
            }
        }
        self.basis.push((pivot, v));
    }
}

/// `count` random orders of `n` players from a seeded ChaCha stream (the same seed gives the
/// same orders on every platform).
pub fn sample_orders(n: usize, count: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let mut order: Vec<usize> = (0..n).collect();
            order.shuffle(&mut rng);
            order
        })
        .collect()
}

/// The coalitions an estimate over `orders` needs: every prefix of every order.
pub fn prefixes(orders: &[Vec<usize>]) -> std::collections::BTreeSet<u64> {
    let mut out = std::collections::BTreeSet::new();
    for order in orders {
        let mut s = 0u64;
        for i in order {
            s |= 1 << i;
            out.insert(s);
        }
    }
    out
}

/// A Shapley estimate with its standard errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShapleyEstimate {
    /// Estimated Shapley value of each player.
    pub value: Vec<f64>,
    /// Standard error of each estimate (sample standard deviation of the marginal costs over
    /// the square root of the number of orders).
    pub std_error: Vec<f64>,
    /// Orders sampled.
    pub orders: usize,
}

/// The Shapley value estimated from random orders of arrival (Castro, Gómez and Tejada 2009):
/// each order gives every player one marginal cost; the estimate is their mean.
pub fn shapley_sampled(n: usize, orders: &[Vec<usize>], v: impl Fn(u64) -> f64) -> ShapleyEstimate {
    let k = orders.len();
    let mut sum = vec![0.0; n];
    let mut sum_sq = vec![0.0; n];
    for order in orders {
        let mut s = 0u64;
        let mut before = 0.0;
        for &i in order {
            s |= 1 << i;
            let after = if s == 0 { 0.0 } else { v(s) };
            let marginal = after - before;
            sum[i] += marginal;
            sum_sq[i] += marginal * marginal;
            before = after;
        }
    }
    let kf = k.max(1) as f64;
    let value: Vec<f64> = sum.iter().map(|s| s / kf).collect();
    let std_error = (0..n)
        .map(|i| {
            if k < 2 {
                return f64::NAN;
            }
            let var = (sum_sq[i] - kf * value[i] * value[i]) / (kf - 1.0);
            (var.max(0.0) / kf).sqrt()
        })
        .collect();
    ShapleyEstimate {
        value,
        std_error,
        orders: k,
    }
}
