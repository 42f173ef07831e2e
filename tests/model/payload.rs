//! Datagram payloads that identify themselves: an 8-byte id, the 4-byte
//! length the sender gave it, then filler derived from the id. A receiver
//! can tell a datagram that was duplicated (id seen before), merged with
//! another or split (length differs from the header), corrupted (filler),
//! or forged (unknown id).

pub const HEADER: usize = 12;

fn filler(id: u64, i: usize) -> u8 {
    (id as u8).wrapping_mul(31).wrapping_add(i as u8)
}

/// Appends the payload of datagram `id`, `len` bytes long (`len >= HEADER`).
pub fn encode(id: u64, len: usize, out: &mut Vec<u8>) {
    assert!(len >= HEADER);
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend((HEADER..len).map(|i| filler(id, i)));
}

/// The id of a received payload. `truncated`: the receive buffer was too
/// small and only a prefix arrived.
pub fn decode(data: &[u8], truncated: bool) -> Result<u64, String> {
    if data.len() < HEADER {
        return Err(format!(
            "{}-byte datagram, shorter than any sent",
            data.len()
        ));
    }
    let id = u64::from_le_bytes(data[..8].try_into().unwrap());
    let len = u32::from_le_bytes(data[8..12].try_into().unwrap()) as usize;
    let consistent = if truncated {
        data.len() < len
    } else {
        data.len() == len
    };
    if !consistent {
        return Err(format!(
            "datagram {id}: {} bytes arrived (truncated: {truncated}) but it was sent with {len}: merged or split",
            data.len()
        ));
    }
    if let Some(i) = (HEADER..data.len()).find(|&i| data[i] != filler(id, i)) {
        return Err(format!("datagram {id}: byte {i} corrupted"));
    }
    Ok(id)
}
