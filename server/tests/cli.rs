//! The command line end to end: exit codes, field-naming errors, the import | solve pipe.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn stockade(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stockade"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stockade");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().expect("wait")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The JSON a run printed; the run must have succeeded (else its stderr is the failure).
fn json_of(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn import_pipe_solve_gives_the_published_optimum() {
    let model = stockade(
        &[
            "import",
            "orlib-cap",
            "../shared/benchmarks/orlib-cap/cap44.txt",
        ],
        None,
    );
    assert!(model.status.success(), "{}", text(&model.stderr));
    let out = stockade(&["solve", "-", "--json"], Some(&text(&model.stdout)));
    let v = json_of(&out);
    assert_eq!(v["status"], "optimal");
    // cap44 published optimum (DEV-OPTIMA.md): 1235500.450
    let obj = v["objective"].as_f64().expect("objective");
    assert!((obj - 1_235_500.45).abs() / 1_235_500.45 < 1e-6, "{obj}");
    for key in ["best_bound", "mip_gap", "runtime_s"] {
        assert!(v[key].is_number(), "{key}");
    }
    let site = &v["sites"][0];
    for key in ["id", "open", "modules", "capacity"] {
        assert!(!site[key].is_null(), "{key}");
    }
}

#[test]
fn capa_needs_a_capacity() {
    let out = stockade(
        &[
            "import",
            "orlib-cap",
            "../shared/benchmarks/orlib-cap/capa.txt",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--capacity"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn validate_exit_codes() {
    let good = r#"{"materials":[{"id":"m"}],"countries":[{"code":"A"}],
        "sites":[{"id":"s","country":"A","output":"m","module_capacity":1,"max_modules":1}],
        "demand":[{"id":"d","country":"A","material":"m","demand":1}],
        "routes":[{"from":"s","to":"d"}]}"#;
    let out = stockade(&["validate", "-"], Some(good));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    let bad = good.replace(r#""module_capacity":1"#, r#""module_capacity":-5"#);
    let out = stockade(&["validate", "-"], Some(&bad));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("sites[0].module_capacity (s): must be > 0, got -5"),
        "{}",
        text(&out.stdout)
    );

    let out = stockade(&["solve", "-"], Some(&bad));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("sites[0].module_capacity"));

    let out = stockade(&["validate", "-"], Some("{not json"));
    assert_eq!(out.status.code(), Some(1));

    let out = stockade(&["validate"], None);
    assert_eq!(out.status.code(), Some(2), "usage error");
    let out = stockade(&["solve", "no/such/file.json"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no/such/file.json"));
}

#[test]
fn schema_is_a_json_schema_of_the_model() {
    let out = stockade(&["schema"], None);
    let v = json_of(&out);
    assert_eq!(v["title"], "Model");
    assert!(v["properties"]["sites"].is_object());
    assert_eq!(v["additionalProperties"], false);
}

#[test]
fn default_model_solves_and_reads_like_a_plan() {
    let out = stockade(&["solve", "models/rare-earths.json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(report.contains("status      optimal"), "{report}");
    assert!(report.contains("sites open"));
    assert!(report.contains("policies"));
}

#[test]
fn plan_out_then_evaluate_on_sampled_scenarios() {
    let dir = std::env::temp_dir().join(format!("stockade-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let plan = dir.join("plan.json");
    let plan_arg = plan.to_str().expect("utf-8 path");
    let out = stockade(
        &[
            "solve",
            "models/rare-earths.json",
            "--plan-out",
            plan_arg,
            "--json",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan).expect("plan written"))
            .expect("plan json");
    assert!(saved["sites"]["mp_mountain_pass"]["open"]
        .as_bool()
        .expect("open flag"));

    let out = stockade(
        &[
            "evaluate",
            "models/rare-earths.json",
            plan_arg,
            "--scenarios",
            "300",
            "--seed",
            "5",
            "--json",
        ],
        None,
    );
    let e = json_of(&out);
    assert_eq!(e["scenarios"], 300);
    assert_eq!(e["failed"].as_array().map(Vec::len), Some(0));
    let availability = e["total"]["availability"].as_f64().expect("availability");
    assert!((0.0..=1.0).contains(&availability));
    assert!(e["worst"].as_array().is_some_and(|w| w.len() == 10));

    // The same seed gives the same answer; the text report names the worst scenarios.
    let again = stockade(
        &[
            "evaluate",
            "models/rare-earths.json",
            plan_arg,
            "--scenarios",
            "300",
            "--seed",
            "5",
            "--json",
        ],
        None,
    );
    let e2: serde_json::Value = serde_json::from_slice(&again.stdout).expect("json");
    assert_eq!(e["expected_cost"], e2["expected_cost"]);
    let report = stockade(
        &[
            "evaluate",
            "models/rare-earths.json",
            plan_arg,
            "--scenarios",
            "50",
        ],
        None,
    );
    assert!(text(&report.stdout).contains("worst scenarios"));

    // A plan that names a site the model lacks is an input error naming it.
    std::fs::write(
        &plan,
        r#"{"sites": {"atlantis": {"open": true, "modules": 1}}}"#,
    )
    .expect("write");
    let out = stockade(
        &[
            "evaluate",
            "models/rare-earths.json",
            plan_arg,
            "--scenarios",
            "5",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("plan.sites.atlantis"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn survivability_and_sampling_from_the_command_line() {
    let out = stockade(
        &[
            "solve",
            "models/rare-earths.json",
            "--survive",
            "1",
            "--json",
        ],
        None,
    );
    let v = json_of(&out);
    assert_eq!(v["survivability"]["k"], 1);
    assert_eq!(v["status"], "optimal");

    let out = stockade(
        &[
            "solve",
            "models/rare-earths.json",
            "--sample",
            "40",
            "--json",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["scenarios"].as_array().map(Vec::len), Some(40));

    let out = stockade(
        &["solve", "models/rare-earths.json", "--saa", "3:x:10"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--saa"));
}

#[test]
fn share_briefs_the_allied_example_and_its_json_holds_together() {
    let out = stockade(
        &["share", "models/allied-stockpile.json", "--threads", "2"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    for heading in [
        "JOINT STOCKPILE BRIEFING",
        "1. THE JOINT PLAN (optimal)",
        "2. WHAT EACH PARTY PAYS (headline division: shapley)",
        "3. THE DIVISIONS SIDE BY SIDE",
        "4. IS THERE A STABLE DEAL? (the core)",
        "5. WHAT COOPERATION IS WORTH",
    ] {
        assert!(report.contains(heading), "{heading}\n{report}");
    }
    let out = stockade(
        &[
            "share",
            "models/allied-stockpile.json",
            "--rule",
            "nucleolus",
            "--json",
        ],
        None,
    );
    let r = json_of(&out);
    assert_eq!(r["rule"], "nucleolus");
    let parties = r["parties"].as_array().unwrap();
    assert_eq!(parties.len(), 4);
    let coalitions = r["coalitions"].as_array().unwrap();
    assert_eq!(coalitions.len(), 15);
    assert!(coalitions.iter().all(|c| c["status"] == "optimal"));
    let joint = r["joint"]["cost"].as_f64().unwrap();
    let tol = 1e-6 * joint;
    // Every division divides the joint cost.
    for a in r["allocations"].as_array().unwrap() {
        let sum: f64 = a["cost"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .sum();
        assert!(
            (sum - joint).abs() <= tol,
            "{}: {sum} vs {joint}",
            a["rule"]
        );
    }
    // The gain is the stand-alone total minus the joint cost, and each party's savings are its
    // stand-alone cost minus its allocation.
    let alone: f64 = parties
        .iter()
        .map(|p| p["stand_alone"].as_f64().unwrap())
        .sum();
    assert!((r["cooperation_gain"].as_f64().unwrap() - (alone - joint)).abs() <= tol);
    for p in parties {
        let s = p["stand_alone"].as_f64().unwrap() - p["allocated"].as_f64().unwrap();
        assert!((p["savings"].as_f64().unwrap() - s).abs() <= tol);
    }
    // A non-empty core holds the nucleolus; the grand coalition is the joint plan.
    if r["core"]["nonempty"] == true {
        let nu = r["allocations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["rule"] == "nucleolus")
            .unwrap();
        assert_eq!(nu["in_core"], true);
    }
    let grand = coalitions.iter().find(|c| c["mask"] == 15).unwrap();
    assert_eq!(grand["cost"].as_f64().unwrap(), joint);
    // The agreement's fairness bound holds in the joint plan.
    for p in parties {
        assert!(p["shortfall_joint"].as_f64().unwrap() <= 0.05 + 1e-6, "{p}");
    }
}

#[test]
fn share_refuses_bad_party_definitions_with_their_paths() {
    let mut model: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../models/allied-stockpile.json"
        ))
        .unwrap(),
    )
    .unwrap();
    model["parties"][1]["countries"] = serde_json::json!(["JP", "US"]);
    model["depots"][2]["party"] = serde_json::json!("ROK");
    let out = stockade(&["share", "-"], Some(&model.to_string()));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("parties[1].countries[1] (JP): country `US` is already claimed by party `US`"),
        "{err}"
    );
    assert!(
        err.contains("depots[2].party (kr_komir): unknown party `ROK`"),
        "{err}"
    );
    // A model without parties has nothing to share.
    let out = stockade(&["share", "models/rare-earths.json"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("parties"),
        "{}",
        text(&out.stderr)
    );
}

/// `--method benders` from the command line reaches the stoch-cflp reference optimum at S = 200
/// (shared/benchmarks/stoch-cflp/README.md) and says which method ran; `--method extensive` on the
/// same model says so too.
#[test]
fn method_benders_from_the_command_line() {
    let model = stockade(
        &[
            "import",
            "orlib-cap",
            "../shared/benchmarks/orlib-cap/cap71.txt",
            "--failures",
            "../shared/benchmarks/stoch-cflp/scenarios-cap71-S200.txt",
        ],
        None,
    );
    assert!(model.status.success(), "{}", text(&model.stderr));
    let model = text(&model.stdout);
    let out = stockade(
        &["solve", "-", "--method", "benders", "--json"],
        Some(&model),
    );
    let v = json_of(&out);
    assert_eq!(v["status"], "optimal");
    assert_eq!(v["method"], "benders");
    assert!(v["decomposition"]["cuts"].as_u64().unwrap() > 0);
    let obj = v["objective"].as_f64().expect("objective");
    assert!(
        (obj - 946_449.461_187_5).abs() / 946_449.461_187_5 < 1e-6,
        "{obj}"
    );

    let out = stockade(&["solve", "-", "--method", "benders"], Some(&model));
    assert!(
        text(&out.stdout).contains("method      benders"),
        "{}",
        text(&out.stdout)
    );

    let bad = stockade(&["solve", "-", "--method", "dantzig"], Some(&model));
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("--method"),
        "{}",
        text(&bad.stderr)
    );
}

/// Three sites a (100 t, route cost 1, open 300), b (60 t, 3, open 100), c (80 t, 2, open 200)
/// serve one demand of 100 t at a penalty of 20/t. By hand, with every site open:
/// lose a -> c 80 x 2 + b 20 x 3 = 220; lose b or c -> a 100 x 1 = 100 (the intact cost);
/// lose a + c -> b 60 x 3 + 40 x 20 = 980 (the worst pair, 40 t short).
/// Protecting a leaves 100 as the worst single loss. Robust against one site loss: every plan
/// by hand (first stage + worst loss): abc 600 + 220 = 820, ab 400 + 980, ac 500 + 560,
/// bc 300 + 980, a 300 + 2000, b 100 + 2000, c 200 + 2000, none 2000: abc at 820.
const THREE_SITES: &str = r#"{
  "materials": [{"id": "m"}],
  "countries": [{"code": "X"}],
  "sites": [
    {"id": "a", "country": "X", "output": "m", "module_capacity": 100, "max_modules": 1, "open_cost": 300},
    {"id": "b", "country": "X", "output": "m", "module_capacity": 60, "max_modules": 1, "open_cost": 100},
    {"id": "c", "country": "X", "output": "m", "module_capacity": 80, "max_modules": 1, "open_cost": 200}
  ],
  "demand": [{"id": "d", "country": "X", "material": "m", "demand": 100, "shortfall_penalty": 20}],
  "routes": [
    {"from": "a", "to": "d", "unit_cost": 1},
    {"from": "b", "to": "d", "unit_cost": 3},
    {"from": "c", "to": "d", "unit_cost": 2}
  ]
}"#;

const ALL_OPEN: &str = r#"{"sites": {"a": {"open": true, "modules": 1},
  "b": {"open": true, "modules": 1}, "c": {"open": true, "modules": 1}}}"#;

fn temp_files(tag: &str) -> (String, String) {
    let dir = std::env::temp_dir();
    let model = dir.join(format!(
        "stockade-cli-{tag}-{}-model.json",
        std::process::id()
    ));
    let plan = dir.join(format!(
        "stockade-cli-{tag}-{}-plan.json",
        std::process::id()
    ));
    std::fs::write(&model, THREE_SITES).expect("write model");
    std::fs::write(&plan, ALL_OPEN).expect("write plan");
    (model.display().to_string(), plan.display().to_string())
}

#[test]
fn worst_case_fortify_and_robust_solve_end_to_end() {
    let (model, plan) = temp_files("worst");
    let out = stockade(
        &[
            "worst-case",
            &model,
            &plan,
            "--k",
            "2",
            "--targets",
            "sites",
            "--json",
        ],
        None,
    );
    let v = json_of(&out);
    assert_eq!(v["status"], "optimal");
    assert!(
        (v["cost"].as_f64().expect("present") - 980.0).abs() < 1e-6,
        "{v}"
    );
    assert!((v["shortfall_t"].as_f64().expect("present") - 40.0).abs() < 1e-6);
    assert!((v["base_cost"].as_f64().expect("present") - 100.0).abs() < 1e-6);
    let mut lost: Vec<&str> = v["lost"]
        .as_array()
        .expect("present")
        .iter()
        .map(|e| e["id"].as_str().expect("present"))
        .collect();
    lost.sort();
    assert_eq!(lost, ["a", "c"]);
    let spof = &v["single_points_of_failure"][0];
    assert_eq!(spof["element"]["id"], "a");
    assert!((spof["cost"].as_f64().expect("present") - 220.0).abs() < 1e-6);

    // Lost for half the year, a keeps 50 t: a 50 x 1 + c 50 x 2 = 150, the worst single loss.
    let out = stockade(
        &[
            "worst-case",
            &model,
            &plan,
            "--targets",
            "sites",
            "--duration",
            "0.5",
            "--json",
        ],
        None,
    );
    let v = json_of(&out);
    assert!(
        (v["cost"].as_f64().expect("cost") - 150.0).abs() < 1e-6,
        "{v}"
    );
    let out = stockade(&["worst-case", &model, &plan, "--duration", "1.5"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--duration"),
        "{}",
        text(&out.stderr)
    );

    let human = stockade(&["worst-case", &model, &plan, "--targets", "sites"], None);
    assert!(human.status.success(), "{}", text(&human.stderr));
    assert!(text(&human.stdout).contains("single points of failure"));

    let out = stockade(
        &[
            "fortify",
            &model,
            &plan,
            "--k",
            "1",
            "--protect",
            "1",
            "--targets",
            "sites",
            "--json",
        ],
        None,
    );
    let v = json_of(&out);
    assert_eq!(v["status"], "optimal");
    assert_eq!(v["protected"][0]["id"], "a");
    assert!(
        (v["upper_bound"].as_f64().expect("present") - 100.0).abs() < 1e-6,
        "{v}"
    );
    assert!((v["unprotected_worst"].as_f64().expect("present") - 220.0).abs() < 1e-6);
    assert!(text(&out.stderr).contains("gap"), "progress on stderr");

    let out = stockade(
        &[
            "solve",
            &model,
            "--robust-k",
            "1",
            "--targets",
            "sites",
            "--json",
        ],
        None,
    );
    let v = json_of(&out);
    assert_eq!(v["status"], "optimal");
    assert!(
        (v["upper_bound"].as_f64().expect("present") - 820.0).abs() < 1e-6,
        "{v}"
    );
    assert!(
        text(&out.stderr).contains("iteration 1"),
        "gap per iteration"
    );
    let _ = std::fs::remove_file(&model);
    let _ = std::fs::remove_file(&plan);
}

#[test]
fn worst_case_input_errors_name_the_field() {
    let (model, plan) = temp_files("bad");
    let out = stockade(
        &["worst-case", &model, &plan, "--targets", "sites,mines"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--targets"),
        "{}",
        text(&out.stderr)
    );
    let out = stockade(&["fortify", &model, &plan, "--budget=-1"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--budget"),
        "{}",
        text(&out.stderr)
    );
    let out = stockade(&["fortify", &model, &plan], None);
    assert_eq!(
        out.status.code(),
        Some(2),
        "--protect or --budget is required"
    );
    let out = stockade(
        &["solve", &model, "--robust-k", "1", "--sample", "10"],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "robust siting does not combine with sampling"
    );
    let _ = std::fs::remove_file(&model);
    let _ = std::fs::remove_file(&plan);
}

/// The README's single points of failure of models/rare-earths.json: the plan from `solve`,
/// then `worst-case --k 1`; the first rank is the Chinese separation slice, 8,010 t/yr short.
#[test]
fn readme_single_points_of_failure_of_rare_earths() {
    let plan =
        std::env::temp_dir().join(format!("stockade-cli-re-{}-plan.json", std::process::id()));
    let plan = plan.display().to_string();
    let out = stockade(
        &["solve", "models/rare-earths.json", "--plan-out", &plan],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = stockade(
        &[
            "worst-case",
            "models/rare-earths.json",
            &plan,
            "--k",
            "1",
            "--json",
        ],
        None,
    );
    let v = json_of(&out);
    let first = &v["single_points_of_failure"][0];
    assert_eq!(first["element"]["id"], "cn_sep");
    assert!((first["shortfall_t"].as_f64().expect("t") - 8010.0).abs() < 1e-3);
    assert_eq!(first["priority1_shortfall_t"].as_f64(), Some(0.0));
    let _ = std::fs::remove_file(&plan);
}

#[test]
fn sweep_writes_csv_and_json_with_the_same_answers_as_solve() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("sweep.csv");
    let out = stockade(
        &[
            "sweep",
            "models/rare-earths.json",
            "--set",
            "policies.country_share.cap=0.42:0.30:0.06",
            "--jobs",
            "2",
            "--csv",
            csv.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.starts_with("3 variants, 3 with a plan"), "{table}");
    let rows = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = rows.lines().collect();
    assert_eq!(lines.len(), 4, "{rows}");
    assert!(lines[0].starts_with("policies.country_share.cap,index,status,objective"));
    // Each row's objective is what `stockade solve` finds for that cap.
    for line in &lines[1..] {
        let cells: Vec<&str> = line.split(',').collect();
        let cap: f64 = cells[0].parse().unwrap();
        let objective: f64 = cells[3].parse().unwrap();
        let mut model: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../models/rare-earths.json"
            ))
            .unwrap(),
        )
        .unwrap();
        model["policies"]["country_share"]["cap"] = serde_json::json!(cap);
        let solved = stockade(&["solve", "-", "--json"], Some(&model.to_string()));
        let solved: serde_json::Value = serde_json::from_slice(&solved.stdout).unwrap();
        let alone = solved["objective"].as_f64().unwrap();
        assert!(
            (objective - alone).abs() <= 1e-6 * alone.abs(),
            "cap {cap}: {objective} vs {alone}"
        );
    }
    let json = stockade(
        &[
            "sweep",
            "models/rare-earths.json",
            "--set",
            "depots[jp_jogmec].capacity=0,1000",
            "--json",
            "--cold",
        ],
        None,
    );
    assert!(json.status.success(), "{}", text(&json.stderr));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["variants"].as_array().unwrap().len(), 2);
    assert_eq!(report["warm_start"], false);
}

#[test]
fn sweep_names_a_bad_path_and_frontier_reports_its_levels() {
    let bad = stockade(
        &[
            "sweep",
            "models/rare-earths.json",
            "--set",
            "sites[atlantis].max_modules=1:3:1",
        ],
        None,
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("sites[atlantis].max_modules: no element of `sites`"),
        "{}",
        text(&bad.stderr)
    );
    let usage = stockade(&["sweep", "models/rare-earths.json"], None);
    assert_eq!(usage.status.code(), Some(2));

    let out = stockade(
        &[
            "frontier",
            "models/rare-earths.json",
            "--resilience",
            "expected_shortfall",
            "--points",
            "4",
            "--json",
        ],
        None,
    );
    let report = json_of(&out);
    let points = report["points"].as_array().unwrap();
    assert_eq!(points.len(), 4);
    // The cost-optimal end carries the plain solve's expected shortfall: 400.5 t/yr (the
    // Chinese embargo's 8010 t at p = 0.05; see `stockade solve models/rare-earths.json`).
    assert!((report["cost_optimal_level"].as_f64().unwrap() - 400.5).abs() < 1e-6);
    let costs: Vec<f64> = points.iter().map(|p| p["cost"].as_f64().unwrap()).collect();
    assert!(
        costs.windows(2).all(|w| w[1] >= w[0] - 1e-6 * w[0]),
        "{costs:?}"
    );
    let csv = stockade(
        &[
            "frontier",
            "models/rare-earths.json",
            "--resilience",
            "nk",
            "--points",
            "2",
            "--csv",
            "-",
        ],
        None,
    );
    assert!(csv.status.success(), "{}", text(&csv.stderr));
    assert!(text(&csv.stdout).starts_with("level,status,cost,resilience,dominated,knee"));
}
