//! `penguin tune`: leave-one-population-out choice of settings. The numbers it
//! reports for a held-out population must be what `penguin replay` prints for
//! the chosen setting on that population alone, and the choice must follow
//! the stated objective and budget.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("penguin-tune-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn penguin(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_penguin"))
        .args(args)
        .output()
        .expect("the penguin binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `penguin tune` with `--chance_level 10`, the grid file and a JSON report,
/// before the options and populations a test adds.
fn tune_args(grid: &Path, json: &Path) -> Vec<String> {
    let paths = [grid, json].map(|p| p.to_str().unwrap().to_string());
    let [grid, json] = paths;
    [
        "tune",
        "--chance_level",
        "10",
        "--grid",
        &grid,
        "--json",
        &json,
    ]
    .map(str::to_string)
    .to_vec()
}

/// The bundled CNN file, one population per seed (s7, s22).
fn cnn_by_seed() -> String {
    format!("{}@split=model_id:_", data("fmnist_random_cnn.csv"))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The CNN file's two seeds (s7, s22) and the MLP file as three populations,
/// with a small grid.
#[test]
fn held_out_numbers_are_the_replays_and_the_choice_follows_the_objective() {
    let dir = scratch("loo");
    let grid = dir.join("grid.txt");
    std::fs::write(
        &grid,
        "# a small grid\nN=2 t=0.15\nchance_patience=3 loss_patience=2 loss_min_delta=0.001\nselect_top=10\nalternatives=vap3 combine=mean\n",
    )
    .unwrap();
    let json = dir.join("tune.json");
    let conf = dir.join("chosen.conf");
    let mlp = data("fmnist_mlp_mpi.csv");
    let mut args = tune_args(&grid, &json);
    args.extend([
        "--out".to_string(),
        conf.to_str().unwrap().to_string(),
        "--threads".to_string(),
        "2".to_string(),
        cnn_by_seed(),
        mlp.clone(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, stdout, stderr) = penguin(&args);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("Leave one population out"), "{stdout}");
    let j = read_json(&json);
    assert_eq!(
        j["populations"],
        serde_json::json!(["s7", "s22", "FMNIST-MLP"])
    );
    let grid_rows = j["grid"].as_array().unwrap();
    assert_eq!(grid_rows.len(), 5, "the paper's method and the 4 lines");
    assert_eq!(grid_rows[0]["setting"], "paper");
    let budget = j["budget_epochs"].as_f64().unwrap();
    // Each held-out population: the chosen setting is the best eligible one
    // on the other two (recomputed here from the grid's numbers), and its
    // numbers there are the replay's of that setting on that population.
    let pops = ["s7", "s22", "FMNIST-MLP"];
    let score = |n: &Value| -> f64 {
        let med = n["median_abs_error"].as_f64().unwrap();
        let excess = (n["regret_at_10"].as_f64().unwrap()
            - n["successive_halving_regret_at_10"].as_f64().unwrap())
        .max(0.0);
        let cov = n["interval_coverage"].as_f64().unwrap_or(0.0);
        let lost =
            n["late_bloomers_lost"].as_f64().unwrap_or(0.0) / n["networks"].as_f64().unwrap();
        med + excess + 10.0 * ((0.8 - cov).max(0.0) + (cov - 0.97).max(0.0)) + 10.0 * lost
    };
    for (k, held) in j["leave_one_out"].as_array().unwrap().iter().enumerate() {
        assert_eq!(held["population"], pops[k]);
        let others: Vec<&str> = pops.iter().copied().filter(|p| *p != pops[k]).collect();
        let stop =
            |row: &Value, p: &str| row["populations"][p]["mean_stop_epoch"].as_f64().unwrap();
        let mut best: Option<(bool, f64, &str)> = None;
        for row in grid_rows {
            let eligible = others
                .iter()
                .all(|p| stop(row, p) <= stop(&grid_rows[0], p) + budget + 1e-9);
            let s = others
                .iter()
                .map(|p| score(&row["populations"][*p]))
                .sum::<f64>()
                / others.len() as f64;
            let better = match best {
                None => true,
                Some((e, b, _)) => (eligible && !e) || (eligible == e && s < b),
            };
            if better {
                best = Some((eligible, s, row["setting"].as_str().unwrap()));
            }
        }
        assert_eq!(
            held["chosen"].as_str(),
            best.map(|b| b.2),
            "held out {}",
            pops[k]
        );
        // The replay of the chosen setting on the held-out population alone.
        let setting = held["chosen"].as_str().unwrap();
        let one = dir.join(format!("{}.csv", pops[k]));
        // The MLP file whole, or the CNN file's rows of one seed.
        let (file, prefix) = if pops[k] == "FMNIST-MLP" {
            (mlp.clone(), String::from(","))
        } else {
            (data("fmnist_random_cnn.csv"), format!(",{}_", pops[k]))
        };
        let text = std::fs::read_to_string(&file).unwrap();
        let mut lines = text.lines();
        let mut out = format!("{}\n", lines.next().unwrap());
        for l in lines.filter(|l| l.contains(&prefix)) {
            out.push_str(l);
            out.push('\n');
        }
        std::fs::write(&one, out).unwrap();
        let rj = dir.join(format!("{}.json", pops[k]));
        let mut args: Vec<String> = vec![
            "replay".into(),
            one.to_str().unwrap().into(),
            "--no-group".into(),
            "--json".into(),
            rj.to_str().unwrap().into(),
            "--chance_level".into(),
            "10".into(),
            "--top".into(),
            "10".into(),
        ];
        if setting != "paper" {
            for kv in setting.split(' ') {
                args.push(format!("--set={kv}"));
            }
        }
        let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        let (ok, so, se) = penguin(&args);
        assert!(ok, "{so}\n{se}");
        let r = read_json(&rj);
        let m = r["datasets"].as_object().unwrap().values().next().unwrap()["full"].clone();
        let h = &held["held_out"];
        for (a, b) in [
            ("mean_stop_epoch", "/mean_stop_epoch"),
            ("median_abs_error", "/median_abs_error"),
            ("mae", "/mae"),
            ("regret_at_10", "/regret/10"),
            (
                "successive_halving_regret_at_10",
                "/successive_halving/10/regret",
            ),
            ("truncation_regret_at_10", "/truncation/regret/10"),
        ] {
            let want = m.pointer(b).and_then(Value::as_f64).unwrap();
            let got = h[a].as_f64().unwrap();
            assert!(
                (want - got).abs() < 1e-9,
                "{}: {a} {got} vs replay {want}",
                pops[k]
            );
        }
    }
    // The frontier on all populations: recomputed from the grid's numbers,
    // the budget each setting needs and its mean score; no setting beats a
    // row on both, every setting is matched by a row, and the choice is the
    // last row within the budget.
    let needed_and_score = |row: &Value| -> (f64, f64) {
        let needed = pops
            .iter()
            .map(|p| {
                row["populations"][p]["mean_stop_epoch"].as_f64().unwrap()
                    - grid_rows[0]["populations"][p]["mean_stop_epoch"]
                        .as_f64()
                        .unwrap()
            })
            .fold(f64::NEG_INFINITY, f64::max);
        let s = pops
            .iter()
            .map(|p| score(&row["populations"][*p]))
            .sum::<f64>()
            / pops.len() as f64;
        (needed, s)
    };
    let front = j["frontier"].as_array().unwrap();
    assert!(!front.is_empty());
    let rows: Vec<(f64, f64, &str)> = front
        .iter()
        .map(|f| {
            (
                f["budget_needed"].as_f64().unwrap(),
                f["score"].as_f64().unwrap(),
                f["setting"].as_str().unwrap(),
            )
        })
        .collect();
    for w in rows.windows(2) {
        assert!(w[0].0 < w[1].0 && w[0].1 > w[1].1, "{rows:?}");
    }
    for row in grid_rows {
        let (needed, s) = needed_and_score(row);
        assert!(
            rows.iter().any(|r| r.0 <= needed + 1e-9 && r.1 <= s + 1e-9),
            "{} ({needed}, {s}) is beaten by no frontier row: {rows:?}",
            row["setting"]
        );
        if let Some(r) = rows.iter().find(|r| r.2 == row["setting"]) {
            assert!((r.0 - needed).abs() < 1e-9 && (r.1 - s).abs() < 1e-9);
        }
    }
    let within = rows.iter().rev().find(|r| r.0 <= budget + 1e-9).unwrap();
    assert_eq!(j["chosen_on_all"]["setting"].as_str(), Some(within.2));
    // At every budget (each row's, between rows, below the paper's), the best
    // setting within it, recomputed from the grid, is the last row within it.
    let mut budgets: Vec<f64> = rows.iter().map(|r| r.0).collect();
    budgets.extend(rows.windows(2).map(|w| (w[0].0 + w[1].0) / 2.0));
    budgets.push(rows[0].0 - 1.0);
    for b in budgets {
        let best = grid_rows
            .iter()
            .map(|row| (needed_and_score(row), row["setting"].as_str().unwrap()))
            .filter(|((needed, _), _)| *needed <= b + 1e-9)
            .min_by(|x, y| x.0.1.total_cmp(&y.0.1).then(x.0.0.total_cmp(&y.0.0)));
        let last = rows.iter().rev().find(|r| r.0 <= b + 1e-9);
        assert_eq!(best.map(|x| x.1), last.map(|r| r.2), "budget {b}");
    }
    assert!(stdout.contains("What each budget buys"), "{stdout}");
    // The setting chosen on all populations, as a config file.
    let conf_text = std::fs::read_to_string(&conf).unwrap();
    let chosen = j["chosen_on_all"]["setting"].as_str().unwrap();
    for kv in chosen.split(' ').filter(|s| *s != "paper") {
        let (k, v) = kv.split_once('=').unwrap();
        assert!(conf_text.contains(&format!("{k} = {v}\n")), "{conf_text}");
    }
    assert!(stdout.contains("# config file"), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `penguin tune` on the eleven populations `robust` was chosen on (the CNN
/// file's two seeds, eight MLP searches, the A4NN run), with `grid_text` and
/// `extra` options: the setting chosen on all of them, as a configuration
/// (with `chance_level = 10`), and the JSON's budget.
fn tune_on_the_eleven(name: &str, grid_text: &str, extra: &[&str]) -> (penguin::Config, f64) {
    let dir = scratch(name);
    let grid = dir.join("grid.txt");
    std::fs::write(&grid, grid_text).unwrap();
    let json = dir.join("tune.json");
    let xfel = format!(
        "{}@E=1,x_shift=-1,e_pred=26,chance_level=50,classes=2",
        data("a4nn_xfel_complete.csv")
    );
    let mut args = tune_args(&grid, &json);
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend([cnn_by_seed(), xfel]);
    for f in [
        "fmnist_mlp_mpi.csv",
        "fmnist_mlp_s31.csv",
        "fmnist_mlp_s67.csv",
        "fmnist_mlp_s79.csv",
        "fmnist_mlp_adamw_cosine_s41.csv",
        "fmnist_mlp_adamw_cosine_s53.csv",
        "fmnist_mlp_adamw_cosine_s71.csv",
        "fmnist_mlp_adamw_cosine_s83.csv",
    ] {
        args.push(data(f));
    }
    let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let (ok, stdout, stderr) = penguin(&args);
    assert!(ok, "{stdout}\n{stderr}");
    let j = read_json(&json);
    assert_eq!(j["populations"].as_array().unwrap().len(), 11);
    assert_eq!(j["objective"], "balanced");
    let tuned = config_of_line(j["chosen_on_all"]["setting"].as_str().unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
    (tuned, j["budget_epochs"].as_f64().unwrap())
}

/// A grid line (`KEY=VALUE ...`, or `paper`) as a configuration, after
/// `chance_level = 10`.
fn config_of_line(line: &str) -> penguin::Config {
    let mut c = penguin::Config::default();
    c.set("chance_level", "10").unwrap();
    for kv in line.split_whitespace().filter(|kv| *kv != "paper") {
        let (k, v) = kv.split_once('=').unwrap();
        c.set(k, v).unwrap();
    }
    c
}

/// `robust` with `chance_level = 10` and the given keys after it.
fn robust_with(keys: &[(&str, &str)]) -> penguin::Config {
    let mut c = penguin::Config::default();
    c.set("preset", "robust").unwrap();
    c.set("chance_level", "10").unwrap();
    for (k, v) in keys {
        c.set(k, v).unwrap();
    }
    c
}

/// `robust` is what `penguin tune` chose with its defaults (objective
/// `balanced`, `--budget 1`) on the eleven bundled populations
/// (docs/research.md), but for `select_hold_observed`, which came later (the
/// next test). The whole built-in grid takes about an hour on 2 cores;
/// here the grid is the paper's method, `robust`'s other keys without
/// rank-aware stopping and with each rank-aware variant of the built-in grid
/// and its successive halving, each with and without the answer floor. If
/// `robust` is the built-in grid's choice it must also be this grid's, so this
/// fails when a change of its keys, the choice rule or the bundled curves lets
/// one of these thirteen beat it (not when
/// another setting of the built-in grid would: that takes the whole grid,
/// research.md's command).
#[test]
fn robust_is_tunes_choice_among_its_rank_aware_variants() {
    // `select_clear_observed` came after the choice and changes no median
    // error or regret on these eleven (docs/research.md): it is part of
    // every line, as of `robust`'s.
    let base = "alternatives=vap3 combine=mean_fitted chance_patience=3 loss_patience=2 \
                loss_min_delta=0.001 chance_wait=0.2 select_clear_observed=on";
    let rank = [
        "",
        " select_top=10",
        " select_top=10 select_stop_reach=0.75 select_hold_reach=0.5 select_hold_until=0.6",
        " select_top=10 select_stop_reach=0.75 select_hold_reach=0.25 select_hold_until=0.6",
        " select_top=10 select_hold_reach=0.25 select_hold_until=0.6",
        " select_top=10 select_halving=3",
    ];
    // Each with and without the answer floor.
    let grid_text: String = rank
        .iter()
        .flat_map(|r| {
            [
                format!("{base}{r}\n"),
                format!("{base}{r} answer_floor=on\n"),
            ]
        })
        .collect();
    let (tuned, budget) = tune_on_the_eleven("robust", &grid_text, &[]);
    assert_eq!(budget, 1.0);
    // The chosen keys are the preset's, value for value.
    assert_eq!(
        tuned.pairs(),
        robust_with(&[("select_hold_observed", "0")]).pairs(),
        "tune chose {}, not what robust sets",
        tuned.to_text()
    );
}

/// `select_hold_observed = 8` came after that choice, adopted by a rule on
/// searches kept out of the repository (docs/research.md). It trains up to
/// 1.55 epochs per network more than the paper's method on these eleven, so
/// `penguin tune` weighs it with `--budget 2`: it chooses `robust` with it
/// over `robust` without it.
#[test]
fn tune_chooses_robusts_hold_on_what_networks_show_with_a_budget_of_2() {
    let grid = "preset=robust select_hold_observed=0\npreset=robust\n";
    let (tuned, budget) = tune_on_the_eleven("hold_observed", grid, &["--budget", "2"]);
    assert_eq!(budget, 2.0);
    assert_eq!(tuned.select_hold_observed, 8, "{}", tuned.to_text());
    assert_eq!(tuned.pairs(), robust_with(&[]).pairs());
}

/// `robust`, value for value, is one line of the built-in grid, so that
/// `penguin tune` with its defaults can weigh what the project recommends
/// against the rest on a user's own curves.
#[test]
fn robust_is_a_line_of_the_built_in_grid() {
    let (ok, grid, stderr) = penguin(&["tune", "--print-grid"]);
    assert!(ok, "{stderr}");
    let robust = robust_with(&[]).pairs();
    let lines: Vec<&str> = grid
        .lines()
        .filter(|line| config_of_line(line).pairs() == robust)
        .collect();
    assert_eq!(lines.len(), 1, "{grid}");
}

#[test]
fn mistakes_are_usage_errors() {
    for args in [
        &["tune"][..],
        &["tune", "only_one.csv"],
        &["tune", "a.csv", "b.csv", "--objective", "best"],
        &["tune", "a.csv@nope=1", "b.csv"],
    ] {
        let (ok, _, stderr) = penguin(args);
        assert!(!ok, "{args:?}");
        assert!(stderr.contains("penguin: error:"), "{args:?}: {stderr}");
        assert!(
            stderr.contains("'penguin tune --help'"),
            "{args:?}: {stderr}"
        );
    }
    let (ok, _, stderr) = penguin(&["tune", "a.csv", "b.csv", "--budget", "inf"]);
    assert!(!ok && stderr.contains("--budget 'inf'"), "{stderr}");
    let (ok, stdout, _) = penguin(&["tune", "--help"]);
    assert!(ok && stdout.starts_with("Usage: penguin tune"), "{stdout}");
    let (ok, stdout, _) = penguin(&["tune", "--print-grid"]);
    assert!(ok && stdout.lines().next() == Some("paper"), "{stdout}");
}

/// A small population file: `n` networks, one observation per epoch to 12.
fn small_population(dir: &Path, name: &str, n: usize, seed: f64) -> String {
    let mut s = String::from("model_id,epoch,val_acc,val_loss\n");
    for k in 0..n {
        for e in 1..=12 {
            let top = 60.0 + 2.5 * k as f64 + seed;
            let acc = top - 45.0 * (0.7 + 0.01 * k as f64).powi(e) + 0.3 * (e as f64 * seed).sin();
            s += &format!("{name}{k},{e},{acc},{}\n", 2.0 / e as f64);
        }
    }
    let p = dir.join(format!("{name}.csv"));
    std::fs::write(&p, s).unwrap();
    p.to_str().unwrap().to_string()
}

/// With E = 1 and e_pred = 10, the built-in grid's halving lines with N = 5
/// leave no rung after the 5-epoch warm-up: they are left out and listed,
/// and tune runs the rest. The same line in a grid file is an error.
#[test]
fn built_in_settings_that_do_not_hold_are_left_out_and_listed() {
    let dir = scratch("left_out");
    let a = small_population(&dir, "a", 14, 1.0);
    let b = small_population(&dir, "b", 14, 2.0);
    let json = dir.join("tune.json");
    let keys = [
        "tune",
        "--chance_level",
        "10",
        "--E",
        "1",
        "--e_pred",
        "10",
        "--threads",
        "2",
        "--json",
        json.to_str().unwrap(),
        &a,
        &b,
    ];
    let (ok, stdout, stderr) = penguin(&keys);
    assert!(ok, "{stdout}\n{stderr}");
    let (_, grid, _) = penguin(&["tune", "--print-grid"]);
    let halving_n5: Vec<&str> = grid
        .lines()
        .filter(|l| l.contains("select_halving") && l.contains("N=5"))
        .collect();
    assert_eq!(halving_n5.len(), 24, "{grid}");
    assert!(
        stdout.contains("24 settings of the built-in grid do not hold on every population"),
        "{stdout}"
    );
    let j = read_json(&json);
    let left: Vec<&str> = j["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["setting"].as_str().unwrap())
        .collect();
    assert_eq!(left, halving_n5);
    assert!(
        j["left_out"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("0 rungs")
    );
    assert_eq!(
        j["grid"].as_array().unwrap().len(),
        grid.lines().count() - 24
    );
    // The halving lines with N = 3 hold (rung at 10 / 3 after 3 epochs) and ran.
    assert!(j["grid"].as_array().unwrap().iter().any(|g| {
        let s = g["setting"].as_str().unwrap();
        s.contains("select_halving") && !s.contains("N=5")
    }));
    // Only halving is left out so: without --chance_level the chance rules
    // do not hold either, and that is the user's mistake to hear about.
    let (ok, _, stderr) = penguin(&["tune", "--E", "1", "--e_pred", "10", &a, &b]);
    assert!(!ok && stderr.contains("chance"), "{stderr}");
    // A grid file is the user's own: the same line there is an error.
    let file = dir.join("grid.txt");
    std::fs::write(&file, format!("{}\n", halving_n5[0])).unwrap();
    let mut own: Vec<&str> = keys[..keys.len() - 4].to_vec();
    own.extend(["--grid", file.to_str().unwrap(), &a, &b]);
    let (ok, _, stderr) = penguin(&own);
    assert!(!ok && stderr.contains("0 rungs"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
