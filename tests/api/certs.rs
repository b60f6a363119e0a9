//! Certificates for the TLS tests, made with rcgen at test time: a CA, a
//! server certificate for `localhost` and `127.0.0.1` signed by it, two
//! client certificates signed by it, and a second CA the server never
//! trusts, with a client certificate of its own. ECDSA P-256 keys, so a
//! whole set takes milliseconds.
//!
//! [`Certs::new`] writes every certificate and key as PEM into a fresh
//! temporary directory (the server reads its files from paths, as in
//! production), removed when the [`Certs`] is dropped. [`use_tls`] points a
//! server's settings at them; [`tls_endpoint`] and [`tls_channel`] make the
//! client side, which the harness cannot: its default channel is plaintext.

use std::path::{Path, PathBuf};

use orders::config::Settings;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use sha2::{Digest, Sha256};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::app::TestApp;

/// The name clients verify the server's certificate against.
pub const SERVER_NAME: &str = "localhost";

/// A certificate with its private key, as PEM in memory and on disk.
#[derive(Debug, Clone)]
pub struct Credential {
    pub cert_pem: String,
    pub key_pem: String,
    /// The certificate as DER: what a client sends in its handshake.
    pub cert_der: Vec<u8>,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
}

impl Credential {
    /// The certificate and key as a tonic identity (client or server).
    pub fn identity(&self) -> Identity {
        Identity::from_pem(&self.cert_pem, &self.key_pem)
    }

    /// The server's rate-limit key for a client presenting this
    /// certificate: `certificate/` and the first 16 bytes of its SHA-256.
    pub fn rate_key(&self) -> String {
        let digest = Sha256::digest(&self.cert_der);
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("certificate/{hex}")
    }
}

/// A complete set of test certificates, in a directory of its own.
pub struct Certs {
    /// The CA the server trusts: it signed the server and both clients.
    pub ca: Credential,
    pub server: Credential,
    /// Two clients of the trusted CA, with distinct subjects.
    pub client_a: Credential,
    pub client_b: Credential,
    /// A CA the server does not trust, and a client certificate it signed.
    pub rogue_ca: Credential,
    pub rogue_client: Credential,
    dir: PathBuf,
}

impl Certs {
    /// Generates a fresh set and writes it to a new temporary directory.
    pub fn new() -> Certs {
        let dir = crate::local_machine::fresh_dir("certs");
        let ca = new_ca("orders test CA");
        let rogue_ca = new_ca("rogue CA");
        let server_sans = vec![SERVER_NAME.to_owned(), "127.0.0.1".to_owned()];
        Certs {
            server: leaf(
                &ca,
                "orders test server",
                server_sans,
                ExtendedKeyUsagePurpose::ServerAuth,
            )
            .write(&dir, "server"),
            client_a: client(&ca, "client-a").write(&dir, "client-a"),
            client_b: client(&ca, "client-b").write(&dir, "client-b"),
            rogue_client: client(&rogue_ca, "rogue-client").write(&dir, "rogue-client"),
            ca: ca.write(&dir, "ca"),
            rogue_ca: rogue_ca.write(&dir, "rogue-ca"),
            dir,
        }
    }

    /// A path in the directory for a file a test writes itself.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Certs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether the server asks clients for a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// Plain TLS: any client may connect.
    None,
    /// Mutual TLS: only clients with a certificate of [`Certs::ca`].
    Required,
}

/// Makes `settings` serve TLS with the server certificate of `certs`.
pub fn use_tls(settings: &mut Settings, certs: &Certs, client_auth: ClientAuth) {
    let tls = &mut settings.security.tls;
    tls.tls_cert = Some(certs.server.cert_path.clone());
    tls.tls_key = Some(certs.server.key_path.clone());
    tls.tls_client_ca = (client_auth == ClientAuth::Required).then(|| certs.ca.cert_path.clone());
}

/// An endpoint to `app` over TLS that trusts [`Certs::ca`] and checks the
/// name `localhost`, presenting `identity` if given. Nothing connects yet.
pub fn tls_endpoint(app: &TestApp, certs: &Certs, identity: Option<&Credential>) -> Endpoint {
    endpoint_trusting(app, &certs.ca, identity)
}

/// [`tls_endpoint`] with `ca` as the only root the client trusts.
pub fn endpoint_trusting(app: &TestApp, ca: &Credential, identity: Option<&Credential>) -> Endpoint {
    let mut tls = ClientTlsConfig::new()
        .domain_name(SERVER_NAME)
        .ca_certificate(Certificate::from_pem(&ca.cert_pem));
    if let Some(identity) = identity {
        tls = tls.identity(identity.identity());
    }
    Channel::from_shared(format!("https://{}", app.addr))
        .unwrap()
        .tls_config(tls)
        .expect("a valid client TLS configuration")
}

/// A connected TLS channel to `app` (see [`tls_endpoint`]).
pub async fn tls_channel(app: &TestApp, certs: &Certs, identity: Option<&Credential>) -> Channel {
    let endpoint = tls_endpoint(app, certs, identity);
    endpoint
        .connect()
        .await
        .unwrap_or_else(|e| panic!("TLS connection to {} failed: {e:?}", app.addr))
}

/// A generated certificate before it is written out.
struct Generated {
    cert_pem: String,
    key_pem: String,
    cert_der: Vec<u8>,
}

impl Generated {
    /// Writes `<name>.pem` and `<name>-key.pem` into `dir`.
    fn write(self, dir: &Path, name: &str) -> Credential {
        let cert_path = dir.join(format!("{name}.pem"));
        let key_path = dir.join(format!("{name}-key.pem"));
        std::fs::write(&cert_path, &self.cert_pem).expect("writes a certificate");
        std::fs::write(&key_path, &self.key_pem).expect("writes a key");
        Credential {
            cert_pem: self.cert_pem,
            key_pem: self.key_pem,
            cert_der: self.cert_der,
            cert_path,
            key_path,
        }
    }
}

/// A CA: self-signed, may sign certificates. Keeps the issuer to sign with.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
    key_pem: String,
}

impl Ca {
    fn write(self, dir: &Path, name: &str) -> Credential {
        Generated {
            cert_pem: self.issuer.pem(),
            key_pem: self.key_pem,
            cert_der: self.issuer.der().to_vec(),
        }
        .write(dir, name)
    }
}

fn new_ca(common_name: &str) -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().unwrap();
    let key_pem = key.serialize_pem();
    Ca {
        issuer: CertifiedIssuer::self_signed(params, key).expect("the CA signs itself"),
        key_pem,
    }
}

/// A client certificate for `common_name`, signed by `ca`.
fn client(ca: &Ca, common_name: &str) -> Generated {
    leaf(ca, common_name, Vec::new(), ExtendedKeyUsagePurpose::ClientAuth)
}

/// An end-entity certificate signed by `ca`, for one purpose.
fn leaf(ca: &Ca, common_name: &str, sans: Vec<String>, purpose: ExtendedKeyUsagePurpose) -> Generated {
    let mut params = CertificateParams::new(sans).unwrap();
    params.distinguished_name.push(DnType::CommonName, common_name);
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![purpose];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca.issuer).expect("the CA signs");
    Generated {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        cert_der: cert.der().to_vec(),
    }
}
