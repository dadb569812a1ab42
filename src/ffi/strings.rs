//! Strings and structs crossing the boundary.
//!
//! In: NUL-terminated UTF-8, bounded (`MAX_STR`, `MAX_JSON`); NULL, bad UTF-8 and oversize each
//! have their own code. Out: `CString`s owned by a result handle ([`Arena`]), or copied into a
//! caller buffer with a needed-size query ([`copy_to_buffer`]).

use super::types::{msstore_result, Versioned};
use super::versions::{self, StructVersions};
use crate::log::{log_at, Level};
use std::ffi::{c_char, CStr, CString};

/// Longest ordinary string argument (keys are a few KiB).
pub(crate) const MAX_STR: usize = 64 * 1024;
/// Longest JSON configuration.
pub(crate) const MAX_JSON: usize = 1024 * 1024;
/// Most product ids in one query.
pub(crate) const MAX_PRODUCTS: usize = 1000;

/// Borrows a NUL-terminated UTF-8 string.
///
/// # Safety
/// `p` is NULL or points to memory readable up to its NUL terminator or `max` bytes.
pub(crate) unsafe fn in_str<'a>(p: *const c_char, max: usize) -> Result<&'a str, msstore_result> {
    if p.is_null() {
        return Err(msstore_result::MSSTORE_E_NULL_POINTER);
    }
    // SAFETY: the caller promises `p` is readable up to its NUL or `max` bytes; strnlen reads
    // no further than that.
    let len = unsafe { libc::strnlen(p, max + 1) };
    if len > max {
        return Err(msstore_result::MSSTORE_E_TOO_LONG);
    }
    // SAFETY: strnlen found a NUL at `p + len` within readable memory.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    std::str::from_utf8(bytes).map_err(|_| msstore_result::MSSTORE_E_INVALID_UTF8)
}

/// Like [`in_str`] but NULL gives `None`.
///
/// # Safety
/// As [`in_str`].
pub(crate) unsafe fn in_opt_str<'a>(p: *const c_char) -> Result<Option<&'a str>, msstore_result> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    unsafe { in_str(p, MAX_STR) }.map(Some)
}

/// An owned copy of a required string argument ([`in_str`], at most `MAX_STR`).
///
/// # Safety
/// As [`in_str`].
pub(crate) unsafe fn in_string(p: *const c_char) -> Result<String, msstore_result> {
    // SAFETY: forwarded contract.
    unsafe { in_str(p, MAX_STR) }.map(str::to_string)
}

/// An owned copy of an optional string argument ([`in_opt_str`]).
///
/// # Safety
/// As [`in_str`].
pub(crate) unsafe fn in_opt_string(p: *const c_char) -> Result<Option<String>, msstore_result> {
    // SAFETY: forwarded contract.
    unsafe { in_opt_str(p) }.map(|s| s.map(str::to_string))
}

/// Reads a versioned options struct: accepts only the `struct_size` of a published version
/// ([`versions`](super::versions)) and copies that version's fields over a zeroed (default)
/// value, so a caller built against an older, shorter struct gets defaults for the fields it
/// does not know. Any other size is `MSSTORE_E_INVALID_ARGUMENT` (logged with the sizes
/// accepted).
///
/// # Safety
/// `p` is NULL or points to at least `struct_size` readable bytes whose first 4 are `struct_size`.
pub(crate) unsafe fn read_versioned<T: Versioned + StructVersions + Default>(
    p: *const T,
) -> Result<T, msstore_result> {
    // SAFETY: forwarded contract.
    unsafe { read_versioned_explained(p) }.map_err(|(code, _)| code)
}

/// [`read_versioned`], with the message of a refusal (for functions that return an error
/// object).
///
/// # Safety
/// As [`read_versioned`].
pub(crate) unsafe fn read_versioned_explained<T: Versioned + StructVersions + Default>(
    p: *const T,
) -> Result<T, (msstore_result, String)> {
    if p.is_null() {
        return Err((
            msstore_result::MSSTORE_E_NULL_POINTER,
            format!("the {} pointer is NULL", T::NAME),
        ));
    }
    // SAFETY: every versioned struct starts with a u32 `struct_size`; the caller promises the
    // first 4 bytes are readable. Unaligned read: C may pack it anywhere.
    let size = unsafe { std::ptr::read_unaligned(p.cast::<u32>()) } as usize;
    let n = known_size::<T>(size)?;
    let mut v = T::default();
    // SAFETY: `p` has `size >= n` readable bytes; `v` is a distinct local of `size_of::<T>() >= n`
    // bytes (`n` is the end of a field of T); any bytes are a valid T (Versioned contract:
    // integers and raw pointers only), and `n` ends on a field boundary, so no pointer is
    // half-copied.
    unsafe {
        std::ptr::copy_nonoverlapping(p.cast::<u8>(), (&mut v as *mut T).cast::<u8>(), n);
    }
    Ok(v)
}

/// Writes a view struct into a caller struct that starts with `struct_size`: the fields of the
/// published version that size names (never a part of a field), leaving `struct_size` as the
/// caller set it. Any other size is `MSSTORE_E_INVALID_ARGUMENT` and writes nothing.
///
/// # Safety
/// `out` is NULL or points to a writable struct of `out->struct_size` bytes.
pub(crate) unsafe fn write_view<T: Copy + StructVersions>(
    out: *mut T,
    v: &T,
) -> Result<(), msstore_result> {
    non_null(out)?;
    // SAFETY: the caller promises `out` points to a struct starting with a u32 struct_size.
    let size = unsafe { std::ptr::read_unaligned(out.cast::<u32>()) } as usize;
    let n = known_size::<T>(size).map_err(|(code, _)| code)?;
    // SAFETY: `out` has `size >= n > 4` writable bytes (every version has a field after
    // struct_size); we skip the first 4 (struct_size) and copy the rest of the first `n` bytes
    // of `v`, which is a distinct value.
    unsafe {
        std::ptr::copy_nonoverlapping(
            (v as *const T).cast::<u8>().add(4),
            out.cast::<u8>().add(4),
            n - 4,
        );
    }
    Ok(())
}

/// The bytes of a `T` a caller's `struct_size` covers, or `MSSTORE_E_INVALID_ARGUMENT` with a
/// message (also logged) naming the sizes this library accepts, when it is no published
/// version's.
fn known_size<T: StructVersions>(size: usize) -> Result<usize, (msstore_result, String)> {
    versions::used_bytes::<T>(size).ok_or_else(|| {
        let message = versions::refusal::<T>(size);
        log_at!(Level::Warn, "msstore::ffi", "{message}");
        (msstore_result::MSSTORE_E_INVALID_ARGUMENT, message)
    })
}

/// `MSSTORE_E_NULL_POINTER` for a NULL (out-)pointer.
pub(crate) fn non_null<T>(p: *mut T) -> Result<*mut T, msstore_result> {
    if p.is_null() {
        Err(msstore_result::MSSTORE_E_NULL_POINTER)
    } else {
        Ok(p)
    }
}

/// Writes an out-parameter.
///
/// # Safety
/// `out` is NULL or valid for a write of `T`.
pub(crate) unsafe fn write_out<T>(out: *mut T, v: T) -> Result<(), msstore_result> {
    non_null(out)?;
    // SAFETY: non-null, and the caller promises it is valid for writes.
    unsafe { out.write(v) };
    Ok(())
}

/// A `CString` from Rust text (interior NULs, impossible in JSON-derived text, become spaces).
pub(crate) fn cstring(s: &str) -> CString {
    // One copy when there is no NUL (the usual case), not a replaced copy and then another.
    CString::new(s).unwrap_or_else(|_| CString::new(s.replace('\0', " ")).unwrap_or_default())
}

/// [`cstring`] of an owned string: its buffer becomes the C string's (no copy without a NUL).
pub(crate) fn cstring_owned(s: String) -> CString {
    CString::new(s).unwrap_or_else(|e| {
        let bytes = e.into_vec();
        cstring(&String::from_utf8_lossy(&bytes))
    })
}

/// Owns the strings a result handle exposes, NUL-terminated, packed into a few large chunks
/// (a `CString` each was ~160 allocations for a page of 10 entitlements; issue 14). The
/// pointers it hands out stay valid as long as the arena lives: a chunk never grows past the
/// capacity it was made with, so its bytes never move.
#[derive(Default)]
pub(crate) struct Arena(Vec<Vec<u8>>);

/// Bytes per chunk (a longer string gets a chunk of its own size).
const ARENA_CHUNK: usize = 4096;

impl Arena {
    /// A copy of `v` (interior NULs become spaces, as in [`cstring`]).
    pub(crate) fn s(&mut self, v: &str) -> *const c_char {
        self.bytes(v.as_bytes())
    }

    /// [`Arena::s`] of text already in bytes (ASCII or UTF-8).
    pub(crate) fn bytes(&mut self, v: &[u8]) -> *const c_char {
        let need = v.len() + 1;
        if self.0.last().is_none_or(|c| c.capacity() - c.len() < need) {
            self.0.push(Vec::with_capacity(need.max(ARENA_CHUNK)));
        }
        let Some(chunk) = self.0.last_mut() else {
            return std::ptr::null();
        };
        let start = chunk.len();
        if v.contains(&0) {
            chunk.extend(v.iter().map(|&b| if b == 0 { b' ' } else { b }));
        } else {
            chunk.extend_from_slice(v);
        }
        chunk.push(0);
        chunk[start..].as_ptr().cast()
    }

    pub(crate) fn o(&mut self, v: Option<&str>) -> *const c_char {
        match v {
            Some(v) => self.s(v),
            None => std::ptr::null(),
        }
    }
}

/// Copies `s` plus a NUL into `buf` (capacity `cap`), always writing the needed size (including
/// the NUL) to `*needed` when it is not NULL. `buf` may be NULL with `cap` 0 to query the size.
///
/// # Safety
/// `buf` is NULL or writable for `cap` bytes; `needed` is NULL or writable.
pub(crate) unsafe fn copy_to_buffer(
    s: &str,
    buf: *mut c_char,
    cap: usize,
    needed: *mut usize,
) -> Result<(), msstore_result> {
    let need = s.len() + 1;
    if !needed.is_null() {
        // SAFETY: non-null and writable per the contract.
        unsafe { needed.write(need) };
    }
    if buf.is_null() || cap < need {
        return Err(if buf.is_null() && cap > 0 {
            msstore_result::MSSTORE_E_NULL_POINTER
        } else {
            msstore_result::MSSTORE_E_BUFFER_TOO_SMALL
        });
    }
    // SAFETY: `buf` is writable for `cap >= need` bytes and does not overlap `s`.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast::<u8>(), s.len());
        buf.add(s.len()).write(0);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pointer the arena handed out still reads its own string after many more were
    /// added (chunks filled, a string longer than a chunk), NULs turned into spaces.
    #[test]
    fn arena_pointers_stay_valid() {
        let mut a = Arena::default();
        let mut want = Vec::new();
        for i in 0..2000 {
            let s = match i {
                7 => "x".repeat(ARENA_CHUNK * 2),
                9 => "nul\0inside".to_string(),
                _ => format!("string {i}"),
            };
            want.push((a.s(&s), s.replace('\0', " ")));
        }
        assert!(a.0.len() > 2, "several chunks");
        for (p, s) in &want {
            // SAFETY: `p` came from the arena, which is alive and never moves its bytes.
            let got = unsafe { std::ffi::CStr::from_ptr(*p) };
            assert_eq!(got.to_str().unwrap(), s);
        }
    }

    #[test]
    fn in_str_codes() {
        // SAFETY: all pointers are NULL or NUL-terminated literals.
        unsafe {
            assert_eq!(
                in_str(std::ptr::null(), 10).unwrap_err(),
                msstore_result::MSSTORE_E_NULL_POINTER
            );
            assert_eq!(in_str(c"abc".as_ptr(), 10).unwrap(), "abc");
            assert_eq!(
                in_str(c"abcdef".as_ptr(), 3).unwrap_err(),
                msstore_result::MSSTORE_E_TOO_LONG
            );
            assert_eq!(
                in_str(c"\xff\xfe".as_ptr(), 10).unwrap_err(),
                msstore_result::MSSTORE_E_INVALID_UTF8
            );
        }
    }

    #[test]
    fn struct_sizes_off_a_version_are_neither_read_nor_written() {
        use super::super::types::{msstore_client_options, msstore_token_info};
        let mut o = msstore_client_options {
            struct_size: 12,
            tenant_id: c"tenant".as_ptr(),
            ..Default::default()
        };
        // SAFETY: `o` is a whole struct, readable for any size up to its own.
        let read = |o: &msstore_client_options| unsafe { read_versioned(o) };
        assert_eq!(
            read(&o).err(),
            Some(msstore_result::MSSTORE_E_INVALID_ARGUMENT)
        );
        o.struct_size =
            std::mem::offset_of!(msstore_client_options, max_connections_per_host) as u32;
        o.max_connections_per_host = 7;
        let v = read(&o).unwrap();
        assert_eq!(v.tenant_id, o.tenant_id);
        assert_eq!(
            v.max_connections_per_host, 0,
            "a field past the version is a default"
        );

        let view = msstore_token_info {
            struct_size: 0,
            audience: 1,
            value: c"t".as_ptr(),
            expires_at_unix_ms: 5,
        };
        let mut out = msstore_token_info {
            struct_size: 12,
            ..Default::default()
        };
        // SAFETY: `out` is a whole writable struct.
        let code = unsafe { write_view(&mut out, &view) };
        assert_eq!(code, Err(msstore_result::MSSTORE_E_INVALID_ARGUMENT));
        assert!(out.value.is_null() && out.audience == 0, "nothing written");
        out.struct_size = std::mem::size_of::<msstore_token_info>() as u32;
        // SAFETY: as above.
        assert!(unsafe { write_view(&mut out, &view) }.is_ok());
        assert_eq!((out.audience, out.expires_at_unix_ms), (1, 5));
    }

    #[test]
    fn buffer_copy() {
        let mut need = 0usize;
        let mut buf = [0 as c_char; 4];
        // SAFETY: buffers are local and sized as passed.
        unsafe {
            assert_eq!(
                copy_to_buffer("hello", buf.as_mut_ptr(), 4, &mut need).unwrap_err(),
                msstore_result::MSSTORE_E_BUFFER_TOO_SMALL
            );
            assert_eq!(need, 6);
            assert!(copy_to_buffer("abc", buf.as_mut_ptr(), 4, &mut need).is_ok());
        }
        assert_eq!(buf[3], 0);
    }
}
