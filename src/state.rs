//! Saved engine states: checkpoint/restart for NAS jobs under walltime limits.
//!
//! Format (little-endian): the magic `PENGUIN\0`, a format version (u32), the
//! configuration as `key = value` text (u32 length + UTF-8), the number of
//! networks (u64), then each network sorted by id: id (u64), observation count
//! (u32), epochs and values (f64 each), the window of recent predictions (u32 +
//! f64s), the warm-start parameters (u32 + f64s), their convergence flag (u8), the
//! newest prediction (f64), the decision (u8 tag + f64), the fit count (u32). A
//! 64-bit FNV-1a checksum of everything before it ends the state. Floats are
//! stored as their bits, so a restored engine decides exactly as the original.

use crate::analyzer::Decision;
use crate::config::Config;
use crate::engine::Engine;
use crate::error::{Error, ErrorCode, Result};
use crate::network::Network;
use std::io::Write;
use std::path::Path;

/// First bytes of every saved state.
pub const MAGIC: &[u8; 8] = b"PENGUIN\0";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 2;

fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn f64(&mut self, v: f64) {
        self.u64(v.to_bits());
    }
    fn f64s(&mut self, v: &[f64]) {
        self.u32(v.len() as u32);
        for x in v {
            self.f64(*x);
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

fn truncated() -> Error {
    Error::new(
        ErrorCode::InvalidState,
        "saved state is truncated or corrupted",
    )
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.pos.checked_add(n).ok_or_else(truncated)?;
        let s = self.bytes.get(self.pos..end).ok_or_else(truncated)?;
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(b))
    }
    fn u64(&mut self) -> Result<u64> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }
    fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_bits(self.u64()?))
    }
    /// A length-prefixed f64 array, refusing lengths the remaining bytes cannot hold.
    fn f64s(&mut self) -> Result<Vec<f64>> {
        let n = self.u32()? as usize;
        self.f64_array(n)
    }
    fn f64_array(&mut self, n: usize) -> Result<Vec<f64>> {
        if n > (self.bytes.len() - self.pos) / 8 {
            return Err(truncated());
        }
        (0..n).map(|_| self.f64()).collect()
    }
}

/// Serialises an engine (configuration and every network).
pub fn to_bytes(engine: &Engine) -> Vec<u8> {
    let mut w = Writer(Vec::new());
    w.0.extend_from_slice(MAGIC);
    w.u32(FORMAT_VERSION);
    let config = engine.config().to_text();
    w.u32(config.len() as u32);
    w.0.extend_from_slice(config.as_bytes());
    let mut ids: Vec<&u64> = engine.networks().keys().collect();
    ids.sort_unstable();
    w.u64(ids.len() as u64);
    for id in ids {
        let n = &engine.networks()[id];
        w.u64(*id);
        w.u32(n.epochs.len() as u32);
        for e in &n.epochs {
            w.f64(*e);
        }
        for v in &n.values {
            w.f64(*v);
        }
        w.f64s(&n.window);
        w.f64s(&n.params);
        w.u8(u8::from(n.params_converged));
        w.f64(n.last_prediction);
        w.f64(n.last_interval[0]);
        w.f64(n.last_interval[1]);
        w.f64(n.best_loss);
        w.u32(n.since_best_loss);
        match n.decision {
            None => {
                w.u8(0);
                w.f64(0.0);
            }
            Some(Decision::Continue) => {
                w.u8(1);
                w.f64(0.0);
            }
            Some(Decision::Converged { prediction }) => {
                w.u8(2);
                w.f64(prediction);
            }
            Some(Decision::ReachedEPred { value }) => {
                w.u8(3);
                w.f64(value);
            }
        }
        w.u32(n.fits);
    }
    let sum = fnv1a64(&w.0);
    w.u64(sum);
    w.0
}

/// Restores an engine from bytes written by [`to_bytes`]. Refuses anything else
/// (empty, truncated, corrupted, other format version, not a Penguin state) with
/// an error; never returns a half-loaded engine.
pub fn from_bytes(bytes: &[u8]) -> Result<Engine> {
    from_bytes_with(bytes, &Config::default())
}

/// As [`from_bytes`], resolving function names also among the user-defined
/// functions registered in `functions` (a state saved with a user-defined
/// function needs the same name registered again).
pub fn from_bytes_with(bytes: &[u8], functions: &Config) -> Result<Engine> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(Error::new(
            ErrorCode::InvalidState,
            if bytes.is_empty() {
                "saved state is empty".to_string()
            } else {
                "not a Penguin state (wrong magic number)".to_string()
            },
        ));
    }
    let mut r = Reader { bytes, pos: 0 };
    r.take(MAGIC.len())?;
    let version = r.u32()?;
    if version != FORMAT_VERSION {
        return Err(Error::new(
            ErrorCode::StateVersion,
            format!(
                "saved state has format version {version}; this Penguin reads version {FORMAT_VERSION}"
            ),
        ));
    }
    if bytes.len() < r.pos + 8 {
        return Err(truncated());
    }
    let body = &bytes[..bytes.len() - 8];
    let mut sum = [0u8; 8];
    sum.copy_from_slice(&bytes[bytes.len() - 8..]);
    if fnv1a64(body) != u64::from_le_bytes(sum) {
        return Err(Error::new(
            ErrorCode::InvalidState,
            "saved state is corrupted (checksum mismatch) or truncated",
        ));
    }
    let mut r = Reader {
        bytes: body,
        pos: r.pos,
    };
    let len = r.u32()? as usize;
    let text = std::str::from_utf8(r.take(len)?).map_err(|_| truncated())?;
    let mut config = Config {
        user_functions: functions.user_functions.clone(),
        ..Config::default()
    };
    config.load_str(text).map_err(|e| {
        // A function the caller must register again keeps its own code (the
        // documented way to load such a state); anything else is a bad state.
        let code = if e.code == ErrorCode::UnknownFunction {
            e.code
        } else {
            ErrorCode::InvalidState
        };
        Error::new(code, format!("saved state's configuration: {}", e.message))
    })?;
    let mut engine = Engine::new(config).map_err(|e| {
        Error::new(
            ErrorCode::InvalidState,
            format!("saved state's configuration: {}", e.message),
        )
    })?;
    let count = r.u64()?;
    let mut networks = Vec::new();
    for _ in 0..count {
        let id = r.u64()?;
        let n = r.u32()? as usize;
        let epochs = r.f64_array(n)?;
        let values = r.f64_array(n)?;
        let window = r.f64s()?;
        let params = r.f64s()?;
        let params_converged = r.u8()? != 0;
        let last_prediction = r.f64()?;
        let last_interval = [r.f64()?, r.f64()?];
        let best_loss = r.f64()?;
        let since_best_loss = r.u32()?;
        let tag = r.u8()?;
        let v = r.f64()?;
        let decision = match tag {
            0 => None,
            1 => Some(Decision::Continue),
            2 => Some(Decision::Converged { prediction: v }),
            3 => Some(Decision::ReachedEPred { value: v }),
            _ => return Err(truncated()),
        };
        let fits = r.u32()?;
        networks.push((
            id,
            Network {
                epochs,
                values,
                window,
                params,
                params_converged,
                last_prediction,
                last_interval,
                best_loss,
                since_best_loss,
                decision,
                fits,
            },
        ));
    }
    if r.pos != body.len() {
        return Err(truncated());
    }
    engine.restore_networks(networks)?;
    // One engine, one encoding: anything to_bytes would not have written (other
    // spacing, flag values, padding, order) is refused, so a loaded state saves
    // back to the same bytes.
    if to_bytes(&engine) != bytes {
        return Err(Error::new(
            ErrorCode::InvalidState,
            "saved state is not in canonical form (corrupted or not written by Penguin)",
        ));
    }
    Ok(engine)
}

/// Writes a state file atomically: a temporary file in the same directory,
/// flushed and fsynced, then renamed over `path` (and the directory fsynced), so
/// a crash leaves either the old file or the new one, never half of one.
pub fn save_file(engine: &Engine, path: &Path) -> Result<()> {
    let io = |what: &str, e: std::io::Error| {
        Error::new(ErrorCode::Io, format!("{what} '{}': {e}", path.display()))
    };
    let bytes = to_bytes(engine);
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| Error::new(ErrorCode::InvalidArgument, "state path has no file name"))?;
    let tmp = dir.join(format!(
        ".{}.tmp.{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f =
            std::fs::File::create(&tmp).map_err(|e| io("cannot create temporary file for", e))?;
        f.write_all(&bytes).map_err(|e| io("cannot write", e))?;
        f.flush().map_err(|e| io("cannot flush", e))?;
        f.sync_all().map_err(|e| io("cannot fsync", e))?;
        std::fs::rename(&tmp, path).map_err(|e| io("cannot rename temporary file to", e))?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Reads a state file written by [`save_file`].
pub fn load_file(path: &Path) -> Result<Engine> {
    load_file_with(path, &Config::default())
}

/// As [`load_file`], with the user-defined functions registered in `functions`.
pub fn load_file_with(path: &Path, functions: &Config) -> Result<Engine> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::new(
            ErrorCode::Io,
            format!("cannot read state '{}': {e}", path.display()),
        )
    })?;
    from_bytes_with(&bytes, functions)
        .map_err(|e| Error::new(e.code, format!("{}: {}", path.display(), e.message)))
}
