//! HiGHS sizes its scheduler once, on the first run that needs it, and refuses a later run whose
//! `threads` differs. A sweep's worker threads ask for one thread each; a plain solve on another
//! thread asks for none; a later one-thread solve there must still run (regression: it ended
//! `unknown` before). Its own test binary, so that no other test has sized the scheduler first.

use stockade::{Settings, Status};

fn model() -> stockade::Model {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../models/rare-earths.json"
    ))
    .expect("model");
    stockade::parse_model(&text).expect("parse")
}

#[test]
fn one_thread_solves_run_wherever_the_scheduler_was_sized() {
    let one = Settings {
        threads: Some(1),
        ..Settings::default()
    };
    let worker = std::thread::spawn({
        let one = one.clone();
        move || stockade::solve(model(), &one).expect("solve").status
    });
    assert_eq!(worker.join().expect("worker"), Status::Optimal);
    let default = stockade::solve(model(), &Settings::default()).expect("solve");
    assert_eq!(default.status, Status::Optimal);
    let again = stockade::solve(model(), &one).expect("solve");
    assert_eq!(again.status, Status::Optimal, "{}", again.solver_detail);
}
