//! Cut strengthening for facility-location blocks (see [`SiteBlock`]): the capacity duals that
//! give the Lagrangian cut of capacitated facility location, customer by customer.

use super::*;

/// Strengthens the duals of every [`SiteBlock`] (see there) of an LP solved at first stage `y`
/// with column costs `costs`, row duals `duals` and reduced costs `col_duals`, where
/// `static_upper` are the column bounds before the links and `row_upper` the rows' upper bounds
/// at `y`. Returns the dual (>= 0) of each link bound, and by how much (rounding, >= 0) the new
/// duals' bound at `y` fell short of the LP's, to subtract from the cut's value; `duals` gets the
/// new capacity duals.
#[allow(clippy::too_many_arguments)]
pub(super) fn strengthen(
    t: &Template,
    y: &[f64],
    costs: &[f64],
    duals: &mut [f64],
    col_duals: &[f64],
    col_lower: &[f64],
    static_upper: &[f64],
    row_upper: &[f64],
    row_upper_at: &dyn Fn(&[f64], u32) -> f64,
) -> (Vec<f64>, f64) {
    let mut lift = 0.0;
    // The LP's own link duals: the bound's share of the reduced cost when the link is the
    // tighter of the column's two upper bounds.
    let mut link_duals: Vec<f64> = t
        .links
        .iter()
        .map(|l| {
            let k = l.col as usize;
            if l.coef * y[l.first as usize] <= static_upper[k] {
                (-col_duals[k]).max(0.0)
            } else {
                0.0
            }
        })
        .collect();
    // The first stage with every column at its upper bound (where it has one; the point where
    // not, or everywhere when the master's bounds were not given).
    let full: Vec<f64> = y
        .iter()
        .enumerate()
        .map(|(j, y)| match t.first_upper.get(j) {
            Some(u) if u.is_finite() => *u,
            _ => *y,
        })
        .collect();
    let mut items: Vec<(f64, f64, f64)> = Vec::new();
    'blocks: for b in &t.blocks {
        let r = b.capacity_row as usize;
        let k_now = row_upper[r];
        let k_full = row_upper_at(&full, b.capacity_row);
        if !(k_now >= 0.0 && k_full >= 0.0) {
            continue;
        }
        items.clear();
        // The site's term with the LP's own duals, to keep the better of the two.
        let w_lp = (-duals[r]).max(0.0);
        let mut h_lp = k_now * w_lp;
        for &(k, d, l) in &b.flows {
            let (k, l) = (k as usize, l as usize);
            let link = t.links[l];
            let upper = static_upper[k];
            if col_lower[k] != 0.0 {
                continue 'blocks; // its reduced cost would not be free to move
            }
            if upper == 0.0 {
                continue; // fixed at 0: its bound carries its dual, whatever w is
            }
            if upper != f64::INFINITY {
                continue 'blocks;
            }
            let (l_now, l_full) = (
                link.coef * y[link.first as usize],
                link.coef * full[link.first as usize],
            );
            h_lp += l_now * link_duals[l];
            let p = duals[d as usize] - costs[k];
            if p > 0.0 {
                items.push((p, l_now, l_full));
            }
        }
        // h(w) = K w + sum_k L_k (p_k - w)^+ at the point and at the site fully open; the
        // minimum is at w = 0 or at a breakpoint p_k. Items by p descending, prefix sums.
        items.sort_by(|a, b| b.0.total_cmp(&a.0));
        let (mut sum_lp_now, mut sum_l_now, mut sum_lp_full, mut sum_l_full) = (0.0, 0.0, 0.0, 0.0);
        let mut best = (f64::INFINITY, f64::INFINITY, 0.0);
        let consider = |w: f64, h_now: f64, h_full: f64, best: &mut (f64, f64, f64)| {
            let tol = 1e-12 * (1.0 + h_now.abs().max(best.0.abs()));
            if h_now < best.0 - tol || (h_now <= best.0 + tol && h_full < best.1) {
                *best = (h_now, h_full, w);
            }
        };
        for &(p, l_now, l_full) in items.iter() {
            // w = p: the items before this one (p_i >= p) contribute L_i (p_i - p).
            let h_now = k_now * p + sum_lp_now - p * sum_l_now;
            let h_full = k_full * p + sum_lp_full - p * sum_l_full;
            consider(p, h_now, h_full, &mut best);
            sum_lp_now += l_now * p;
            sum_l_now += l_now;
            sum_lp_full += l_full * p;
            sum_l_full += l_full;
        }
        consider(0.0, sum_lp_now, sum_lp_full, &mut best);
        let (h_best, _, w) = best;
        if h_best.is_nan() || h_best > h_lp + 1e-9 * (1.0 + h_lp.abs()) {
            continue; // rounding: keep the LP's duals
        }
        // The LP's duals are optimal, so h_best >= h_lp but for rounding; what rounding gives
        // away comes off the cut's value, which then stays a valid bound.
        lift += (h_best - h_lp).max(0.0);
        duals[r] = -w;
        for &(k, d, l) in &b.flows {
            let k = k as usize;
            link_duals[l as usize] = if static_upper[k] == 0.0 {
                0.0
            } else {
                (duals[d as usize] - costs[k] - w).max(0.0)
            };
        }
    }
    (link_duals, lift)
}
