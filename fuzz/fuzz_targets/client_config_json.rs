#![no_main]
//! Untrusted bytes into `msstore::fuzzing::client_config_json`: it must return, never panic or hang.

libfuzzer_sys::fuzz_target!(|data: &[u8]| msstore::fuzzing::client_config_json(data));
