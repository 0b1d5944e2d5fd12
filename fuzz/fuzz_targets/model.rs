//! A model file: parse (serde, JSON paths) then validate (`Network::new`). Any input must give a
//! model or a list of problems, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(model) = stockade::parse_model(text) {
        match stockade::Network::new(model) {
            Ok(_) => {}
            Err(e) => assert!(!e.problems.is_empty(), "a refusal names its problems"),
        }
    }
});
