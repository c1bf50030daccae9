#!/usr/bin/env python3
"""Helpers for corpus/recipes/build-integrity.sh (bingate's chain/timestamp/image-hash fixtures).

Everything is located from the PE headers and by walking the DER; nothing is hard-coded. Edits of
a signature keep every byte that is not edited (no re-encoding by a library), re-encode only the
lengths of the enclosing elements, rewrite the WIN_CERTIFICATE entry (dwLength includes the
zero padding to a multiple of 8, as osslsigncode writes it), the security directory size and
OptionalHeader.CheckSum.

Usage: integrity_tool.py COMMAND ...
  forge-root ROOT.pem OUT.pem        a forged copy of ROOT: same subject, serial and public key,
                                     validity 2000-01-01..2099-12-31, CA:TRUE without pathlen, no
                                     EKU, signed with a throwaway RSA key (not the root's)
  gap-after-headers IN OUT           shift all section raw data by one FileAlignment unit and fill
                                     the new gap between SizeOfHeaders and the first section with
                                     non-zero bytes
  gap-between-sections IN OUT        the same after the raw data of the second section in file order
  flip-gap IN OUT                    xor 0x01 into the middle byte of the first gap found (after the
                                     headers, else between two sections); the signature is kept
  legacy-countersign IN OUT --cert C --key K --time YYYYMMDDHHMMSSZ [--digest sha256]
                                     add a PKCS #9 countersignature (1.2.840.113549.1.9.6) made by
                                     C/K to the primary SignerInfo as an unsigned attribute
  rfc3161-timestamp IN OUT --cert C --key K --time YYYYMMDDHHMMSSZ [--chain PEM] [--serial N]
                                     add an RFC 3161 TimeStampToken (1.3.6.1.4.1.311.3.3.1) over
                                     the primary signature, signed by C/K whatever C's EKU, with
                                     --chain's certificates (default C) embedded; no nonce
  drop-certificates IN OUT           remove the SignedData `certificates` [0] field
  add-cert-choice IN OUT --kind other|v2attr
                                     append an [3] other-certificate-format or a [2] v2
                                     attribute-certificate element to the certificate SET
  gaps IN                            print the file ranges no header or section covers
  ossl-summary IN --trust PEM [--crl CRL] [--time UNIX]
                                     one-line summary of `osslsigncode verify -ignore-crl -CAfile PEM
                                     -TSA-CAfile PEM [-CRLfile CRL] -time UNIX -in IN` (run from corpus/)
  check-expected [JSON]              re-run ossl-summary for every entry of integrity/expected.json
                                     and compare with its recorded `osslsigncode` field
"""
import argparse
import datetime as dt
import hashlib
import json
import re
import struct
import subprocess
import sys

from pe_cert_tool import PE


# --------------------------------------------------------------------------------------------
# PE (headers, sections, checksum and security directory from pe_cert_tool.py)
# --------------------------------------------------------------------------------------------
class Pe(PE):
    @property
    def file_alignment(self):
        return self.u32(self.opt + 36)

    def gaps(self):
        """File ranges [start, end) that neither the headers nor any section's raw data cover,
        before the end of the last section."""
        spans = sorted((p, p + s) for _, p, s in self.sections() if s)
        out, pos = [], self.size_of_headers
        for start, end in spans:
            if start > pos:
                out.append((pos, start))
            pos = max(pos, end)
        return out

    # -- certificate table -------------------------------------------------------------------
    def signature_der(self):
        off, size = self.cert_off, self.cert_size
        if not off or not size or off + size != len(self.d):
            raise SystemExit("expected one certificate table that ends the file")
        length, rev, typ = struct.unpack_from("<IHH", self.d, off)
        if typ != 2:
            raise SystemExit(f"first entry has type {typ}, not PKCS#7")
        body = bytes(self.d[off + 8:off + length])
        _, _, end = tlv(body, 0)
        return body[:end]

    def set_signature_der(self, der):
        off = self.cert_off
        if off % 8:
            raise SystemExit("certificate table not 8-byte aligned")
        entry_len = 8 + len(der)
        padded = (entry_len + 7) & ~7
        entry = struct.pack("<IHH", padded, 0x0200, 2) + der + b"\0" * (padded - entry_len)
        del self.d[off:]
        self.d += entry
        self.set_cert_dir(off, padded)
        self.update_checksum()


def fill(n, seed):
    """n deterministic bytes, never zero."""
    return bytes(1 + ((seed + 37 * i) % 251) for i in range(n))


def insert_gap(pe, after_index):
    """Insert one FileAlignment unit of non-zero bytes after the raw data of the section that is
    `after_index`-th in file order (-1: right after SizeOfHeaders, before the first section)."""
    if pe.cert_off or pe.cert_size:
        raise SystemExit("expected an unsigned PE")
    fa = pe.file_alignment
    ordered = sorted((s for s in pe.section_headers() if s[3]), key=lambda s: s[2])
    if after_index < 0:
        at = ordered[0][2]
        if at != pe.size_of_headers:
            raise SystemExit("first section does not start at SizeOfHeaders already")
    else:
        at = ordered[after_index][2] + ordered[after_index][3]
        if ordered[after_index + 1][2] != at:
            raise SystemExit("sections are not contiguous there already")
    if at % fa:
        raise SystemExit("insertion point not FileAlignment-aligned")
    for hdr, _, ptr, size in pe.section_headers():
        if size and ptr >= at:
            struct.pack_into("<I", pe.d, hdr + 20, ptr + fa)
    # Image-file offsets elsewhere in the headers: COFF symbol table, debug directory entries.
    sym = pe.u32(pe.coff + 8)
    if sym >= at:
        struct.pack_into("<I", pe.d, pe.coff + 8, sym + fa)
    if pe.nrva > 6 and pe.u32(pe.dd + 8 * 6):
        raise SystemExit("debug directory present: its PointerToRawData would need shifting")
    pe.d[at:at] = fill(fa, at)
    pe.update_checksum()
    return at, at + fa


# --------------------------------------------------------------------------------------------
# Minimal DER (definite lengths only)
# --------------------------------------------------------------------------------------------
def tlv(b, off):
    """(tag byte, content start, end) of the element at off."""
    tag = b[off]
    if tag & 0x1F == 0x1F:
        raise SystemExit("multi-byte tags not expected")
    n = b[off + 1]
    p = off + 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4:
            raise SystemExit("indefinite or huge length")
        n = int.from_bytes(b[p:p + k], "big")
        p += k
    if p + n > len(b):
        raise SystemExit("element runs past its parent")
    return tag, p, p + n


def children(b, start, end):
    out, p = [], start
    while p < end:
        _, _, e = tlv(b, p)
        out.append(bytes(b[p:e]))
        p = e
    return out


def enc_len(n):
    if n < 0x80:
        return bytes([n])
    s = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(s)]) + s


def enc(tag, content):
    return bytes([tag]) + enc_len(len(content)) + content


class Sig:
    """The ContentInfo { signedData, [0] EXPLICIT SignedData } split into SignedData's fields."""

    def __init__(self, der):
        tag, s, e = tlv(der, 0)
        ci = children(der, s, e)
        if tag != 0x30 or len(ci) != 2:
            raise SystemExit("not a ContentInfo")
        self.oid = ci[0]
        t, s0, e0 = tlv(ci[1], 0)
        if t != 0xA0:
            raise SystemExit("no [0] content")
        _, s1, e1 = tlv(ci[1], s0)
        self.fields = children(ci[1], s1, e1)

    def index(self, tag):
        for i, f in enumerate(self.fields):
            if f[0] == tag:
                return i
        return None

    def der(self):
        sd = enc(0x30, b"".join(self.fields))
        return enc(0x30, self.oid + enc(0xA0, sd))

    def signer_infos(self):
        f = self.fields[-1]
        t, s, e = tlv(f, 0)
        if t != 0x31:
            raise SystemExit("last SignedData field is not the signerInfos SET")
        return children(f, s, e)

    def set_signer_infos(self, infos):
        self.fields[-1] = enc(0x31, b"".join(infos))


# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------
def load_pe(path):
    return Pe(open(path, "rb").read())


def cmd_forge_root(a):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    root = x509.load_pem_x509_certificate(open(a.input, "rb").read())
    throwaway = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    b = (x509.CertificateBuilder()
         .subject_name(root.subject)
         .issuer_name(root.subject)
         .public_key(root.public_key())
         .serial_number(root.serial_number)
         .not_valid_before(dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc))
         .not_valid_after(dt.datetime(2099, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc))
         .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                        critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(root.public_key()),
                        critical=False))
    forged = b.sign(throwaway, hashes.SHA256())
    open(a.output, "wb").write(forged.public_bytes(serialization.Encoding.PEM))


def cmd_gap(a, where):
    pe = load_pe(a.input)
    s, e = insert_gap(pe, -1 if where == "headers" else 1)
    print(f"gap {s:#x}..{e:#x} ({e - s} non-zero bytes)", file=sys.stderr)
    open(a.output, "wb").write(pe.d)


def cmd_flip_gap(a):
    pe = load_pe(a.input)
    gaps = pe.gaps()
    if not gaps:
        raise SystemExit("no gap")
    s, e = gaps[0]
    pos = (s + e) // 2
    pe.d[pos] ^= 0x01
    pe.update_checksum()
    print(f"flipped byte at {pos:#x} (gap {s:#x}..{e:#x})", file=sys.stderr)
    open(a.output, "wb").write(pe.d)


def cmd_gaps(a):
    pe = load_pe(a.input)
    for s, e in pe.gaps():
        print(f"{s:#x}..{e:#x}")


def pem_certs(path):
    """DER of every certificate in a PEM file, in file order."""
    import base64
    out, cur = [], None
    for ln in open(path, "rb").read().splitlines():
        if ln.startswith(b"-----BEGIN CERTIFICATE"):
            cur = []
        elif ln.startswith(b"-----END CERTIFICATE"):
            out.append(base64.b64decode(b"".join(cur)))
            cur = None
        elif cur is not None:
            cur.append(ln.strip())
    return out


def parse_time(text):
    return dt.datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=dt.timezone.utc)


HASHES = {"sha256": "SHA256", "sha1": "SHA1"}


def signer_info(cert_der, key_path, digest, attrs):
    """A CMS SignerInfo (issuerAndSerialNumber, RSA PKCS #1 v1.5) over the signed attributes."""
    from asn1crypto import algos, cms, x509 as ax509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    cert = ax509.Certificate.load(cert_der)
    key = serialization.load_pem_private_key(open(key_path, "rb").read(), password=None)
    info = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
            "issuer": cert.issuer, "serial_number": cert.serial_number})}),
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": digest}),
        "signed_attrs": cms.CMSAttributes(attrs),
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"}),
        "signature": b"\0",
    })
    # Sign exactly the bytes that are emitted, re-tagged from [0] IMPLICIT to SET OF.
    to_sign = b"\x31" + info["signed_attrs"].dump()[1:]
    info["signature"] = key.sign(to_sign, padding.PKCS1v15(), getattr(hashes, HASHES[digest])())
    return info


def primary_signer(pe):
    """(Sig, fields of the only SignerInfo, content octets of its signature OCTET STRING)."""
    sig = Sig(pe.signature_der())
    infos = sig.signer_infos()
    if len(infos) != 1:
        raise SystemExit("expected one SignerInfo")
    _, s, e = tlv(infos[0], 0)
    parts = children(infos[0], s, e)
    if any(p[0] == 0xA1 for p in parts):
        raise SystemExit("SignerInfo already has unsigned attributes")
    t, cs, ce = tlv(parts[-1], 0)
    if t != 0x04:
        raise SystemExit("last SignerInfo field is not the signature OCTET STRING")
    return sig, parts, parts[-1][cs:ce]


def add_unsigned_attribute(pe, sig, parts, oid, value_der):
    """Attribute { oid, SET { value } } as the [1] IMPLICIT unsignedAttrs of the SignerInfo."""
    from asn1crypto import core
    attr = enc(0x30, core.ObjectIdentifier(oid).dump() + enc(0x31, value_der))
    parts.append(enc(0xA1, attr))
    sig.set_signer_infos([enc(0x30, b"".join(parts))])
    pe.set_signature_der(sig.der())


def cmd_legacy_countersign(a):
    from asn1crypto import cms, core

    pe = load_pe(a.input)
    sig, parts, enc_digest = primary_signer(pe)
    attrs = [
        cms.CMSAttribute({"type": "content_type", "values": [cms.ContentType("data")]}),
        cms.CMSAttribute({"type": "signing_time",
                          "values": [cms.Time({"utc_time": parse_time(a.time)})]}),
        cms.CMSAttribute({"type": "message_digest",
                          "values": [core.OctetString(hashlib.new(a.digest, enc_digest).digest())]}),
    ]
    counter = signer_info(pem_certs(a.cert)[0], a.key, a.digest, attrs)
    add_unsigned_attribute(pe, sig, parts, "1.2.840.113549.1.9.6", counter.dump())
    open(a.output, "wb").write(pe.d)


# TSA policy of the tokens made here: an OID under 2.25 (UUID arc, RFC 4122), naming no real policy.
TSA_POLICY = "2.25." + str(0x3f0c6d2e9b8a47c1a5e4d3c2b1a09f8e)


def cmd_rfc3161_timestamp(a):
    """An RFC 3161 TimeStampToken over the primary signature value, signed by --cert/--key with
    --chain's certificates embedded, as the unsigned attribute 1.3.6.1.4.1.311.3.3.1 (what
    signtool /tr and osslsigncode -ts add). No purpose check on the signer: that is the point."""
    from asn1crypto import algos, cms, core, tsp, x509 as ax509

    pe = load_pe(a.input)
    sig, parts, enc_digest = primary_signer(pe)
    when = parse_time(a.time)
    tst = tsp.TSTInfo({
        "version": "v1",
        "policy": TSA_POLICY,
        "message_imprint": tsp.MessageImprint({
            "hash_algorithm": algos.DigestAlgorithm({"algorithm": a.digest}),
            "hashed_message": hashlib.new(a.digest, enc_digest).digest()}),
        "serial_number": int(a.serial),
        "gen_time": when,
        "accuracy": tsp.Accuracy({"seconds": 1}),
    })
    tst_der = tst.dump()
    signer_der = pem_certs(a.cert)[0]
    chain = pem_certs(a.chain) if a.chain else [signer_der]
    attrs = [
        cms.CMSAttribute({"type": "content_type", "values": [cms.ContentType("tst_info")]}),
        cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": when})]}),
        cms.CMSAttribute({"type": "signing_certificate_v2", "values": [tsp.SigningCertificateV2({
            "certs": [tsp.ESSCertIDv2({"cert_hash": hashlib.sha256(signer_der).digest()})]})]}),
        cms.CMSAttribute({"type": "message_digest",
                          "values": [core.OctetString(hashlib.new(a.digest, tst_der).digest())]}),
    ]
    info = signer_info(signer_der, a.key, a.digest, attrs)
    token = cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData({
        "version": "v3",
        "digest_algorithms": [algos.DigestAlgorithm({"algorithm": a.digest})],
        "encap_content_info": cms.EncapsulatedContentInfo({
            "content_type": "tst_info", "content": core.ParsableOctetString(tst_der)}),
        "certificates": [cms.CertificateChoices({"certificate": ax509.Certificate.load(c)})
                         for c in chain],
        "signer_infos": [info],
    })})
    add_unsigned_attribute(pe, sig, parts, "1.3.6.1.4.1.311.3.3.1", token.dump())
    open(a.output, "wb").write(pe.d)


def certificates_field(pe):
    """(Sig of pe's signature, index of its SignedData `certificates` [0] field)."""
    sig = Sig(pe.signature_der())
    i = sig.index(0xA0)
    if i is None:
        raise SystemExit("no certificates field")
    return sig, i


def save_signature(pe, sig, path):
    pe.set_signature_der(sig.der())
    open(path, "wb").write(pe.d)


def cmd_drop_certificates(a):
    pe = load_pe(a.input)
    sig, i = certificates_field(pe)
    del sig.fields[i]
    save_signature(pe, sig, a.output)


def cmd_add_cert_choice(a):
    pe = load_pe(a.input)
    sig, i = certificates_field(pe)
    _, s, e = tlv(sig.fields[i], 0)
    certs = children(sig.fields[i], s, e)
    if a.kind == "other":
        # other [3] IMPLICIT OtherCertificateFormat ::= SEQUENCE { otherCertFormat OID,
        # otherCert ANY }; the format OID is under the arc 2.25 (UUID-based, RFC 4122 sec. 5.2)
        # so it names no real format.
        from asn1crypto import core
        oid = core.ObjectIdentifier("2.25." + str(0x6b1a7e5c0f2d4e8aa3b1c9d07e6f5a42)).dump()
        extra = enc(0xA3, oid + enc(0x0C, b"bingate test: not a certificate"))
    else:
        # v2AttrCert [2] IMPLICIT AttributeCertificateV2 (RFC 5755) shaped: SEQUENCE { acinfo
        # SEQUENCE { version v2(1), holder, issuer [0] V2Form, signature alg, serial, validity,
        # attributes }, signatureAlgorithm, signatureValue } with a zero signature.
        sha256rsa = enc(0x30, bytes.fromhex("06092a864886f70d01010b") + b"\x05\x00")
        name = enc(0x30, enc(0x31, enc(0x30, bytes.fromhex("0603550403")
                                          + enc(0x0C, b"Bingate Test attribute holder"))))
        holder = enc(0x30, enc(0xA1, enc(0xA4, name)))           # entityName [1] GeneralNames
        issuer = enc(0xA0, enc(0x30, enc(0xA4, name)))           # v2Form [0] { issuerName }
        validity = enc(0x30, enc(0x18, b"20250101000000Z") + enc(0x18, b"20351231235959Z"))
        attrs = enc(0x30, b"")
        acinfo = enc(0x30, enc(0x02, b"\x01") + holder + issuer + sha256rsa
                     + enc(0x02, b"\x01") + validity + attrs)
        extra = enc(0xA2, acinfo + sha256rsa + enc(0x03, b"\x00" + b"\0" * 32))
    # DER SET OF order: by encoding; 0xA2/0xA3 sort after the certificates' 0x30.
    certs.append(extra)
    sig.fields[i] = enc(0xA0, b"".join(certs))
    save_signature(pe, sig, a.output)


OSSL_KEEP = re.compile(
    r"^(No signature found|Corrupted attribute certificate table|Warning: .*"
    r"|Unauthenticated Data Blob length: .*|Timestamp Server Signature verification: .*"
    r"|Signature CRL verification: .*|Signature verification: .*"
    r"|Number of verified signatures: .*|\s*Error: .*|Message digest algorithm  : .*"
    r"|Unsupported .*|Unable to .*|PKCS7_\w+ error|Countersignatures:"
    r"|Timestamp time: .*|Signing certificate chain verified using:|Timestamp verified using:"
    r"|Failed signing certificate chain retrieved from the signature:)$")
# "40E0...0000:error:10800080:PKCS7 routines:PKCS7_get0_signers:signer certificate not found:
# ../crypto/pkcs7/pk7_smime.c:425:" -> "error: PKCS7_get0_signers: signer certificate not found"
# (the thread id and source location change from run to run / build to build).
OSSL_ERR = re.compile(r"^[0-9A-F]+:error:[0-9A-F]+:[^:]*:([^:]*):([^:]*):.*$")


def ossl_cmd(path, trust, crl=None, when=None):
    cmd = ["osslsigncode", "verify", "-ignore-crl", "-CAfile", trust, "-TSA-CAfile", trust]
    if crl:
        cmd += ["-CRLfile", crl]
    if when is not None:
        cmd += ["-time", str(when)]
    return cmd + ["-in", path]


def ossl_summary(path, trust, crl=None, when=None):
    p = subprocess.run(ossl_cmd(path, trust, crl, when), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    return summarise(p.stdout, p.stderr, p.returncode), p.returncode


def summarise(stdout, stderr, code):
    """Salient stdout lines, then the stderr ones (kept apart: their interleaving depends on
    buffering)."""
    out = [summary_parts(stdout)]
    if stderr.strip():
        out.append("stderr: " + summary_parts(stderr))
    verdict = "Succeeded" if code == 0 else "Failed"
    return f"{verdict} (exit {code}): " + " | ".join(out)


def summary_parts(text):
    parts = []
    for line in text.splitlines():
        err = OSSL_ERR.match(line)
        if "MISMATCH" in line:
            line = "message digest MISMATCH"
        elif err:
            line = f"error: {err.group(1)}: {err.group(2)}"
        elif OSSL_KEEP.match(line.strip()):
            line = re.sub(r"\s+", " ", line.strip())
        else:
            continue
        if not parts or parts[-1] != line:
            parts.append(line)
    return "; ".join(parts)


def unix(rfc3339):
    return int(dt.datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=dt.timezone.utc).timestamp())


def cmd_check_expected(a):
    bad = 0
    for name, exp in json.load(open(a.input)).items():
        crl = (exp.get("crl") or [None])[0]
        got, rc = ossl_summary(name, exp["trust"][0], crl, unix(exp["verification_time"]))
        agrees = (rc == 0) == (exp["expected_status"] == "valid")
        if got != exp["osslsigncode"] or agrees != exp["osslsigncode_agrees"]:
            bad += 1
            print(f"{name}\n  recorded: {exp['osslsigncode']} (agrees {exp['osslsigncode_agrees']})"
                  f"\n  now:      {got} (agrees {agrees})")
    print(f"check-expected: {bad} difference(s)")
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=[
        "forge-root", "gap-after-headers", "gap-between-sections", "flip-gap", "gaps",
        "legacy-countersign", "rfc3161-timestamp", "drop-certificates", "add-cert-choice", "ossl-summary",
        "check-expected"])
    ap.add_argument("input", nargs="?", default="integrity/expected.json")
    ap.add_argument("output", nargs="?")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--time")
    ap.add_argument("--digest", default="sha256")
    ap.add_argument("--chain")
    ap.add_argument("--serial", default="1")
    ap.add_argument("--kind", choices=["other", "v2attr"])
    ap.add_argument("--trust")
    ap.add_argument("--crl")
    a = ap.parse_args()
    c = a.command
    if c == "check-expected":
        return cmd_check_expected(a)
    if c == "ossl-summary":
        print(ossl_summary(a.input, a.trust, a.crl, a.time)[0])
        return 0
    if c == "gaps":
        cmd_gaps(a)
        return 0
    if not a.output:
        ap.error("OUT is required")
    {"forge-root": cmd_forge_root,
     "gap-after-headers": lambda a: cmd_gap(a, "headers"),
     "gap-between-sections": lambda a: cmd_gap(a, "sections"),
     "flip-gap": cmd_flip_gap,
     "legacy-countersign": cmd_legacy_countersign,
     "rfc3161-timestamp": cmd_rfc3161_timestamp,
     "drop-certificates": cmd_drop_certificates,
     "add-cert-choice": cmd_add_cert_choice}[c](a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
