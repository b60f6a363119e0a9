//! A JWKS server for the tests of `--auth-jwks-url`, as small as an
//! identity provider's key endpoint gets: every request, whatever its
//! path, is answered with the fixture keys the test chose and a
//! `Cache-Control: max-age`, then the connection is closed (so each fetch
//! is one connection, and a stopped server refuses the next one).
//!
//! The test changes the keys ([`JwksServer::serve`]), counts the requests
//! ([`JwksServer::requests`]), and takes the server away and back on the
//! same port ([`JwksServer::stop`], [`JwksServer::restart`]). Plain HTTP on
//! 127.0.0.1, or HTTPS with a certificate of [`crate::certs`].

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::TcpListener,
    task::JoinHandle,
};
use tokio_rustls::{TlsAcceptor, rustls};

use crate::{certs::Credential, tokens::jwks_of};

/// What the server answers, and how often it was asked.
#[derive(Debug)]
struct Served {
    kids: Vec<String>,
    max_age: u64,
    requests: usize,
}

/// A running (or stopped) JWKS server.
pub struct JwksServer {
    addr: SocketAddr,
    served: Arc<Mutex<Served>>,
    tls: Option<TlsAcceptor>,
    accepting: Mutex<Option<JoinHandle<()>>>,
}

impl JwksServer {
    /// Serves the fixture keys `kids` over plain HTTP on 127.0.0.1, each
    /// answer cacheable for `max_age` seconds.
    pub async fn start(kids: &[&str], max_age: u64) -> JwksServer {
        JwksServer::start_with(kids, max_age, None).await
    }

    /// As [`Self::start`], over HTTPS with the certificate `server`.
    pub async fn start_tls(kids: &[&str], max_age: u64, server: &Credential) -> JwksServer {
        let certificate = CertificateDer::from(server.cert_der.clone());
        let key = PrivateKeyDer::from_pem_slice(server.key_pem.as_bytes()).expect("a PEM private key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![certificate], key)
            .expect("the test certificate fits its key");
        JwksServer::start_with(kids, max_age, Some(TlsAcceptor::from(Arc::new(config)))).await
    }

    async fn start_with(kids: &[&str], max_age: u64, tls: Option<TlsAcceptor>) -> JwksServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let served = Served {
            kids: kids.iter().map(|kid| kid.to_string()).collect(),
            max_age,
            requests: 0,
        };
        let server = JwksServer {
            addr: listener.local_addr().unwrap(),
            served: Arc::new(Mutex::new(served)),
            tls,
            accepting: Mutex::new(None),
        };
        server.accept_on(listener);
        server
    }

    /// The URL of the keys: `http://127.0.0.1:…` or `https://localhost:…`.
    pub fn url(&self) -> String {
        match self.tls {
            None => format!("http://{}/.well-known/jwks.json", self.addr),
            Some(_) => format!("https://localhost:{}/.well-known/jwks.json", self.addr.port()),
        }
    }

    /// Serves the fixture keys `kids` from now on.
    pub fn serve(&self, kids: &[&str]) {
        self.served.lock().unwrap().kids = kids.iter().map(|kid| kid.to_string()).collect();
    }

    /// How many requests were answered.
    pub fn requests(&self) -> usize {
        self.served.lock().unwrap().requests
    }

    /// Closes the listening socket: connections are refused from now on.
    pub fn stop(&self) {
        if let Some(task) = self.accepting.lock().unwrap().take() {
            task.abort();
        }
    }

    /// Listens again, on the same port.
    pub async fn restart(&self) {
        self.stop();
        let listener = TcpListener::bind(self.addr).await.expect("the port is free again");
        self.accept_on(listener);
    }

    fn accept_on(&self, listener: TcpListener) {
        let (served, tls) = (self.served.clone(), self.tls.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (served, tls) = (served.clone(), tls.clone());
                tokio::spawn(async move {
                    match tls {
                        None => answer(stream, &served).await,
                        Some(tls) => {
                            if let Ok(stream) = tls.accept(stream).await {
                                answer(stream, &served).await;
                            }
                        }
                    }
                });
            }
        });
        *self.accepting.lock().unwrap() = Some(task);
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Reads one request's head and answers it with the current keys.
async fn answer(mut stream: impl AsyncRead + AsyncWrite + Unpin, served: &Mutex<Served>) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
    let (body, max_age) = {
        let mut served = served.lock().unwrap();
        served.requests += 1;
        let kids: Vec<&str> = served.kids.iter().map(String::as_str).collect();
        (jwks_of(&kids), served.max_age)
    };
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: public, max-age={max_age}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}
