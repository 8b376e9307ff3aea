//! Decompression with a bound: a small file that inflates past the limit
//! (a gzip bomb) is refused once the limit is passed, never followed.

use std::io::Read;

use flate2::read::MultiGzDecoder;

/// The gzip magic bytes.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Why bytes could not be decompressed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GunzipError {
    #[error("the file decompresses to more than {limit} bytes, the most Debrief reads")]
    TooLarge { limit: u64 },
    #[error("the gzip data is damaged or cut short: {0}")]
    Corrupt(String),
}

/// Whether `bytes` start as gzip data.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// The decompressed bytes of gzip data (every member of it, as `gzip -d`
/// reads them), refused as soon as they pass `limit` bytes.
pub fn gunzip(bytes: &[u8], limit: u64) -> Result<Vec<u8>, GunzipError> {
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4).min(limit as usize));
    // One byte past the limit tells a file of exactly `limit` bytes from a larger one.
    let mut decoder = MultiGzDecoder::new(bytes).take(limit + 1);
    decoder.read_to_end(&mut out).map_err(|err| GunzipError::Corrupt(err.to_string()))?;
    if out.len() as u64 > limit {
        return Err(GunzipError::TooLarge { limit });
    }
    Ok(out)
}

/// The first bytes of gzip data decompressed, at most `want` of them, for
/// telling formats apart; damaged data gives what could be read.
pub fn gunzip_prefix(bytes: &[u8], want: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(want);
    let mut decoder = MultiGzDecoder::new(bytes).take(want as u64);
    let mut chunk = [0u8; 4096];
    while out.len() < want {
        match decoder.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(read) => out.extend_from_slice(&chunk[..read]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::{Compression, write::GzEncoder};

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gzip_data_up_to_the_limit_comes_back_whole() {
        let text = b"goroutine profile: total 3\n".repeat(100);
        assert_eq!(gunzip(&gzip(&text), text.len() as u64).unwrap(), text);
        assert!(is_gzip(&gzip(b"")) && !is_gzip(b"goroutine 1 [running]:"));
    }

    #[test]
    fn a_bomb_is_refused_once_it_passes_the_limit() {
        let bomb = gzip(&vec![0u8; 50 * 1024 * 1024]);
        assert!(bomb.len() < 100 * 1024, "50 MiB of zeros compress to {} bytes", bomb.len());
        assert_eq!(gunzip(&bomb, 1024 * 1024), Err(GunzipError::TooLarge { limit: 1024 * 1024 }));
        assert_eq!(gunzip_prefix(&bomb, 10).len(), 10);
    }

    #[test]
    fn damaged_or_truncated_gzip_is_refused_with_the_reason() {
        let whole = gzip(&b"heap profile: 1: 2 [3: 4] @ heap/8192\n".repeat(50));
        let cut = &whole[..whole.len() / 2];
        assert!(matches!(gunzip(cut, 1 << 20), Err(GunzipError::Corrupt(_))));
        let mut flipped = whole.clone();
        flipped[20] ^= 0xff;
        assert!(matches!(gunzip(&flipped, 1 << 20), Err(GunzipError::Corrupt(_))));
        assert!(matches!(gunzip(&[0x1f, 0x8b, 0x08], 1 << 20), Err(GunzipError::Corrupt(_))));
    }

    #[test]
    fn concatenated_members_are_read_as_one_stream() {
        let mut two = gzip(b"first ");
        two.extend(gzip(b"second"));
        assert_eq!(gunzip(&two, 100).unwrap(), b"first second");
    }
}
