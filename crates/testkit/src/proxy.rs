use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinSet};

/// A TCP forwarder between the server under test and a real backend, to take the backend
/// "down" (and back up) without touching the shared service; with several targets, a
/// round-robin balancer that passes over a target it cannot connect to (a dead replica).
pub struct TcpProxy {
    pub addr: SocketAddr,
    targets: Arc<Vec<String>>,
    next: Arc<AtomicUsize>,
    state: Arc<Mutex<ProxyState>>,
}

#[derive(Default)]
struct ProxyState {
    acceptor: Option<AbortHandle>,
    conns: JoinSet<()>,
}

impl TcpProxy {
    pub async fn start(target: &str) -> TcpProxy {
        Self::balance(&[target]).await
    }

    /// Each new connection goes to the next of `targets` that accepts it.
    pub async fn balance(targets: &[&str]) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let targets = Arc::new(targets.iter().map(|t| (*t).to_owned()).collect());
        let proxy = TcpProxy { addr, targets, next: Arc::default(), state: Arc::default() };
        proxy.accept_on(listener);
        proxy
    }

    fn accept_on(&self, listener: TcpListener) {
        let state = self.state.clone();
        let targets = self.targets.clone();
        let next = self.next.clone();
        let acceptor = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let targets = targets.clone();
                let first = next.fetch_add(1, Ordering::Relaxed);
                let mut st = state.lock().unwrap();
                st.conns.spawn(async move {
                    for i in 0..targets.len() {
                        let target = &targets[(first + i) % targets.len()];
                        if let Ok(mut outbound) = TcpStream::connect(target).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                            return;
                        }
                    }
                });
            }
        });
        self.state.lock().unwrap().acceptor = Some(acceptor.abort_handle());
    }

    /// Refuses new connections and cuts every open one, as if the backend died.
    pub fn cut(&self) {
        let mut st = self.state.lock().unwrap();
        if let Some(a) = st.acceptor.take() {
            a.abort();
        }
        st.conns.abort_all();
    }

    /// Accepts connections again on the same address.
    pub async fn restore(&self) {
        let listener = TcpListener::bind(self.addr).await.expect("rebind proxy");
        self.accept_on(listener);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
    }
}
