//! A plain TCP connection whose writes of mapped blob bytes ([`streamvault_blobs::mapped`]) go
//! by `sendfile`: hyper has no sendfile path (hyper#3026), but it hands a response body's
//! `Bytes` to the connection as they are (it writes vectored, without copying, when the
//! connection says it can). A buffer that lies in a mapped blob is sent from the page cache
//! by the kernel; everything else (heads, JSON, short reads) is written as usual. A head just
//! before mapped bytes is sent with `MSG_MORE`, so it leaves in one segment with them.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

pub struct ZeroCopy {
    tcp: TcpStream,
}

impl ZeroCopy {
    pub fn new(tcp: TcpStream) -> Self {
        Self { tcp }
    }

    /// Runs `op` (a non-blocking syscall on the socket) once the socket is writable, waiting
    /// again when it would block.
    fn poll_syscall(&self, cx: &mut Context<'_>, mut op: impl FnMut() -> io::Result<usize>) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.tcp.poll_write_ready(cx))?;
            match self.tcp.try_io(Interest::WRITABLE, &mut op) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                done => return Poll::Ready(done),
            }
        }
    }
}

fn result(n: isize) -> io::Result<usize> {
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

impl AsyncRead for ZeroCopy {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for ZeroCopy {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        use std::os::fd::AsRawFd;
        let Some(at) = bufs.iter().position(|b| !b.is_empty()) else { return Poll::Ready(Ok(0)) };
        let bufs = &bufs[at..];
        let socket = self.tcp.as_raw_fd();
        if let Some((file, offset)) = streamvault_blobs::mapped::find(&bufs[0]) {
            let (file, len) = (file.as_raw_fd(), bufs[0].len());
            return self.poll_syscall(cx, || {
                let mut off = libc::off_t::try_from(offset).map_err(io::Error::other)?;
                // SAFETY: both descriptors are open for the call (the socket is ours, the file
                // is kept by the mapping the caller's buffer borrows from); `off` is a local.
                let n = result(unsafe { libc::sendfile(socket, file, &mut off, len) })?;
                // The file is shorter than its mapping claims: never report zero progress.
                if n == 0 { Err(io::ErrorKind::UnexpectedEof.into()) } else { Ok(n) }
            });
        }
        // Plain buffers up to the first mapped one.
        let plain = bufs.iter().take_while(|b| streamvault_blobs::mapped::find(b).is_none()).count();
        if plain == 1 && bufs.len() > 1 {
            // A head followed by mapped bytes: let it wait for them (MSG_MORE), one segment.
            let head = &bufs[0];
            return self.poll_syscall(cx, || {
                // SAFETY: `head` is a live buffer of `head.len()` bytes.
                result(unsafe { libc::send(socket, head.as_ptr().cast(), head.len(), libc::MSG_MORE) })
            });
        }
        Pin::new(&mut self.tcp).poll_write_vectored(cx, &bufs[..plain])
    }

    fn is_write_vectored(&self) -> bool {
        // hyper then queues body buffers as they are, instead of copying them into its own.
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}
