//! Prints a seeded synthetic model: `cargo run --release -p stockade-benches --example synthetic
//! -- SITES DEMAND SCENARIOS [SEED] > model.json`.

use stockade_benches::{synthetic, Size};

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| {
            a.parse()
                .expect("whole numbers: SITES DEMAND SCENARIOS [SEED]")
        })
        .collect();
    let size = Size {
        sites: args.first().copied().unwrap_or(100),
        demand: args.get(1).copied().unwrap_or(200),
        scenarios: args.get(2).copied().unwrap_or(0),
    };
    let seed = args.get(3).copied().unwrap_or(7) as u64;
    let model = synthetic(size, seed);
    println!("{}", serde_json::to_string(&model).expect("serialise"));
}
