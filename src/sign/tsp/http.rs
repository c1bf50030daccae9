//! HTTP transport of the RFC 3161 client: URL parsing, the POST over a socket with its deadline,
//! and an incremental, bounded HTTP/1.x response parser (Content-Length, chunked and
//! close-delimited bodies).

use std::io::{Read, Write};
use std::net::{Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::TspError;
use super::error::shown;
use crate::budget::MAX_ADDRESSES;
pub use crate::budget::MAX_BODY_BYTES;
pub use crate::budget::MAX_CHUNK_FRAMING_BYTES;
use crate::budget::MAX_CHUNK_LINE_BYTES;
pub use crate::budget::MAX_HEADER_BYTES;
use crate::budget::MAX_TIMEOUT;
use crate::budget::MAX_URL_BYTES;

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 16 * 1024;

// ---------------------------------------------------------------------------------------------
// URL

/// Where to connect and what to send in the request line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Endpoint {
    /// Host name or IP address, without IPv6 brackets.
    host: String,
    port: u16,
    /// The authority as given, for the Host header.
    host_header: String,
    /// Path and query, starting with `/`.
    path: String,
}

pub(super) fn parse_url(url: &str) -> Result<Endpoint, TspError> {
    let bad = |reason: &str| TspError::InvalidUrl {
        url: shown(url),
        reason: reason.to_owned(),
    };
    if url.len() > MAX_URL_BYTES {
        return Err(bad("longer than 8000 bytes"));
    }
    if url
        .bytes()
        .any(|b| !b.is_ascii_graphic() || b == b'\\' || b == b'"')
    {
        return Err(bad(
            "contains spaces, control, quote or non-ASCII characters; percent-encode them",
        ));
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(bad("no scheme"));
    };
    if !scheme.eq_ignore_ascii_case("http") {
        if scheme.is_empty()
            || !scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return Err(bad("malformed scheme"));
        }
        return Err(TspError::UnsupportedScheme {
            url: url.to_owned(),
            scheme: scheme.to_owned(),
        });
    }
    let rest = rest.split('#').next().unwrap_or_default();
    let (authority, path) = match rest.find(['/', '?']) {
        Some(at) => rest.split_at_checked(at).unwrap_or((rest, "")),
        None => (rest, ""),
    };
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    if authority.contains('@') {
        return Err(bad("user information in the URL is not supported"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("unclosed '[' in the host"))?;
        if addr.parse::<Ipv6Addr>().is_err() {
            return Err(bad("the bracketed host is not an IPv6 address"));
        }
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| bad("junk after the IPv6 address"))?,
            ),
        };
        (addr, port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    if !authority.starts_with('[')
        && !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
    {
        return Err(bad("the host has characters a host name cannot have"));
    }
    let port = match port {
        None | Some("") => 80,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n != 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(bad("the port is not a number from 1 to 65535")),
        },
    };
    Ok(Endpoint {
        host: host.to_owned(),
        port,
        host_header: authority.to_owned(),
        path,
    })
}

// ---------------------------------------------------------------------------------------------
// HTTP exchange

/// The deadline of one exchange.
struct Clock {
    deadline: Instant,
    timeout: Duration,
}

impl Clock {
    fn new(timeout: Duration) -> Clock {
        let timeout = timeout.min(MAX_TIMEOUT);
        let now = Instant::now();
        Clock {
            deadline: now.checked_add(timeout).unwrap_or(now),
            timeout,
        }
    }

    /// Time left, or the timeout error naming what was being done.
    fn remaining(&self, url: &str, during: &'static str) -> Result<Duration, TspError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(self.expired(url, during))
        } else {
            Ok(left)
        }
    }

    fn expired(&self, url: &str, during: &'static str) -> TspError {
        TspError::Timeout {
            url: url.to_owned(),
            after: self.timeout,
            during,
        }
    }

    fn io_error(&self, url: &str, during: &'static str, e: &std::io::Error) -> TspError {
        use std::io::ErrorKind;
        match e.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => self.expired(url, during),
            _ => TspError::Transport {
                url: url.to_owned(),
                detail: format!("{during}: {e}"),
            },
        }
    }
}

fn connect(url: &str, ep: &Endpoint, clock: &Clock) -> Result<TcpStream, TspError> {
    let unreachable = |detail: String| TspError::Unreachable {
        url: url.to_owned(),
        detail,
    };
    // Name resolution has no timeout of its own in std; the deadline applies from here on.
    let addrs: Vec<SocketAddr> = (ep.host.as_str(), ep.port)
        .to_socket_addrs()
        .map_err(|e| unreachable(format!("cannot resolve {}: {e}", ep.host)))?
        .take(MAX_ADDRESSES)
        .collect();
    let mut last = unreachable(format!("{} resolves to no address", ep.host));
    for addr in addrs {
        let left = clock.remaining(url, "connecting")?;
        match TcpStream::connect_timeout(&addr, left) {
            Ok(s) => return Ok(s),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                last = clock.expired(url, "connecting");
            }
            Err(e) => last = unreachable(format!("connecting to {addr}: {e}")),
        }
    }
    Err(last)
}

pub(super) fn post(
    url: &str,
    ep: &Endpoint,
    body: &[u8],
    timeout: Duration,
) -> Result<HttpResponse, TspError> {
    let clock = Clock::new(timeout);
    clock.remaining(url, "connecting")?;
    let mut stream = connect(url, ep, &clock)?;
    // Best effort: the request goes out in one write either way.
    let _ = stream.set_nodelay(true);
    let mut message = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: bingate/{}\r\n\
         Content-Type: application/timestamp-query\r\nAccept: application/timestamp-reply\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        ep.path,
        ep.host_header,
        env!("CARGO_PKG_VERSION"),
        body.len()
    )
    .into_bytes();
    message.extend_from_slice(body);
    const SENDING: &str = "sending the request";
    stream
        .set_write_timeout(Some(clock.remaining(url, SENDING)?))
        .map_err(|e| clock.io_error(url, SENDING, &e))?;
    stream
        .write_all(&message)
        .and_then(|()| stream.flush())
        .map_err(|e| clock.io_error(url, SENDING, &e))?;
    const WAITING: &str = "waiting for the reply";
    let mut parser = ResponseParser::new(url);
    let mut chunk = vec![0u8; READ_CHUNK];
    loop {
        stream
            .set_read_timeout(Some(clock.remaining(url, WAITING)?))
            .map_err(|e| clock.io_error(url, WAITING, &e))?;
        match stream.read(&mut chunk) {
            Ok(0) => return parser.finish(),
            Ok(n) => {
                let data = chunk.get(..n).unwrap_or_default();
                if let Some(reply) = parser.feed(data)? {
                    return Ok(reply);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(clock.io_error(url, WAITING, &e)),
        }
    }
}

/// A complete 200 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct HttpResponse {
    pub(super) content_type: Option<String>,
    pub(super) body: Vec<u8>,
}

#[derive(Debug)]
enum Framing {
    Length(usize),
    Chunked(Chunked),
    Close,
}

/// Progress through a chunked body: `pos` is the next undecoded byte of the parser's buffer.
#[derive(Debug, Default)]
struct Chunked {
    pos: usize,
    body: Vec<u8>,
    in_trailer: bool,
}

#[derive(Debug)]
struct Head {
    status: u16,
    reason: String,
    content_type: Option<String>,
    /// Framing errors only matter for a 200: the status is reported first.
    framing: Result<Framing, TspError>,
}

#[derive(Debug)]
enum State {
    Head,
    Body {
        content_type: Option<String>,
        framing: Framing,
    },
}

/// An incremental HTTP/1.x response parser: bytes in as they arrive, a reply out once complete.
/// Each byte is examined a bounded number of times, and the buffer never holds more than the
/// budgets plus one read.
#[derive(Debug)]
struct ResponseParser<'u> {
    url: &'u str,
    buf: Vec<u8>,
    /// Bytes of `buf` already searched for the end of the head.
    scanned: usize,
    /// Head bytes consumed by interim (1xx) responses.
    head_total: usize,
    state: State,
}

impl<'u> ResponseParser<'u> {
    fn new(url: &'u str) -> Self {
        ResponseParser {
            url,
            buf: Vec::new(),
            scanned: 0,
            head_total: 0,
            state: State::Head,
        }
    }

    fn bad(&self, detail: impl Into<String>) -> TspError {
        TspError::BadHttp {
            url: self.url.to_owned(),
            detail: detail.into(),
        }
    }

    fn too_large(&self, part: &'static str, limit: usize) -> TspError {
        TspError::ResponseTooLarge {
            url: self.url.to_owned(),
            part,
            limit,
        }
    }

    /// Takes the next bytes; `Some` once the reply is complete.
    fn feed(&mut self, data: &[u8]) -> Result<Option<HttpResponse>, TspError> {
        self.buf.extend_from_slice(data);
        loop {
            match &mut self.state {
                State::Head => {
                    let head_room = MAX_HEADER_BYTES.saturating_sub(self.head_total);
                    let Some(end) = head_end(&self.buf, self.scanned) else {
                        if self.buf.len() > head_room {
                            return Err(self.too_large("headers", MAX_HEADER_BYTES));
                        }
                        self.scanned = self.buf.len();
                        return Ok(None);
                    };
                    if end > head_room {
                        return Err(self.too_large("headers", MAX_HEADER_BYTES));
                    }
                    let head = parse_head(self.url, self.buf.get(..end).unwrap_or_default())?;
                    self.buf.drain(..end);
                    self.scanned = 0;
                    self.head_total = self.head_total.saturating_add(end);
                    match head.status {
                        101 => return Err(self.bad("101 Switching Protocols to a POST")),
                        100..=199 => continue,
                        200 => {}
                        code => {
                            return Err(TspError::HttpStatus {
                                url: self.url.to_owned(),
                                code,
                                reason: head.reason,
                            });
                        }
                    }
                    self.state = State::Body {
                        content_type: head.content_type,
                        framing: head.framing?,
                    };
                }
                State::Body {
                    content_type,
                    framing,
                } => {
                    let body = match framing {
                        Framing::Length(n) => {
                            let n = *n;
                            if self.buf.len() < n {
                                return Ok(None);
                            }
                            // Bytes after the declared length are not part of the reply.
                            self.buf.truncate(n);
                            std::mem::take(&mut self.buf)
                        }
                        Framing::Close => {
                            if self.buf.len() > MAX_BODY_BYTES {
                                return Err(self.too_large("body", MAX_BODY_BYTES));
                            }
                            return Ok(None);
                        }
                        Framing::Chunked(c) => {
                            let raw_limit = MAX_BODY_BYTES.saturating_add(MAX_CHUNK_FRAMING_BYTES);
                            if self.buf.len() > raw_limit {
                                return Err(TspError::ResponseTooLarge {
                                    url: self.url.to_owned(),
                                    part: "chunked body with framing",
                                    limit: raw_limit,
                                });
                            }
                            match dechunk(self.url, &self.buf, c)? {
                                true => std::mem::take(&mut c.body),
                                false => return Ok(None),
                            }
                        }
                    };
                    return Ok(Some(HttpResponse {
                        content_type: content_type.take(),
                        body,
                    }));
                }
            }
        }
    }

    /// The peer closed the connection: a reply delimited by close is complete, anything else
    /// is cut short.
    fn finish(mut self) -> Result<HttpResponse, TspError> {
        match &mut self.state {
            State::Head if self.buf.is_empty() && self.head_total == 0 => {
                Err(self.bad("the server closed the connection without answering"))
            }
            State::Head => Err(self.bad("the connection closed inside the response head")),
            State::Body {
                framing: Framing::Length(n),
                ..
            } => {
                let n = *n;
                Err(self.bad(format!(
                    "the body stopped after {} of the {n} bytes of Content-Length",
                    self.buf.len()
                )))
            }
            State::Body {
                framing: Framing::Chunked(_),
                ..
            } => Err(self.bad("the chunked body stopped before its last chunk")),
            State::Body {
                framing: Framing::Close,
                content_type,
            } => Ok(HttpResponse {
                content_type: content_type.take(),
                body: std::mem::take(&mut self.buf),
            }),
        }
    }
}

/// The offset just past the blank line that ends a head, searching from `from` (minus the few
/// bytes a terminator can straddle). Lines may end in CRLF or, leniently, LF (RFC 9112 §2.2).
fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    let start = from.saturating_sub(3);
    let tail = buf.get(start..)?;
    let mut prev_line_empty_at = None;
    for (i, &b) in tail.iter().enumerate() {
        if b != b'\n' {
            continue;
        }
        let at = start.checked_add(i)?;
        // The line that ends here is empty if the previous byte is '\n' or it is "\r\n" after a
        // '\n'.
        let before = at.checked_sub(1).and_then(|j| buf.get(j)).copied();
        let before2 = at.checked_sub(2).and_then(|j| buf.get(j)).copied();
        let empty = before == Some(b'\n') || (before == Some(b'\r') && before2 == Some(b'\n'));
        if empty && at > 1 {
            prev_line_empty_at = Some(at.checked_add(1)?);
            break;
        }
    }
    prev_line_empty_at
}

fn parse_head(url: &str, raw: &[u8]) -> Result<Head, TspError> {
    let bad = |detail: String| TspError::BadHttp {
        url: url.to_owned(),
        detail,
    };
    let mut lines = raw
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status_line = lines.next().unwrap_or_default();
    let status_line =
        std::str::from_utf8(status_line).map_err(|_| bad("the status line is not text".into()))?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(bad(format!(
            "not an HTTP/1.x status line: {:?}",
            shown(status_line)
        )));
    }
    let code = parts.next().unwrap_or_default();
    let status = match code.parse::<u16>() {
        Ok(n) if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) && n >= 100 => n,
        _ => return Err(bad(format!("bad status code {:?}", shown(code)))),
    };
    let reason = shown(parts.next().unwrap_or_default());

    let mut content_type = None;
    let mut content_length: Option<u64> = None;
    let mut content_length_conflict = false;
    let mut transfer_encoding: Vec<String> = Vec::new();
    let mut content_encoding: Option<String> = None;
    for line in lines {
        if line.is_empty() {
            continue;
        }
        if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            return Err(bad("obsolete header line folding".into()));
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or_else(|| bad("a header line without ':'".into()))?;
        let (name, value) = line.split_at_checked(colon).unwrap_or((line, b""));
        let value = value.get(1..).unwrap_or_default();
        if name.is_empty()
            || !name
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b))
        {
            return Err(bad(format!(
                "bad header name {:?}",
                shown(&String::from_utf8_lossy(name))
            )));
        }
        let value = String::from_utf8_lossy(value.trim_ascii()).into_owned();
        if name.eq_ignore_ascii_case(b"content-type") {
            content_type.get_or_insert(value);
        } else if name.eq_ignore_ascii_case(b"content-length") {
            // A list of equal values is allowed (RFC 9112 §6.3); anything else is a conflict.
            for v in value.split(',') {
                let v = v.trim();
                match v.parse::<u64>() {
                    Ok(n) if v.bytes().all(|b| b.is_ascii_digit()) => {
                        if content_length.is_some_and(|old| old != n) {
                            content_length_conflict = true;
                        }
                        content_length = Some(n);
                    }
                    _ => content_length_conflict = true,
                }
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            transfer_encoding.extend(
                value
                    .split(',')
                    .map(|c| c.trim().to_ascii_lowercase())
                    .filter(|c| !c.is_empty()),
            );
        } else if name.eq_ignore_ascii_case(b"content-encoding") {
            content_encoding = Some(value);
        }
    }

    let framing = (|| {
        if let Some(ce) = &content_encoding {
            if !ce.trim().eq_ignore_ascii_case("identity") {
                return Err(bad(format!(
                    "unsupported Content-Encoding {:?} (none was asked for)",
                    shown(ce)
                )));
            }
        }
        // Transfer-Encoding overrides Content-Length (RFC 9112 §6.3).
        if !transfer_encoding.is_empty() {
            return if transfer_encoding == ["chunked"] {
                Ok(Framing::Chunked(Chunked::default()))
            } else {
                Err(bad(format!(
                    "unsupported Transfer-Encoding {:?}",
                    shown(&transfer_encoding.join(", "))
                )))
            };
        }
        if content_length_conflict {
            return Err(bad("invalid or conflicting Content-Length".into()));
        }
        match content_length {
            Some(n) => match usize::try_from(n) {
                Ok(n) if n <= MAX_BODY_BYTES => Ok(Framing::Length(n)),
                _ => Err(TspError::ResponseTooLarge {
                    url: url.to_owned(),
                    part: "body",
                    limit: MAX_BODY_BYTES,
                }),
            },
            None => Ok(Framing::Close),
        }
    })();
    Ok(Head {
        status,
        reason,
        content_type,
        framing,
    })
}

/// Decodes as many chunks of `buf` as have arrived; `true` once the last chunk and the trailer
/// section are in.
fn dechunk(url: &str, buf: &[u8], c: &mut Chunked) -> Result<bool, TspError> {
    let bad = |detail: &str| TspError::BadHttp {
        url: url.to_owned(),
        detail: format!("chunked body: {detail}"),
    };
    let overflow = || bad("offset overflow");
    loop {
        let rest = buf.get(c.pos..).unwrap_or_default();
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            if rest.len() > MAX_CHUNK_LINE_BYTES {
                return Err(bad("a chunk-size or trailer line is too long"));
            }
            return Ok(false);
        };
        if nl > MAX_CHUNK_LINE_BYTES {
            return Err(bad("a chunk-size or trailer line is too long"));
        }
        let line = rest.get(..nl).unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let after_line = c
            .pos
            .checked_add(nl)
            .and_then(|p| p.checked_add(1))
            .ok_or_else(overflow)?;
        if c.in_trailer {
            c.pos = after_line;
            if line.is_empty() {
                return Ok(true);
            }
            continue;
        }
        let size_field = line
            .split(|&b| b == b';')
            .next()
            .unwrap_or_default()
            .trim_ascii();
        if size_field.is_empty()
            || size_field.len() > 16
            || !size_field.iter().all(u8::is_ascii_hexdigit)
        {
            return Err(bad("a chunk size is not a hexadecimal number"));
        }
        let size = std::str::from_utf8(size_field)
            .ok()
            .and_then(|s| usize::from_str_radix(s, 16).ok())
            .ok_or_else(|| bad("a chunk size does not fit in memory"))?;
        if size == 0 {
            c.pos = after_line;
            c.in_trailer = true;
            continue;
        }
        if c.body
            .len()
            .checked_add(size)
            .is_none_or(|n| n > MAX_BODY_BYTES)
        {
            return Err(TspError::ResponseTooLarge {
                url: url.to_owned(),
                part: "body",
                limit: MAX_BODY_BYTES,
            });
        }
        let data_end = after_line.checked_add(size).ok_or_else(overflow)?;
        let Some(data) = buf.get(after_line..data_end) else {
            return Ok(false);
        };
        let next = match (buf.get(data_end), buf.get(data_end.saturating_add(1))) {
            (None, _) | (Some(b'\r'), None) => return Ok(false),
            (Some(b'\n'), _) => data_end.checked_add(1),
            (Some(b'\r'), Some(b'\n')) => data_end.checked_add(2),
            _ => return Err(bad("a chunk is not followed by CRLF")),
        }
        .ok_or_else(overflow)?;
        c.body.extend_from_slice(data);
        c.pos = next;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const URL: &str = "http://tsa.test/";

    fn parse_all(bytes: &[u8]) -> Result<HttpResponse, TspError> {
        let mut p = ResponseParser::new(URL);
        match p.feed(bytes)? {
            Some(r) => Ok(r),
            None => p.finish(),
        }
    }

    fn parse_bytewise(bytes: &[u8]) -> Result<HttpResponse, TspError> {
        let mut p = ResponseParser::new(URL);
        for b in bytes {
            if let Some(r) = p.feed(std::slice::from_ref(b))? {
                return Ok(r);
            }
        }
        p.finish()
    }

    #[test]
    fn http_content_length_body() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\n\
                    Content-Length: 5\r\n\r\nhello";
        for parse in [parse_all, parse_bytewise] {
            let r = parse(raw).unwrap();
            assert_eq!(r.body, b"hello");
            assert_eq!(
                r.content_type.as_deref(),
                Some("application/timestamp-reply")
            );
        }
    }

    #[test]
    fn http_content_length_complete_without_close() {
        let mut p = ResponseParser::new(URL);
        let r = p
            .feed(b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabcEXTRA")
            .unwrap()
            .unwrap();
        assert_eq!(r.body, b"abc");
    }

    #[test]
    fn http_header_names_are_case_insensitive_and_lf_is_accepted() {
        let raw =
            b"HTTP/1.0 200 OK\nCONTENT-TYPE: application/timestamp-reply\nCoNtEnT-LeNgTh: 2\n\nok";
        let r = parse_all(raw).unwrap();
        assert_eq!(r.body, b"ok");
        assert!(r.content_type.is_some());
    }

    #[test]
    fn http_chunked_body_with_extensions_and_trailers() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                    5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: yes\r\n\r\n";
        for parse in [parse_all, parse_bytewise] {
            assert_eq!(parse(raw).unwrap().body, b"hello world");
        }
    }

    #[test]
    fn http_chunked_truncated_is_an_error() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel";
        assert!(matches!(parse_all(raw), Err(TspError::BadHttp { .. })));
    }

    #[test]
    fn http_chunked_bad_size_is_an_error() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n";
        assert!(matches!(parse_all(raw), Err(TspError::BadHttp { .. })));
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n";
        assert!(matches!(parse_all(raw), Err(TspError::BadHttp { .. })));
    }

    #[test]
    fn http_chunked_oversize_body_refused_before_it_arrives() {
        let raw = format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
            MAX_BODY_BYTES + 1
        );
        assert!(matches!(
            parse_all(raw.as_bytes()),
            Err(TspError::ResponseTooLarge { part: "body", .. })
        ));
    }

    #[test]
    fn http_chunked_framing_overhead_is_bounded() {
        let mut raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        // One-byte chunks: six framing bytes per body byte.
        while raw.len() < MAX_BODY_BYTES + MAX_CHUNK_FRAMING_BYTES + 1024 {
            raw.extend_from_slice(b"1\r\nx\r\n");
        }
        assert!(matches!(
            parse_all(&raw),
            Err(TspError::ResponseTooLarge { .. })
        ));
    }

    #[test]
    fn http_oversize_content_length_refused_at_the_header() {
        let raw = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY_BYTES + 1
        );
        let mut p = ResponseParser::new(URL);
        assert!(matches!(
            p.feed(raw.as_bytes()),
            Err(TspError::ResponseTooLarge {
                part: "body",
                limit: MAX_BODY_BYTES,
                ..
            })
        ));
        let raw = "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n";
        assert!(matches!(
            parse_all(raw.as_bytes()),
            Err(TspError::BadHttp { .. })
        ));
    }

    #[test]
    fn http_close_delimited_body_and_its_limit() {
        let raw = b"HTTP/1.1 200 OK\r\n\r\nuntil close";
        assert_eq!(parse_all(raw).unwrap().body, b"until close");
        let mut big = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        big.resize(big.len() + MAX_BODY_BYTES + 1, b'x');
        assert!(matches!(
            parse_all(&big),
            Err(TspError::ResponseTooLarge { part: "body", .. })
        ));
    }

    #[test]
    fn http_headers_too_long_refused() {
        let mut raw = b"HTTP/1.1 200 OK\r\n".to_vec();
        while raw.len() <= MAX_HEADER_BYTES {
            raw.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        let mut p = ResponseParser::new(URL);
        assert!(matches!(
            p.feed(&raw),
            Err(TspError::ResponseTooLarge {
                part: "headers",
                ..
            })
        ));
        // Also when the head is complete but too long, and when fed slowly.
        raw.extend_from_slice(b"\r\n");
        assert!(matches!(
            parse_all(&raw),
            Err(TspError::ResponseTooLarge {
                part: "headers",
                ..
            })
        ));
        assert!(matches!(
            parse_bytewise(&raw),
            Err(TspError::ResponseTooLarge {
                part: "headers",
                ..
            })
        ));
    }

    #[test]
    fn http_non_200_reports_code_and_reason() {
        let raw = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
        match parse_all(raw) {
            Err(TspError::HttpStatus { code, reason, .. }) => {
                assert_eq!(code, 503);
                assert_eq!(reason, "Service Unavailable");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn http_interim_100_is_skipped() {
        let raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz";
        for parse in [parse_all, parse_bytewise] {
            assert_eq!(parse(raw).unwrap().body, b"z");
        }
    }

    #[test]
    fn http_malformed_heads() {
        for raw in [
            &b"garbage\r\n\r\n"[..],
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 1\r\n\r\nx",
            b"",
            b"HTTP/1.1 200 OK\r\nContent-Le",
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        ] {
            assert!(
                matches!(parse_all(raw), Err(TspError::BadHttp { .. })),
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn urls() {
        let ep = parse_url("http://tsa.example.com/ts?x=1#frag").unwrap();
        assert_eq!(
            ep,
            Endpoint {
                host: "tsa.example.com".into(),
                port: 80,
                host_header: "tsa.example.com".into(),
                path: "/ts?x=1".into()
            }
        );
        let ep = parse_url("HTTP://[::1]:8080").unwrap();
        assert_eq!((ep.host.as_str(), ep.port), ("::1", 8080));
        assert_eq!(
            (ep.host_header.as_str(), ep.path.as_str()),
            ("[::1]:8080", "/")
        );
        let ep = parse_url("http://127.0.0.1:3180?q").unwrap();
        assert_eq!((ep.port, ep.path.as_str()), (3180, "/?q"));
        assert!(matches!(
            parse_url("https://tsa.example.com/"),
            Err(TspError::UnsupportedScheme { .. })
        ));
        assert!(matches!(
            parse_url("ftp://tsa.example.com/"),
            Err(TspError::UnsupportedScheme { .. })
        ));
        for bad in [
            "",
            "tsa.example.com",
            "http://",
            "http://:80/",
            "http://host:0/",
            "http://host:65536/",
            "http://host:+80/",
            "http://user@host/",
            "http://[::1/",
            "http://[nothost]/",
            "http://exa mple/",
            "http://host/\r\nX-Injected: 1",
            "http://hö.st/",
            "://host/",
        ] {
            assert!(
                matches!(parse_url(bad), Err(TspError::InvalidUrl { .. })),
                "{bad:?}"
            );
        }
    }
}
