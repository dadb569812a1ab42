#![no_main]
//! Untrusted bytes into `msstore::fuzzing::store_id_key`: it must return, never panic or hang.

libfuzzer_sys::fuzz_target!(|data: &[u8]| msstore::fuzzing::store_id_key(data));
