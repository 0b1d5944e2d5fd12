//! The OR-Library p-median importer (graph, Floyd-Warshall distances).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(model) = stockade::import::orlib_pmed(text, "fuzz") {
        let _ = stockade::validate(&model);
    }
});
