//! Helpers of the in-process node tests: a configuration in a temporary
//! directory and a small HTTP client.

// The helpers unwrap too (clippy allows it only inside #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(dead_code)] // each test file uses its own subset

use std::collections::HashMap;
use std::path::Path;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use sage_config::SageConfig;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;

/// The embedded defaults, with the data (SQLite file, keys, KEK) in `dir`
/// and a free port on the loopback interface.
pub(crate) fn config_in(dir: &Path) -> SageConfig {
    let mut config = SageConfig::default();
    config.storage.data_dir = dir.to_path_buf();
    config.database.url = format!("sqlite://{}/sage.db", dir.display())
        .parse()
        .unwrap();
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config.server.shutdown_timeout = std::time::Duration::from_secs(5);
    config
}

/// A response, read whole.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: HashMap<String, String>,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
}

/// `GET url`.
pub(crate) async fn get(url: &str) -> Answer {
    request("GET", url, &[], Vec::new()).await
}

/// Any request.
pub(crate) async fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Answer {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut builder = http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let response = client
        .request(builder.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

/// The rest of a request body, sent on demand.
pub(crate) struct SlowBody {
    writer: OwnedWriteHalf,
}

impl SlowBody {
    /// Sends the last byte of the body.
    pub(crate) async fn finish(&mut self) {
        self.writer.write_all(b"}").await.unwrap();
        self.writer.flush().await.unwrap();
    }
}

/// Starts a `POST url` whose 2-byte JSON body lacks its last byte until
/// [`SlowBody::finish`]; the handle resolves to the response.
pub(crate) async fn slow_post(url: &str) -> (SlowBody, tokio::task::JoinHandle<Answer>) {
    let uri: http::Uri = url.parse().unwrap();
    let authority = uri.authority().unwrap().to_string();
    let stream = TcpStream::connect(&authority).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST {} HTTP/1.1\r\nhost: {authority}\r\ncontent-type: application/json\r\n\
         content-length: 2\r\nconnection: close\r\n\r\n{{",
        uri.path()
    );
    writer.write_all(head.as_bytes()).await.unwrap();
    writer.flush().await.unwrap();
    let pending = tokio::spawn(async move {
        let mut raw = Vec::new();
        reader.read_to_end(&mut raw).await.unwrap();
        parse_response(&raw)
    });
    (SlowBody { writer }, pending)
}

/// Parses a `connection: close` HTTP/1.1 response with a content-length
/// body.
fn parse_response(raw: &[u8]) -> Answer {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}
