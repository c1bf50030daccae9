#!/usr/bin/env python3
"""Byte-level edits of a PE's Authenticode certificate table, for bingate's signed fixtures.

Everything is located from the PE headers (e_lfanew -> optional header -> data directory 4,
IMAGE_DIRECTORY_ENTRY_SECURITY, whose "VirtualAddress" is a file offset); nothing is
hard-coded. Each edit also rewrites OptionalHeader.CheckSum (the checksum is not covered by
the Authenticode hash, so this only keeps the file self-consistent), except where noted.

Usage: pe_cert_tool.py COMMAND IN [OUT] [options]
  info IN                        print the security directory and its WIN_CERTIFICATE entries
  flip-text IN OUT               flip (xor 0x01) one byte in the middle of .text raw data
  pad-entry IN OUT [--bytes N]   grow the FIRST entry by N (default 16, multiple of 8) non-zero
                                 bytes inside its dwLength; directory size += N (CVE-2013-3900)
  append IN OUT [--bytes N]      append N (default 100) bytes after the table; directory unchanged
  truncate IN OUT                cut the file in the middle of the certificate table
  dir-past-end IN OUT [--bytes N]  directory size += N (default 4096): it now ends past EOF
  dup-entry IN OUT               append a copy of the first entry; directory size updated
  digest IN [--alg sha256]       Authenticode image hash, both ways (file order minus the three
                                 excluded ranges, as osslsigncode/signify; and header + sorted
                                 sections + remaining data, as the PE/COFF spec steps)
  ossl-summary IN [--crl CRL]    one-line summary of `osslsigncode verify -ignore-crl
                                 -CAfile pki/root.pem -TSA-CAfile pki/root.pem [-CRLfile CRL] -in IN`
                                 (run from corpus/)
  check-expected [JSON]          re-run ossl-summary for every fixture in signed/expected.json and
                                 compare with the recorded "osslsigncode"/"osslsigncode_crl" fields
"""
import json
import re
import subprocess
import hashlib
import argparse
import struct
import sys

DIR_SECURITY = 4


class PE:
    def __init__(self, data: bytes):
        self.d = bytearray(data)
        if self.d[:2] != b"MZ":
            raise SystemExit("not an MZ file")
        self.pe = struct.unpack_from("<I", self.d, 0x3C)[0]
        if self.d[self.pe:self.pe + 4] != b"PE\0\0":
            raise SystemExit("no PE signature")
        coff = self.pe + 4
        self.coff = coff
        self.nsect, = struct.unpack_from("<H", self.d, coff + 2)
        self.opt_size, = struct.unpack_from("<H", self.d, coff + 16)
        self.opt = coff + 20
        magic, = struct.unpack_from("<H", self.d, self.opt)
        if magic == 0x10B:
            dd, nrva_off = self.opt + 96, self.opt + 92
        elif magic == 0x20B:
            dd, nrva_off = self.opt + 112, self.opt + 108
        else:
            raise SystemExit(f"unknown optional header magic {magic:#x}")
        nrva, = struct.unpack_from("<I", self.d, nrva_off)
        if nrva <= DIR_SECURITY:
            raise SystemExit("no security data directory")
        self.dd, self.nrva = dd, nrva
        self.checksum_off = self.opt + 64
        self.sec_dir = dd + 8 * DIR_SECURITY
        self.sect_table = self.opt + self.opt_size

    def u32(self, off):
        return struct.unpack_from("<I", self.d, off)[0]

    @property
    def size_of_headers(self):
        return self.u32(self.opt + 60)

    @property
    def cert_off(self):
        return struct.unpack_from("<I", self.d, self.sec_dir)[0]

    @property
    def cert_size(self):
        return struct.unpack_from("<I", self.d, self.sec_dir + 4)[0]

    def set_cert_dir(self, off, size):
        struct.pack_into("<II", self.d, self.sec_dir, off, size)

    def section_headers(self):
        """(header offset, name, PointerToRawData, SizeOfRawData) in section-table order."""
        out = []
        for i in range(self.nsect):
            o = self.sect_table + 40 * i
            name = bytes(self.d[o:o + 8]).rstrip(b"\0").decode("ascii", "replace")
            rawsize, rawptr = struct.unpack_from("<II", self.d, o + 16)
            out.append((o, name, rawptr, rawsize))
        return out

    def sections(self):
        """(name, PointerToRawData, SizeOfRawData) in section-table order."""
        return [(name, ptr, size) for _, name, ptr, size in self.section_headers()]

    def entries(self):
        """(offset, dwLength, wRevision, wCertificateType) of each entry inside the directory."""
        off, end = self.cert_off, self.cert_off + self.cert_size
        out = []
        while off + 8 <= min(end, len(self.d)):
            length, rev, typ = struct.unpack_from("<IHH", self.d, off)
            out.append((off, length, rev, typ))
            if length < 8:
                break
            off += (length + 7) & ~7
        return out

    def need_signed(self):
        if self.cert_off == 0 or self.cert_size == 0:
            raise SystemExit("file has no certificate table")
        if self.cert_off + self.cert_size != len(self.d):
            raise SystemExit("expected the certificate table to end the file")

    def update_checksum(self):
        d = self.d
        struct.pack_into("<I", d, self.checksum_off, 0)
        total = 0
        buf = bytes(d) + (b"\0" if len(d) % 2 else b"")
        for (w,) in struct.iter_unpack("<H", buf):
            total += w
            total = (total & 0xFFFF) + (total >> 16)
        total = (total & 0xFFFF) + (total >> 16)
        struct.pack_into("<I", d, self.checksum_off, (total + len(d)) & 0xFFFFFFFF)


def digests(pe, alg):
    d = bytes(pe.d)
    size = len(d)
    cert = (pe.cert_off, pe.cert_off + pe.cert_size) if pe.cert_off and pe.cert_size else (size, size)
    skip = sorted([(pe.checksum_off, pe.checksum_off + 4), (pe.sec_dir, pe.sec_dir + 8),
                   (min(cert[0], size), min(cert[1], size))])

    def hash_range(h, start, end):
        pos = start
        for s, e in skip:
            if e <= pos or s >= end:
                continue
            if s > pos:
                h.update(d[pos:s])
            pos = max(pos, e)
        if pos < end:
            h.update(d[pos:end])

    a = hashlib.new(alg)
    hash_range(a, 0, size)
    b = hashlib.new(alg)
    size_of_headers = pe.size_of_headers
    hash_range(b, 0, size_of_headers)
    end = size_of_headers
    for _, ptr, raw in sorted((x for x in pe.sections() if x[2]), key=lambda x: x[1]):
        hash_range(b, ptr, ptr + raw)
        end = max(end, ptr + raw)
    hash_range(b, end, size)
    return a.hexdigest(), b.hexdigest()


OSSL_KEEP = re.compile(
    r"^(No signature found|Corrupted attribute certificate table|Warning: Ignoring PE signature.*"
    r"|Warning: invalid PE checksum|Unauthenticated Data Blob length: .*"
    r"|Timestamp Server Signature verification: .*|Signature CRL verification: .*"
    r"|Signature verification: .*|Number of verified signatures: .*|\s*Error: .*"
    r"|Message digest algorithm  : .*|Page hash algorithm  : .*)$")


def ossl_summary(path, crl=None):
    """Exit status plus the salient lines of osslsigncode verify, in order (times left out)."""
    cmd = ["osslsigncode", "verify", "-ignore-crl", "-CAfile", "pki/root.pem",
           "-TSA-CAfile", "pki/root.pem"]
    if crl:
        cmd += ["-CRLfile", crl]
    cmd += ["-in", path]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    parts = []
    for line in p.stdout.splitlines():
        if "MISMATCH" in line:
            parts.append("message digest MISMATCH")
        elif OSSL_KEEP.match(line):
            parts.append(re.sub(r"\s+", " ", line.strip()))
    verdict = "Succeeded" if p.returncode == 0 else "Failed"
    return f"{verdict} (exit {p.returncode}): " + "; ".join(parts)


def check_expected(path):
    bad = 0
    for name, exp in json.load(open(path)).items():
        for key, crl in (("osslsigncode", None), ("osslsigncode_crl", (exp.get("crl") or [None])[0])):
            if key not in exp:
                continue
            got = ossl_summary(name, crl)
            if got != exp[key]:
                bad += 1
                print(f"{name} [{key}]\n  recorded: {exp[key]}\n  now:      {got}")
    print(f"check-expected: {bad} difference(s)")
    return 1 if bad else 0


def nonzero(n):
    # Deterministic, never zero: 0x41 0x42 ... ("ABCD...").
    return bytes(0x41 + (i % 26) for i in range(n))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["info", "flip-text", "pad-entry", "append", "truncate",
                                        "dir-past-end", "dup-entry", "digest",
                                        "ossl-summary", "check-expected"])
    ap.add_argument("input", nargs="?", default="signed/expected.json")
    ap.add_argument("output", nargs="?")
    ap.add_argument("--bytes", type=int)
    ap.add_argument("--alg", default="sha256")
    ap.add_argument("--crl")
    a = ap.parse_args()
    if a.command == "ossl-summary":
        print(ossl_summary(a.input, a.crl))
        return 0
    if a.command == "check-expected":
        return check_expected(a.input)
    pe = PE(open(a.input, "rb").read())

    if a.command == "info":
        print(f"file size {len(pe.d)}; security directory at header offset {pe.sec_dir:#x}: "
              f"file offset {pe.cert_off:#x}, size {pe.cert_size}")
        for off, length, rev, typ in pe.entries():
            print(f"  entry at {off:#x}: dwLength {length}, wRevision {rev:#06x}, type {typ}")
        for name, ptr, size in pe.sections():
            print(f"  section {name:8} raw {ptr:#x}+{size:#x}")
        return 0
    if a.command == "digest":
        fo, spec = digests(pe, a.alg)
        print(f"file-order {fo}\nspec-steps {spec}")
        return 0
    if not a.output:
        ap.error("OUT is required")

    if a.command == "flip-text":
        text = [s for s in pe.sections() if s[0] == ".text"]
        if not text or text[0][2] == 0:
            raise SystemExit("no .text raw data")
        _, ptr, size = text[0]
        pos = ptr + size // 2
        pe.d[pos] ^= 0x01
        print(f"flipped byte at {pos:#x} (.text raw {ptr:#x}+{size:#x})", file=sys.stderr)
        pe.update_checksum()
    elif a.command == "pad-entry":
        n = a.bytes or 16
        if n % 8:
            raise SystemExit("--bytes must keep 8-byte alignment (multiple of 8)")
        pe.need_signed()
        off, length, _, _ = pe.entries()[0]
        if length % 8:
            raise SystemExit("first entry's dwLength is not 8-aligned")
        at = off + length
        pe.d[at:at] = nonzero(n)
        struct.pack_into("<I", pe.d, off, length + n)
        pe.set_cert_dir(pe.cert_off, pe.cert_size + n)
        pe.update_checksum()
    elif a.command == "append":
        n = a.bytes or 100
        pe.need_signed()
        pe.d += nonzero(n)
        pe.update_checksum()
    elif a.command == "truncate":
        pe.need_signed()
        cut = pe.cert_off + pe.cert_size // 2
        del pe.d[cut:]
        # Checksum left as osslsigncode wrote it: the file is meant to be cut short.
    elif a.command == "dir-past-end":
        n = a.bytes or 4096
        pe.need_signed()
        pe.set_cert_dir(pe.cert_off, pe.cert_size + n)
        pe.update_checksum()
    elif a.command == "dup-entry":
        pe.need_signed()
        off, length, _, _ = pe.entries()[0]
        entry = bytes(pe.d[off:off + ((length + 7) & ~7)])
        pe.d += entry
        pe.set_cert_dir(pe.cert_off, pe.cert_size + len(entry))
        pe.update_checksum()
    open(a.output, "wb").write(pe.d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
