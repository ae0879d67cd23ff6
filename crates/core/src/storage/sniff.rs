/// The media type of a video container, from its first bytes; `None` when they are not a
/// video container we take (MP4/MOV/M4V, WebM, Matroska, AVI, MPEG, FLV, WMV, 3GP).
pub fn sniff_video(head: &[u8]) -> Option<&'static str> {
    let kind = infer::get(head)?;
    if kind.matcher_type() != infer::MatcherType::Video {
        // 3GP and some MP4 brands are classified as audio-or-video containers; accept them
        // by their box structure.
        return is_iso_bmff(head).then_some("video/mp4");
    }
    Some(kind.mime_type())
}

/// The media type object storage serves a blob with: a video container when it is one,
/// otherwise whatever the first bytes say.
pub fn media_type_of(head: &[u8]) -> &'static str {
    sniff_video(head).or_else(|| infer::get(head).map(|k| k.mime_type())).unwrap_or("application/octet-stream")
}

/// The first bytes of a file (up to 8 KiB), enough to recognise its type; empty if unreadable.
pub async fn read_head(path: &std::path::Path) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut head = vec![0; 8192];
    let n = match tokio::fs::File::open(path).await {
        Ok(mut f) => f.read(&mut head).await.unwrap_or(0),
        Err(_) => 0,
    };
    head.truncate(n);
    head
}

fn is_iso_bmff(head: &[u8]) -> bool {
    head.len() >= 12 && &head[4..8] == b"ftyp"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_common_containers_and_nothing_else() {
        let mut mp4 = vec![0, 0, 0, 0x20];
        mp4.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2avc1mp41");
        assert_eq!(sniff_video(&mp4), Some("video/mp4"));
        let mut mov = vec![0, 0, 0, 0x14];
        mov.extend_from_slice(b"ftypqt  \0\0\x02\0qt  ");
        assert_eq!(sniff_video(&mov), Some("video/quicktime"));
        // EBML headers are only recognised in a buffer of more than 256 bytes, as real files are.
        let padded = |head: &[u8]| {
            let mut v = head.to_vec();
            v.resize(300, 0);
            v
        };
        let webm =
            padded(&[0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84, b'w', b'e', b'b', b'm']);
        assert_eq!(sniff_video(&webm), Some("video/webm"));
        let mkv = padded(&[
            0x1A, 0x45, 0xDF, 0xA3, 0xA3, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x88, b'm', b'a', b't', b'r', b'o', b's',
            b'k', b'a',
        ]);
        assert_eq!(sniff_video(&mkv), Some("video/x-matroska"));
        for not_video in
            [&b"hello world, this is text"[..], b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", b"%PDF-1.7\n", b"", b"ID3\x03\0\0\0"]
        {
            assert_eq!(sniff_video(not_video), None, "{not_video:?}");
        }
    }
}
