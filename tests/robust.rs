//! What the `robust` preset's rank-aware shares buy on the bundled MLP
//! searches (in-sample: `robust` was chosen on these files among others; the
//! out-of-sample numbers are in docs/research.md): a better-ranked top 10 and
//! a smaller median error than the paper's method, within the 1 epoch of the
//! budget it was chosen under, and the shares are what keep rank-aware
//! stopping within it.

mod common;

/// (mean stop epoch, regret of the top 10, median absolute error) of a
/// bundled file replayed with `options`.
fn numbers(file: &str, options: &[&str]) -> (f64, f64, f64) {
    let d = common::replay_bundled(file, &[&["--chance_level", "10"], options].concat());
    let full = &d["full"];
    let f = |v: &serde_json::Value| v.as_f64().unwrap();
    (
        f(&full["mean_stop_epoch"]),
        f(&full["regret"]["10"]),
        f(&full["median_abs_error"]),
    )
}

#[test]
fn robust_ranks_the_bundled_mlps_better_than_the_paper_within_its_budget() {
    for file in ["fmnist_mlp_mpi.csv", "fmnist_mlp_s31.csv"] {
        let (paper_stop, paper_regret, paper_median) = numbers(file, &[]);
        let (stop, regret, median) = numbers(file, &["--preset", "robust"]);
        assert!(
            regret < paper_regret - 0.2,
            "{file}: regret {regret} against the paper's {paper_regret}"
        );
        assert!(
            median < paper_median - 0.5,
            "{file}: median error {median} against the paper's {paper_median}"
        );
        assert!(
            stop <= paper_stop + 1.0,
            "{file}: {stop} epochs against the paper's {paper_stop}"
        );
        // Held while any of the interval reaches the cutoff, up to e_pred,
        // the same rank-aware stopping costs far more.
        let whole = [
            "--preset",
            "robust",
            "--select_stop_reach",
            "1",
            "--select_hold_reach",
            "1",
            "--select_hold_until",
            "1",
        ];
        let (whole_stop, _, _) = numbers(file, &whole);
        assert!(
            whole_stop > stop + 1.5,
            "{file}: {whole_stop} epochs on the whole interval, {stop} with the shares"
        );
    }
}

/// The networks that synchronous successive halving on the observed values
/// trains to `e_pred` = 20: rungs at 20/9 and 20/3 epochs (each network's first
/// observation at or after the rung), each keeping the networks at least as
/// good as the max(10, ceil(m/3))-th best of the m that reached it.
fn halving_finalists(file: &str) -> std::collections::BTreeSet<String> {
    let curves = common::bundled_curves(file);
    let mut alive: Vec<&(String, Vec<(f64, f64)>)> = curves.iter().collect();
    for rung in [20.0 / 9.0, 20.0 / 3.0] {
        let at = |points: &[(f64, f64)]| points.iter().find(|p| p.0 >= rung).unwrap().1;
        let mut values: Vec<f64> = alive.iter().map(|(_, p)| at(p)).collect();
        values.sort_by(|a, b| b.total_cmp(a));
        let keep = 10usize.max(values.len().div_ceil(3));
        if values.len() > keep {
            let threshold = values[keep - 1];
            alive.retain(|(_, p)| at(p) >= threshold);
        }
    }
    alive.iter().map(|(id, _)| id.clone()).collect()
}

#[test]
fn halving_trains_successive_halvings_finalists_and_ranks_them_first() {
    for file in ["fmnist_mlp_s67.csv", "fmnist_mlp_s79.csv"] {
        let d = common::replay_bundled(
            file,
            &[
                "--chance_level",
                "10",
                "--preset",
                "robust",
                "--select_halving",
                "3",
            ],
        );
        let trained: std::collections::BTreeSet<String> = d["per_network"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["stop"] == "reached_e_pred")
            .map(|n| n["id"].as_str().unwrap().to_string())
            .collect();
        // These files have no network that the late-bloomer rules keep past
        // a rung: Penguin's halving is halving's, decision for decision.
        assert_eq!(trained, halving_finalists(file), "{file}");
        assert!(trained.len() >= 10, "{file}: {} finalists", trained.len());
        let networks = d["per_network"].as_array().unwrap();
        let f = |v: &serde_json::Value| v.as_f64().unwrap();
        for n in networks.iter().filter(|n| n["stop"] != "reached_e_pred") {
            // The others stopped where they met a rung (epochs 2.5 and 7),
            // or at chance (the never-learner stop, after the late-bloomer
            // dial); halving stops nothing between rungs.
            let at_rung = [2.5, 7.0].contains(&f(&n["stop_epoch"]));
            assert!(at_rung || f(&n["prediction"]) <= 15.0, "{file}: {n}");
        }
        // The top 10 is picked among the finalists first, by their answers
        // (observed values at e_pred): regret@10 is theirs.
        let mut truths: Vec<f64> = networks.iter().map(|n| f(&n["observed"])).collect();
        truths.sort_by(|a, b| b.total_cmp(a));
        let mut picked: Vec<f64> = networks
            .iter()
            .filter(|n| n["stop"] == "reached_e_pred")
            .map(|n| f(&n["prediction"]))
            .collect();
        picked.sort_by(|a, b| b.total_cmp(a));
        let mean10 = |v: &[f64]| v[..10].iter().sum::<f64>() / 10.0;
        let finalists_regret = mean10(&truths) - mean10(&picked);
        assert!(
            (f(&d["full"]["regret"]["10"]) - finalists_regret).abs() < 1e-9,
            "{file}: {} against the finalists' {finalists_regret}",
            d["full"]["regret"]["10"]
        );
        // It ranks better than `robust` (0.32 against 1.07 on s67, 0.19
        // against 0.23 on s79), and better than the paper's method by more
        // than 0.2 (0.32 against 0.56 on s67, 0.19 against 1.19 on s79).
        let (_, paper_regret, _) = numbers(file, &[]);
        let (_, robust_regret, _) = numbers(file, &["--preset", "robust"]);
        let (stop, regret, median) =
            numbers(file, &["--preset", "robust", "--select_halving", "3"]);
        assert!(
            regret < robust_regret,
            "{file}: regret {regret} against robust's {robust_regret}"
        );
        assert!(
            regret < paper_regret - 0.2,
            "{file}: regret {regret} against the paper's {paper_regret}"
        );
        assert!(median < 2.0, "{file}: median error {median}");
        assert!(stop < 6.5, "{file}: {stop} epochs");
    }
}

/// The answer floor on the A4NN run's jumpy curves (in-sample: `robust` was
/// chosen on this run among others): no network stopped before `e_pred`
/// answers below the mean of its last N = 3 observed values, and the median
/// error falls well below what the same settings give without the floor
/// (0.86 against 1.28), at the same stops.
#[test]
fn the_answer_floor_keeps_early_answers_at_what_the_a4nn_networks_show() {
    let file = "a4nn_xfel_complete.csv";
    let a4nn = [
        "--preset",
        "robust",
        "--classes",
        "2",
        "--chance_level",
        "50",
        "--E",
        "1",
        "--x_shift",
        "-1",
        "--e_pred",
        "26",
    ];
    let with = common::replay_bundled(file, &a4nn);
    let without = common::replay_bundled(file, &[&a4nn[..], &["--answer_floor", "off"]].concat());
    let curves: std::collections::BTreeMap<String, Vec<(f64, f64)>> =
        common::bundled_curves(file).into_iter().collect();
    let f = |v: &serde_json::Value| v.as_f64().unwrap();
    let mut lifted = 0;
    let networks = with["per_network"].as_array().unwrap();
    let before = without["per_network"].as_array().unwrap();
    for (n, m) in networks.iter().zip(before) {
        assert_eq!(n["id"], m["id"]);
        if n["stop"] != "converged" {
            continue;
        }
        let stop = f(&n["stop_epoch"]);
        let seen: Vec<f64> = curves[n["id"].as_str().unwrap()]
            .iter()
            .filter(|p| p.0 <= stop)
            .map(|p| p.1)
            .collect();
        let last3 = &seen[seen.len() - 3..];
        let floor = last3.iter().sum::<f64>() / 3.0;
        assert!(f(&n["prediction"]) >= floor - 1e-9, "{n}: floor {floor}");
        if f(&n["prediction"]) > f(&m["prediction"]) + 1e-9 {
            lifted += 1;
        }
    }
    assert!(lifted >= 10, "only {lifted} answers lifted");
    let median = |d: &serde_json::Value| f(&d["full"]["median_abs_error"]);
    assert!(
        median(&with) < median(&without) - 0.3,
        "median error {} with the floor, {} without",
        median(&with),
        median(&without)
    );
    assert_eq!(
        with["full"]["mean_stop_epoch"],
        without["full"]["mean_stop_epoch"]
    );
}

/// `select_clear_observed` on MLPs s107 (in-sample: found on this search,
/// adopted on searches kept out of the repository, docs/research.md): one
/// network at about 55 % was stopped at epoch 6 as surely in the top 10,
/// answering 99.4 (it ends at 70.2); held until it shows it, it no longer
/// takes a place in the predicted top 10, which costs next to nothing.
#[test]
fn a_sure_pick_must_show_it_on_mlps_s107() {
    key_gain(
        "fmnist_mlp_s107.csv",
        "select_clear_observed",
        "off",
        1.0,
        0.25,
    );
}

/// `select_hold_observed = 8` on MLPs s89 (in-sample: the key was chosen on
/// the thirty bundled populations, among them this one, and adopted on
/// searches kept out of the repository, docs/research.md): networks among
/// the 8 that show the most, stopped before on a prediction a few points
/// too low, train on, and the predicted top 10 is much closer to the true
/// one for about a third of an epoch more per network.
#[test]
fn the_networks_that_show_the_most_are_held_on_mlps_s89() {
    key_gain("fmnist_mlp_s89.csv", "select_hold_observed", "0", 0.4, 0.5);
}

/// What one of `robust`'s keys buys on a bundled file: with `robust` as it
/// is, regret@10 lower by more than `gain` than with `key = off`, for at
/// most `cost` epochs more per network and a median error no worse than
/// 0.05 points.
fn key_gain(file: &str, key: &str, off: &str, gain: f64, cost: f64) {
    let (stop, regret, median) = numbers(file, &["--preset", "robust"]);
    let flag = format!("--{key}");
    let (stop_off, regret_off, median_off) = numbers(file, &["--preset", "robust", &flag, off]);
    assert!(
        regret < regret_off - gain,
        "{file}: regret {regret} with {key}, {regret_off} without"
    );
    assert!(
        stop <= stop_off + cost,
        "{file}: {stop} epochs against {stop_off}"
    );
    assert!(
        median <= median_off + 0.05,
        "{file}: median {median} against {median_off}"
    );
}
