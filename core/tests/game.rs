//! Cost-sharing on textbook games whose Shapley value, core and nucleolus are published. No MIP:
//! the game module works on a plain characteristic function.

#![allow(clippy::unwrap_used, clippy::needless_range_loop)]

use stockade::game::{prefixes, sample_orders, shapley_sampled, Game};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn assert_vec(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            close(*g, *w, tol),
            "player {i}: got {g}, want {w} ({got:?})"
        );
    }
}

/// Airport game (Littlechild and Owen 1973, "A simple expression for the Shapley value in a
/// special case", Management Science 20(3)): coalition S pays for the longest runway any member
/// needs, `v(S) = max_{i in S} c_i`. With costs sorted, the Shapley value shares each runway
/// segment equally among the players that use it:
/// `phi_i = sum_{k <= i} (c_k - c_{k-1}) / (n - k + 1)`.
fn airport(costs: &[f64]) -> (Game, Vec<f64>) {
    let n = costs.len();
    let game = Game::from_fn(n, |s| {
        (0..n)
            .filter(|i| s & (1 << i) != 0)
            .map(|i| costs[i])
            .fold(0.0, f64::max)
    })
    .expect("valid game");
    let mut phi = vec![0.0; n];
    for i in 0..n {
        let mut prev = 0.0;
        for k in 0..=i {
            phi[i] += (costs[k] - prev) / (n - k) as f64;
            prev = costs[k];
        }
    }
    (game, phi)
}

#[test]
fn airport_shapley_by_hand() {
    // Runways 6, 12, 30: the first segment (6) is shared by three: 2 each; the second (6) by
    // the two longer users: 3 each; the third (18) by the last alone. Shapley = (2, 5, 23).
    let (game, _) = airport(&[6.0, 12.0, 30.0]);
    assert_vec(&game.shapley(), &[2.0, 5.0, 23.0], 1e-9);
    assert!(close(
        game.cooperation_gain(),
        6.0 + 12.0 + 30.0 - 30.0,
        1e-9
    ));
}

#[test]
fn airport_shapley_twelve_players_matches_the_formula() {
    let costs: Vec<f64> = (1..=12).map(|k| f64::from(k * k)).collect();
    let (game, phi) = airport(&costs);
    assert_vec(&game.shapley(), &phi, 1e-9);
}

#[test]
fn sampled_shapley_is_within_its_standard_error() {
    // 15 players: beyond the exact limit. 3000 seeded orders; every estimate within 4 standard
    // errors of the Littlechild-Owen value, and the errors are honest (positive, small).
    let costs: Vec<f64> = (1..=15).map(|k| 10.0 * f64::from(k)).collect();
    let (game, phi) = airport(&costs);
    let orders = sample_orders(15, 3000, 7);
    let est = shapley_sampled(15, &orders, |s| game.value(s));
    assert_eq!(est.orders, 3000);
    let total: f64 = est.value.iter().sum();
    // Every order's marginal costs sum to v(N), so the estimates do too, exactly.
    assert!(close(total, 150.0, 1e-9), "{total}");
    for i in 0..15 {
        assert!(est.std_error[i] > 0.0 || phi[i] == est.value[i]);
        assert!(
            (est.value[i] - phi[i]).abs() <= 4.0 * est.std_error[i] + 1e-9,
            "player {i}: {} vs {} (se {})",
            est.value[i],
            phi[i],
            est.std_error[i]
        );
    }
    // The same seed gives the same orders.
    assert_eq!(sample_orders(15, 5, 7), sample_orders(15, 5, 7));
    assert!(prefixes(&orders).len() <= 3000 * 15);
}

/// The Talmud bankruptcy problem (Aumann and Maschler 1985, "Game theoretic analysis of a
/// bankruptcy problem from the Talmud", J. Economic Theory 36, 195-213): three creditors with
/// claims 100, 200, 300 on an estate E. The profit game is
/// `w(S) = max(0, E - sum of the claims outside S)`; its nucleolus is the Mishna's division:
/// E = 100 -> (33 1/3, 33 1/3, 33 1/3), E = 200 -> (50, 75, 75), E = 300 -> (50, 100, 150).
/// A profit game is the cost game -w, and its allocation the negated cost allocation.
fn talmud(estate: f64) -> Game {
    let claims = [100.0, 200.0, 300.0];
    Game::from_fn(3, |s| {
        let outside: f64 = (0..3)
            .filter(|i| s & (1 << i) == 0)
            .map(|i| claims[i])
            .sum();
        -(estate - outside).max(0.0)
    })
    .expect("valid game")
}

#[test]
fn talmud_nucleolus_is_the_mishna_division() {
    for (estate, want) in [
        (100.0, [100.0 / 3.0, 100.0 / 3.0, 100.0 / 3.0]),
        (200.0, [50.0, 75.0, 75.0]),
        (300.0, [50.0, 100.0, 150.0]),
    ] {
        let game = talmud(estate);
        let nu = game.nucleolus().expect("LPs solve");
        let profit: Vec<f64> = nu.allocation.iter().map(|x| -x).collect();
        assert_vec(&profit, &want, 1e-6);
        assert!(!nu.prenucleolus);
        // Bankruptcy games are convex: the core is non-empty and holds the nucleolus.
        let core = game.core_check().expect("LP solves");
        assert!(core.nonempty, "estate {estate}: {core:?}");
        assert!(game.objection(&nu.allocation).is_none());
    }
}

/// Three-player majority game (von Neumann and Morgenstern; Osborne and Rubinstein, A Course in
/// Game Theory, 1994, §13.2): any two players share 1. No allocation satisfies every pair, since
/// the three pair constraints sum to 2 x(N) >= 3 > 2: the core is empty. By symmetry the least
/// core gives each player 1/3, leaving every pair 1/3 short: least-core surplus -1/3.
#[test]
fn majority_game_has_an_empty_core() {
    let game = Game::from_fn(3, |s| if s.count_ones() >= 2 { -1.0 } else { 0.0 }).unwrap();
    let core = game.core_check().unwrap();
    assert!(!core.nonempty);
    assert!(close(core.least_core_surplus, -1.0 / 3.0, 1e-9), "{core:?}");
    let nu = game.nucleolus().unwrap();
    assert_vec(&nu.allocation, &[-1.0 / 3.0; 3], 1e-9);
    assert_vec(&game.shapley(), &[-1.0 / 3.0; 3], 1e-12);
    // Any allocation has an objecting coalition; the nucleolus's worst is a pair short by 1/3.
    let obj = game.objection(&nu.allocation).expect("empty core");
    assert_eq!(obj.coalition.count_ones(), 2);
    assert!(close(obj.excess, 1.0 / 3.0, 1e-9));
}

/// Glove game (Osborne and Rubinstein 1994, Example 259.1 style): player 0 holds the only left
/// glove, players 1 and 2 a right glove each; a pair is worth 1. The core is the single point
/// (1, 0, 0) -- the scarce glove takes all -- which is then the nucleolus; the Shapley value is
/// (2/3, 1/6, 1/6) (orders: player 0 adds 1 unless first, i.e. in 4 of 6 orders).
#[test]
fn glove_game_core_is_one_point() {
    let game = Game::from_fn(3, |s| {
        if s & 1 != 0 && s & 0b110 != 0 {
            -1.0
        } else {
            0.0
        }
    })
    .unwrap();
    let core = game.core_check().unwrap();
    assert!(core.nonempty);
    assert!(close(core.least_core_surplus, 0.0, 1e-9));
    let nu = game.nucleolus().unwrap();
    assert_vec(&nu.allocation, &[-1.0, 0.0, 0.0], 1e-9);
    assert_vec(
        &game.shapley(),
        &[-2.0 / 3.0, -1.0 / 6.0, -1.0 / 6.0],
        1e-12,
    );
    // The Shapley value is outside this core: {0, 1} receives 5/6 < 1 together.
    let obj = game
        .objection(&game.shapley())
        .expect("Shapley outside the core");
    assert!(close(obj.excess, 1.0 / 6.0, 1e-9), "{obj:?}");
}

#[test]
fn bad_games_are_refused() {
    assert!(Game::new(2, vec![0.0, 1.0, 2.0]).is_err());
    assert!(Game::new(2, vec![1.0, 1.0, 2.0, 3.0]).is_err());
    assert!(Game::new(2, vec![0.0, f64::NAN, 2.0, 3.0]).is_err());
    assert!(Game::new(0, vec![0.0]).is_err());
    let one = Game::new(1, vec![0.0, 5.0]).unwrap();
    assert_vec(&one.shapley(), &[5.0], 0.0);
    assert_vec(&one.nucleolus().unwrap().allocation, &[5.0], 0.0);
}
