//! `http` data source: one HTTP request while the template loads (Packer's `datasource/http`).
//!
//! Outputs `url`, `body` and `request_headers`, which holds the **response** headers (Packer's
//! naming): a map from the canonical header name (`Content-Type`) to its values joined with
//! `", "`. A status outside 2xx is an error naming the code. Redirects are followed (up to 10,
//! as Go's client does).
//!
//! The request is made with a blocking client. Data sources run while the template loads,
//! which the CLI does from inside its tokio runtime; on a multi-threaded runtime the request
//! runs under `block_in_place` so the other tasks keep their worker threads.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::components::{ComponentInfo, DataSource};
use crate::datasources::DataSourceError;
use crate::template::ConfigReader;
use crate::value::Value;

/// The methods Packer accepts, in its order (the error message lists them so).
pub const METHODS: &[&str] = &["HEAD", "GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];

/// Bodies larger than this are refused rather than exhausting memory.
const MAX_BODY: u64 = 1 << 30;

pub struct HttpData {
    url: String,
    method: String,
    headers: BTreeMap<String, String>,
    body: String,
}

pub fn new(r: &mut ConfigReader, _info: &ComponentInfo) -> Option<Box<dyn DataSource>> {
    let url = r.string("url").unwrap_or_default();
    if url.is_empty() {
        r.error("Missing required argument", "the `url` must be specified");
    }
    let method = r
        .string("method")
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "GET".to_string());
    if !METHODS.contains(&method.as_str()) && method != "<unknown>" {
        r.error_at(
            "method",
            "Invalid method",
            format!("the `method` must be one of [{}]", METHODS.join(" ")),
        );
    }
    let headers = r.string_map("request_headers").unwrap_or_default();
    let body = r.string("request_body").unwrap_or_default();
    Some(Box::new(HttpData {
        url,
        method,
        headers,
        body,
    }))
}

/// Go's `textproto.CanonicalMIMEHeaderKey`: `content-type` → `Content-Type`. Keys with a
/// space or a byte outside the token set are returned unchanged, as Go does.
pub fn canonical_header_key(k: &str) -> String {
    const TOKEN_SPECIALS: &[u8] = b"!#$%&'*+-.^_`|~";
    if !k
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || TOKEN_SPECIALS.contains(&b))
    {
        return k.to_string();
    }
    let mut upper = true;
    let mut out = String::with_capacity(k.len());
    for c in k.chars() {
        if upper {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c.to_ascii_lowercase());
        }
        upper = c == '-';
    }
    out
}

/// Packer's `isContentTypeText`: `text/*`, `application/json` or SAML metadata, in UTF-8 or
/// US-ASCII.
fn is_text(content_type: &str) -> bool {
    let mut parts = content_type.split(';');
    let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let textual = (media.starts_with("text/") && media.len() > 5)
        || media == "application/json"
        || media.starts_with("application/samlmetadata+xml");
    if !textual {
        return false;
    }
    for p in parts {
        if let Some((k, v)) = p.split_once('=')
            && k.trim().eq_ignore_ascii_case("charset")
        {
            let v = v.trim().trim_matches('"').to_ascii_lowercase();
            return v.is_empty() || v == "utf-8" || v == "us-ascii";
        }
    }
    true
}

impl HttpData {
    fn request_error(&self, context: &'static str, e: impl std::fmt::Display) -> DataSourceError {
        DataSourceError::Request {
            context,
            url: self.url.clone(),
            message: e.to_string(),
        }
    }

    fn fetch(&self) -> Result<BTreeMap<String, Value>, DataSourceError> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(10)
            .timeout_connect(Some(Duration::from_secs(30)))
            .build()
            .into();
        let mut builder = ureq::http::Request::builder()
            .method(self.method.as_str())
            .uri(self.url.as_str());
        for (k, v) in &self.headers {
            builder = builder.header(canonical_header_key(k), v.as_str());
        }
        let response = if self.body.is_empty() {
            let req = builder
                .body(())
                .map_err(|e| self.request_error("Error creating http request for", e))?;
            agent.run(req)
        } else {
            let req = builder
                .body(self.body.clone())
                .map_err(|e| self.request_error("Error creating http request for", e))?;
            agent.run(req)
        };
        let mut response =
            response.map_err(|e| self.request_error("Error performing http request to", e))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(DataSourceError::Status { status });
        }
        let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in response.headers() {
            headers
                .entry(canonical_header_key(name.as_str()))
                .or_default()
                .push(String::from_utf8_lossy(value.as_bytes()).to_string());
        }
        let content_type = headers
            .get("Content-Type")
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default();
        if content_type.is_empty() || !is_text(&content_type) {
            tracing::warn!(
                url = %self.url,
                "Content-Type is not recognized as a text type, got {content_type:?}; if the content is binary data, Kiln may not properly handle the contents of the response"
            );
        }
        let bytes = if self.method == "HEAD" {
            Vec::new()
        } else {
            response
                .body_mut()
                .with_config()
                .limit(MAX_BODY)
                .read_to_vec()
                .map_err(|e| self.request_error("Error reading the response body from", e))?
        };
        let mut out = BTreeMap::new();
        out.insert("url".to_string(), Value::str(&self.url));
        out.insert(
            "body".to_string(),
            Value::str(String::from_utf8_lossy(&bytes).to_string()),
        );
        out.insert(
            "request_headers".to_string(),
            Value::Object(
                headers
                    .into_iter()
                    .map(|(k, v)| (k, Value::str(v.join(", "))))
                    .collect(),
            ),
        );
        Ok(out)
    }
}

impl DataSource for HttpData {
    fn execute(&self) -> Result<BTreeMap<String, Value>, DataSourceError> {
        match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| self.fetch())
            }
            // No runtime, or a current-thread one (where block_in_place is not allowed): the
            // blocking client needs no runtime, so just call it.
            _ => self.fetch(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_keys_are_canonical_as_in_go() {
        assert_eq!(canonical_header_key("content-type"), "Content-Type");
        assert_eq!(canonical_header_key("X-CUSTOM-header"), "X-Custom-Header");
        assert_eq!(canonical_header_key("etag"), "Etag");
        assert_eq!(canonical_header_key("bad key"), "bad key");
    }

    #[test]
    fn text_types_as_packer() {
        assert!(is_text("text/plain"));
        assert!(is_text("text/html; charset=UTF-8"));
        assert!(is_text("application/json"));
        assert!(!is_text("application/octet-stream"));
        assert!(!is_text("text/plain; charset=latin1"));
    }
}
