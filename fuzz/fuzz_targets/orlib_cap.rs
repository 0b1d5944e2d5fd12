//! The OR-Library `cap` importer, with and without failure scenarios; an imported model must
//! pass validation or be refused with problems, never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use stockade::import::{orlib_cap, CapOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first line after a `---` separator, when present, is read as a failure-scenario file.
    let (main, failures) = match text.split_once("\n---\n") {
        Some((m, f)) => (m, Some(f.to_string())),
        None => (text, None),
    };
    for single_source in [false, true] {
        let opts = CapOptions {
            capacity: Some(1000.0),
            single_source,
            failures: failures.clone(),
        };
        if let Ok(model) = orlib_cap(main, "fuzz", &opts) {
            let _ = stockade::validate(&model);
        }
    }
});
