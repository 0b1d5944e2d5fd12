//! The JSON request bodies of the REST API, through the same functions the handlers call before
//! anything is stored or solved: `POST /v1/jobs`, `/v1/solve`, `/v1/validate`, `/v1/keys`.
//! The first byte picks the route; the rest is the body.
#![no_main]
use libfuzzer_sys::fuzz_target;
use stockade_server::api::{
    check_job_request, check_key_request, check_solve_request, parse_json_body, validation_problems,
};
use stockade_server::config::ServerConfig;

fuzz_target!(|data: &[u8]| {
    let Some((&route, body)) = data.split_first() else {
        return;
    };
    let config = ServerConfig {
        workers: 1,
        ..ServerConfig::default()
    };
    let Ok(value) = parse_json_body(body) else {
        return;
    };
    let refused = match route % 4 {
        0 => check_job_request(value, &config).err(),
        1 => check_solve_request(value, &config).err(),
        2 => validation_problems(&value, &config.limits).err(),
        _ => check_key_request(value).err(),
    };
    if let Some(e) = refused {
        // A bad body is the caller's fault: 4xx, never a 5xx.
        let (status, _) = e.status_and_code();
        assert!(status.is_client_error(), "{status} for a request body: {e}");
    }
});
