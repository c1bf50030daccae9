#!/usr/bin/env python3
"""Byte-level helpers for bingate's SmartScreen-risk fixtures (corpus/risk/).

Driven by corpus/recipes/build-risk.sh; run from corpus/. Everything is located from the PE
headers (e_lfanew -> section table -> data directory 2, the resource directory); nothing is
hard-coded except the constants documented below. Random bytes come from Python's seeded
Mersenne Twister (random.Random(seed).randbytes), which is stable across Python versions for
integer seeds, so every output is reproducible.

Usage: risktool.py COMMAND ...
  ico OUT                          write the 16x16 32-bpp icon used by app.rc
  manifests IN --expect N          fail unless IN has exactly N RT_MANIFEST resources
  no-rsrc IN                       fail if IN has a resource directory or a .rsrc section
  packed BASE OUT [--seed S]       UPX-looking repack of BASE (see make_packed)
  overlay IN OUT [--bytes N] [--seed S]
                                   append N seeded random bytes after the last section
  rsrc-cycle | rsrc-huge | rsrc-bad-data | rsrc-bad-version | rsrc-bad-manifest IN OUT
                                   malformed-resource copies of IN (see PATCHES); print the
                                   patch description as JSON
  info IN                          sections, entropy, checksum, overlay as JSON
(corpus/risk/expected.json is written by risk_expected.py, which imports this module.)
"""
import argparse
import hashlib
import json
import math
import os
import random
import re
import shlex
import struct
import subprocess
import sys

RT_NAMES = {1: "CURSOR", 2: "BITMAP", 3: "ICON", 4: "MENU", 5: "DIALOG", 6: "STRING",
            9: "ACCELERATOR", 10: "RCDATA", 12: "GROUP_CURSOR", 14: "GROUP_ICON",
            16: "VERSION", 24: "MANIFEST"}
RT_ICON, RT_GROUP_ICON, RT_VERSION, RT_MANIFEST = 3, 14, 16, 24
DIR_IMPORT, DIR_RESOURCE, DIR_SECURITY, DIR_IAT = 1, 2, 4, 12


###############################################################################
# PE parsing
###############################################################################
class PE:
    def __init__(self, data):
        self.d = bytearray(data)
        if self.d[:2] != b"MZ":
            raise SystemExit("not an MZ file")
        self.pe = struct.unpack_from("<I", self.d, 0x3C)[0]
        if self.d[self.pe:self.pe + 4] != b"PE\0\0":
            raise SystemExit("no PE signature")
        self.coff = self.pe + 4
        (self.machine, self.nsect, self.timestamp, _, _, self.opt_size,
         self.characteristics) = struct.unpack_from("<HHIIIHH", self.d, self.coff)
        self.opt = self.coff + 20
        self.magic, = struct.unpack_from("<H", self.d, self.opt)
        if self.magic == 0x20B:
            self.dd_off, nrva_off = self.opt + 112, self.opt + 108
        elif self.magic == 0x10B:
            self.dd_off, nrva_off = self.opt + 96, self.opt + 92
        else:
            raise SystemExit("unknown optional header magic %#x" % self.magic)
        self.nrva, = struct.unpack_from("<I", self.d, nrva_off)
        self.checksum_off = self.opt + 64
        self.size_of_image, self.size_of_headers = struct.unpack_from("<II", self.d, self.opt + 56)
        self.subsystem, self.dll_characteristics = struct.unpack_from("<HH", self.d, self.opt + 68)
        self.sect_off = self.opt + self.opt_size
        self.sections = []
        for i in range(self.nsect):
            o = self.sect_off + 40 * i
            name = bytes(self.d[o:o + 8]).rstrip(b"\0").decode("latin-1")
            vsize, va, rawsize, rawptr = struct.unpack_from("<IIII", self.d, o + 8)
            ch, = struct.unpack_from("<I", self.d, o + 36)
            self.sections.append(dict(name=name, vsize=vsize, va=va, rawsize=rawsize,
                                      rawptr=rawptr, characteristics=ch, header_off=o))

    def dd(self, i):
        if i >= self.nrva:
            return 0, 0
        return struct.unpack_from("<II", self.d, self.dd_off + 8 * i)

    def rva_to_off(self, rva):
        for s in self.sections:
            if s["va"] <= rva < s["va"] + max(s["vsize"], s["rawsize"]):
                if rva - s["va"] >= s["rawsize"]:
                    return None
                return s["rawptr"] + rva - s["va"]
        return None

    def end_of_sections(self):
        """File offset just past the last section's raw data (or the headers)."""
        end = self.size_of_headers
        for s in self.sections:
            if s["rawsize"]:
                end = max(end, s["rawptr"] + s["rawsize"])
        return end

    def stored_checksum(self):
        return struct.unpack_from("<I", self.d, self.checksum_off)[0]


def pe_checksum(data, checksum_off):
    """PE image checksum: ones-complement-style sum of the file as 32-bit little-endian words
    with the carries folded back in, skipping the CheckSum field, folded to 16 bits, plus the
    file length (the algorithm of imagehlp's CheckSumMappedFile / pefile)."""
    d = bytes(data)
    if len(d) % 4:
        d += b"\0" * (4 - len(d) % 4)
    s = 0
    for i, (w,) in enumerate(struct.iter_unpack("<I", d)):
        if i * 4 == checksum_off:
            continue
        s = (s & 0xFFFFFFFF) + w + (s >> 32)
        if s > 0xFFFFFFFF:
            s = (s & 0xFFFFFFFF) + (s >> 32)
    s = (s & 0xFFFF) + (s >> 16)
    s = s + (s >> 16)
    s &= 0xFFFF
    return s + len(data)


def pe_checksum16(data, checksum_off):
    """Same checksum computed the other way (16-bit words, end-around carry); cross-check."""
    d = bytes(data)
    if len(d) % 2:
        d += b"\0"
    s = 0
    for i, (w,) in enumerate(struct.iter_unpack("<H", d)):
        if checksum_off <= 2 * i < checksum_off + 4:
            continue
        s += w
        s = (s & 0xFFFF) + (s >> 16)
    return ((s & 0xFFFF) + len(data)) & 0xFFFFFFFF


def checksum_facts(data):
    pe = PE(data)
    c = pe_checksum(data, pe.checksum_off)
    assert c == pe_checksum16(data, pe.checksum_off)
    return {"stored": pe.stored_checksum(), "computed": c,
            "valid": pe.stored_checksum() == c}


def set_checksum(buf):
    pe = PE(buf)
    struct.pack_into("<I", buf, pe.checksum_off, pe_checksum(buf, pe.checksum_off))


def entropy(b):
    if not b:
        return 0.0
    n = len(b)
    counts = [0] * 256
    for x in b:
        counts[x] += 1
    return abs(-sum(c / n * math.log2(c / n) for c in counts if c))   # abs: no -0.0


###############################################################################
# Resource directory
###############################################################################
class Rsrc:
    """Walks the resource tree of a well-formed image (the unpatched app.exe)."""

    def __init__(self, pe):
        self.pe = pe
        rva, size = pe.dd(DIR_RESOURCE)
        if not rva:
            raise SystemExit("no resource directory")
        self.rva, self.size = rva, size
        self.base = pe.rva_to_off(rva)
        self.leaves = []   # dicts: type, name, lang, entry offsets
        self._walk(0, 0, [], [])

    def dir_header(self, rel):
        ch, ts, maj, mnr, nnamed, nid = struct.unpack_from("<IIHHHH", self.pe.d, self.base + rel)
        return dict(named=nnamed, ids=nid)

    def _walk(self, rel, level, path, entry_offs):
        h = self.dir_header(rel)
        for i in range(h["named"] + h["ids"]):
            eoff = self.base + rel + 16 + 8 * i
            name, target = struct.unpack_from("<II", self.pe.d, eoff)
            if name & 0x80000000:
                raise SystemExit("named resources are not expected in this fixture")
            if target & 0x80000000:
                if level >= 2:
                    raise SystemExit("resource tree deeper than 3 levels")
                self._walk(target & 0x7FFFFFFF, level + 1, path + [name], entry_offs + [eoff])
            else:
                if level != 2:
                    raise SystemExit("data entry above level 3")
                de = self.base + target
                drva, dsize, cp, _ = struct.unpack_from("<IIII", self.pe.d, de)
                self.leaves.append(dict(type=path[0], name=path[1], lang=name,
                                        type_entry=entry_offs[0], name_entry=entry_offs[1],
                                        lang_entry=eoff, data_entry=de, data_rva=drva,
                                        data_size=dsize, data_off=self.pe.rva_to_off(drva)))

    def leaf(self, rtype):
        ls = [l for l in self.leaves if l["type"] == rtype]
        if len(ls) != 1:
            raise SystemExit("expected exactly one resource of type %d, found %d" % (rtype, len(ls)))
        return ls[0]


###############################################################################
# Generators
###############################################################################
def make_ico():
    """16x16, 32 bpp BGRA, one image: a blue square with a white 2-pixel frame and a white
    diagonal. BMP rows are bottom-up; the AND mask is all zero (alpha does the work)."""
    W = H = 16
    px = bytearray()
    for y in range(H - 1, -1, -1):
        for x in range(W):
            white = x < 2 or y < 2 or x >= W - 2 or y >= H - 2 or x == y
            px += bytes((0xFF, 0xFF, 0xFF, 0xFF)) if white else bytes((0xC0, 0x60, 0x20, 0xFF))
    mask = bytes(4 * H)   # 16 bits per row padded to 32
    bih = struct.pack("<IiiHHIIiiII", 40, W, 2 * H, 1, 32, 0, len(px) + len(mask), 0, 0, 0, 0)
    img = bih + bytes(px) + mask
    return (struct.pack("<HHH", 0, 1, 1)
            + struct.pack("<BBBBHHII", W, H, 0, 0, 1, 32, len(img), 6 + 16) + img)


def make_packed(base, seed):
    """UPX-looking repack of a linked mingw x86_64 console program.

    UPX 4.x is not installable in this environment, so this imitates the *shape* of a
    UPX-packed win64 executable: the DOS header/stub, COFF header fields and optional-header
    fields (linker version, OS/subsystem versions, subsystem, DllCharacteristics, stack/heap)
    are those of BASE; all of BASE's sections are dropped and replaced by
      UPX0  VA 0x1000,  VirtualSize 0x10000, SizeOfRawData 0, PointerToRawData 0x400,
            0xE0000080 (UNINITIALIZED_DATA|EXECUTE|READ|WRITE)  -- like real UPX0
      UPX1  VA 0x11000, VirtualSize = SizeOfRawData = 0x4000 at 0x400,
            0xE0000040 (INITIALIZED_DATA|EXECUTE|READ|WRITE): 16371 seeded random bytes
            followed by a 13-byte entry stub (sub rsp,0x28; xor ecx,ecx;
            call [rip+IAT(ExitProcess)]; int3) -- stands in for UPX's compressed data + stub
      UPX2  VA 0x15000, 0x200 raw bytes at 0x4400, 0xC0000040: the import directory
            (KERNEL32.DLL: LoadLibraryA, GetProcAddress, VirtualProtect, ExitProcess --
            the imports of a UPX win64 stub)
    "UPX!" is written at UPX1.PointerToRawData - 32 (0x3E0), where real UPX keeps its
    pack header, after the section table and before the first raw data; the other 28 bytes
    of that 32-byte area stay zero (no real pack header). CheckSum is 0, TimeDateStamp is
    BASE's (0). No relocation directory: the stub is RIP-relative. No resources."""
    b = PE(base)
    FA, SA = 0x200, 0x1000
    HDR = 0x400
    UPX0_VA, UPX0_VS = 0x1000, 0x10000
    UPX1_VA, UPX1_RAW = UPX0_VA + UPX0_VS, 0x4000
    UPX2_VA = UPX1_VA + UPX1_RAW
    upx2_ptr = HDR + UPX1_RAW

    # --- UPX2: import directory --------------------------------------------
    funcs = ["LoadLibraryA", "GetProcAddress", "VirtualProtect", "ExitProcess"]
    n = len(funcs)
    ilt = 40                      # after 2 descriptors
    iat = ilt + 8 * (n + 1)
    names = iat + 8 * (n + 1)
    u2 = bytearray(names)
    hn_rvas = []
    for f in funcs:
        hn_rvas.append(UPX2_VA + len(u2))
        ent = struct.pack("<H", 0) + f.encode() + b"\0"
        if len(ent) % 2:
            ent += b"\0"
        u2 += ent
    dll_rva = UPX2_VA + len(u2)
    u2 += b"KERNEL32.DLL\0"
    upx2_vs = len(u2)
    struct.pack_into("<IIIII", u2, 0, UPX2_VA + ilt, 0, 0, dll_rva, UPX2_VA + iat)
    for i, r in enumerate(hn_rvas):
        struct.pack_into("<Q", u2, ilt + 8 * i, r)
        struct.pack_into("<Q", u2, iat + 8 * i, r)
    exitprocess_iat = UPX2_VA + iat + 8 * funcs.index("ExitProcess")
    u2 += b"\0" * (-len(u2) % FA)

    # --- UPX1: random bytes + entry stub ------------------------------------
    stub_len = 13
    rnd = random.Random(seed).randbytes(UPX1_RAW - stub_len)
    entry = UPX1_VA + len(rnd)
    rel = exitprocess_iat - (entry + 12)          # end of the 6-byte call at stub+6
    stub = bytes.fromhex("4883ec28" "31c9" "ff15") + struct.pack("<i", rel) + b"\xcc"
    assert len(stub) == stub_len
    u1 = rnd + stub

    size_of_image = UPX2_VA + ((upx2_vs + SA - 1) // SA) * SA

    # --- headers --------------------------------------------------------------
    out = bytearray(HDR)
    out[:b.pe] = b.d[:b.pe]                        # DOS header + stub (e_lfanew kept)
    out[b.pe:b.pe + 4] = b"PE\0\0"
    coff = bytearray(b.d[b.coff:b.coff + 20])
    struct.pack_into("<H", coff, 2, 3)             # NumberOfSections
    struct.pack_into("<II", coff, 8, 0, 0)         # no COFF symbol table
    out[b.pe + 4:b.pe + 24] = coff
    if b.magic != 0x20B or b.opt_size != 240:
        raise SystemExit("packed: base must be a PE32+ image with a 240-byte optional header")
    opt = bytearray(b.d[b.opt:b.opt + 240])
    struct.pack_into("<III", opt, 4, UPX1_RAW, len(u2), UPX0_VS)  # SizeOf{Code,InitData,UninitData}
    struct.pack_into("<II", opt, 16, entry, UPX0_VA)              # AddressOfEntryPoint, BaseOfCode
    struct.pack_into("<II", opt, 56, size_of_image, HDR)          # SizeOfImage, SizeOfHeaders
    struct.pack_into("<I", opt, 64, 0)                            # CheckSum
    for i in range(16):
        struct.pack_into("<II", opt, 112 + 8 * i, 0, 0)
    struct.pack_into("<II", opt, 112 + 8 * DIR_IMPORT, UPX2_VA, 40)
    struct.pack_into("<II", opt, 112 + 8 * DIR_IAT, UPX2_VA + iat, 8 * (n + 1))
    out[b.opt:b.opt + 240] = opt
    st = b.opt + 240
    sects = [(b"UPX0", UPX0_VS, UPX0_VA, 0, HDR, 0xE0000080),
             (b"UPX1", UPX1_RAW, UPX1_VA, UPX1_RAW, HDR, 0xE0000040),
             (b"UPX2", upx2_vs, UPX2_VA, len(u2), upx2_ptr, 0xC0000040)]
    for i, (nm, vs, va, rs, rp, ch) in enumerate(sects):
        struct.pack_into("<8sIIIIIIHHI", out, st + 40 * i, nm, vs, va, rs, rp, 0, 0, 0, 0, ch)
    magic_off = HDR - 32
    if st + 40 * len(sects) > magic_off:
        raise SystemExit("packed: section table overlaps the UPX! area")
    out[magic_off:magic_off + 4] = b"UPX!"
    out += u1 + u2
    return bytes(out), dict(upx_magic_offset=magic_off, entry_rva=entry,
                            random_bytes=len(rnd), seed=seed, stub=stub.hex())


def seeded_bytes(n, seed):
    return random.Random(seed).randbytes(n)


###############################################################################
# Malformed resource trees (each on a copy of app.exe; CheckSum then recomputed)
###############################################################################
def _u32(buf, off, new):
    old, = struct.unpack_from("<I", buf, off)
    struct.pack_into("<I", buf, off, new)
    return dict(file_offset=off, width=4, old=old, new=new)


def _u16(buf, off, new):
    old, = struct.unpack_from("<H", buf, off)
    struct.pack_into("<H", buf, off, new)
    return dict(file_offset=off, width=2, old=old, new=new)


def patch_cycle(buf, pe, rs):
    v = rs.leaf(RT_VERSION)
    rel = v["name_entry"] - rs.base
    e = _u32(buf, v["name_entry"] + 4, 0x80000000)
    return ("In the RT_VERSION (16) type's name directory (level 2 of the tree), the entry for "
            "ID 1 (at .rsrc+%#x) normally points to the language directory; its OffsetToData "
            "(.rsrc+%#x) is set to 0x80000000: subdirectory flag | offset 0 = the root "
            "directory, so a naive walk loops root -> VERSION -> 1 -> root ..." % (rel, rel + 4),
            [dict(e, what="IMAGE_RESOURCE_DIRECTORY_ENTRY.OffsetToData of VERSION/1 (level 2)",
                  rsrc_offset=rel + 4)])


def patch_huge(buf, pe, rs):
    e = _u16(buf, rs.base + 14, 0xFFFF)
    return ("Root IMAGE_RESOURCE_DIRECTORY.NumberOfIdEntries (.rsrc+0xe) set from %d to 0xFFFF: "
            "the entry array (0xFFFF * 8 bytes) runs far past the end of .rsrc and of the file; "
            "the first %d entries are still the real ones" % (e["old"], e["old"]),
            [dict(e, what="root NumberOfIdEntries", rsrc_offset=14)])


BAD_DATA_RVA = 0x10000000


def patch_bad_data(buf, pe, rs):
    v = rs.leaf(RT_VERSION)
    e = _u32(buf, v["data_entry"], BAD_DATA_RVA)
    return ("The RT_VERSION leaf's IMAGE_RESOURCE_DATA_ENTRY.OffsetToData (an RVA, at .rsrc+%#x) "
            "set from %#x to %#x, past SizeOfImage (%#x) and the file size; Size (%d) unchanged. "
            "The VERSIONINFO bytes are still in the file at their old place."
            % (v["data_entry"] - rs.base, e["old"], BAD_DATA_RVA, pe.size_of_image, v["data_size"]),
            [dict(e, what="VERSION IMAGE_RESOURCE_DATA_ENTRY.OffsetToData",
                  rsrc_offset=v["data_entry"] - rs.base)])


def patch_bad_version(buf, pe, rs):
    v = rs.leaf(RT_VERSION)
    o = v["data_off"]
    if bytes(buf[o + 6:o + 6 + 32]) != "VS_VERSION_INFO\0".encode("utf-16-le"):
        raise SystemExit("VS_VERSION_INFO key not where expected")
    e1 = _u16(buf, o, 0xFFFF)
    key_o = o + 6 + 2 * 14                          # the final 'O' of the key
    old = bytes(buf[key_o:key_o + 2])
    buf[key_o:key_o + 2] = "X".encode("utf-16-le")
    return ("VS_VERSION_INFO root block (file offset %#x, resource Size %d): wLength set from %d "
            "to 0xFFFF (past the resource's Size and the end of .rsrc's raw data), and the key "
            "'VS_VERSION_INFO' changed to 'VS_VERSION_INFX' (UTF-16LE char 15 at %#x: 'O' -> 'X'). "
            "wValueLength, wType and VS_FIXEDFILEINFO are untouched."
            % (o, v["data_size"], e1["old"], key_o),
            [dict(e1, what="VS_VERSIONINFO.wLength"),
             dict(file_offset=key_o, width=2, old=old.hex(), new="5800",
                  what="szKey[14]: 'O' (4f00) -> 'X' (5800)")])


BAD_MANIFEST_PREFIX = b"<assembly><trustInfo>"


def patch_bad_manifest(buf, pe, rs):
    m = rs.leaf(RT_MANIFEST)
    o, n = m["data_off"], m["data_size"]
    new = BAD_MANIFEST_PREFIX + b" " * (n - len(BAD_MANIFEST_PREFIX))
    old = bytes(buf[o:o + n])
    buf[o:o + n] = new
    return ("The RT_MANIFEST (24) ID 1 data (%d bytes at file offset %#x) overwritten in place, "
            "same length, with %r followed by %d spaces: not well-formed XML (unclosed "
            "<assembly> and <trustInfo>, no requestedExecutionLevel). Directory/data entry "
            "unchanged." % (n, o, BAD_MANIFEST_PREFIX.decode(), n - len(BAD_MANIFEST_PREFIX)),
            [dict(file_offset=o, width=n, old_sha256=hashlib.sha256(old).hexdigest(),
                  new="%r + %d spaces" % (BAD_MANIFEST_PREFIX.decode(), n - len(BAD_MANIFEST_PREFIX)),
                  what="manifest bytes")])


PATCHES = {"rsrc-cycle": patch_cycle, "rsrc-huge": patch_huge, "rsrc-bad-data": patch_bad_data,
           "rsrc-bad-version": patch_bad_version, "rsrc-bad-manifest": patch_bad_manifest}


def apply_patch(kind, data):
    buf = bytearray(data)
    pe = PE(buf)
    rs = Rsrc(pe)
    desc, edits = PATCHES[kind](buf, pe, rs)
    old_ck = pe.stored_checksum()
    set_checksum(buf)
    new_ck = PE(buf).stored_checksum()
    edits.append(dict(file_offset=pe.checksum_off, width=4, old=old_ck, new=new_ck,
                      what="OptionalHeader.CheckSum recomputed after the edit"))
    return bytes(buf), dict(description=desc, edits=edits)


###############################################################################
# info
###############################################################################
def info(data):
    pe = PE(data)
    secs = []
    for s in pe.sections:
        raw = bytes(pe.d[s["rawptr"]:s["rawptr"] + s["rawsize"]]) if s["rawsize"] else b""
        secs.append(dict(name=s["name"], virtual_address=s["va"], virtual_size=s["vsize"],
                         raw_size=s["rawsize"], raw_pointer=s["rawptr"],
                         characteristics=s["characteristics"], entropy=round(entropy(raw), 4)))
    end = pe.end_of_sections()
    sec_rva, sec_size = pe.dd(DIR_SECURITY)
    return dict(size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                machine=pe.machine, magic=pe.magic, subsystem=pe.subsystem,
                dll_characteristics=pe.dll_characteristics,
                file_characteristics=pe.characteristics, size_of_image=pe.size_of_image,
                sections=secs, end_of_sections=end, bytes_after_sections=len(data) - end,
                security_directory=[sec_rva, sec_size],
                file_entropy=round(entropy(data), 4), checksum=checksum_facts(data))


###############################################################################
# CLI
###############################################################################
def rd(p):
    with open(p, "rb") as f:
        return f.read()


def wr(p, b):
    with open(p, "wb") as f:
        f.write(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd")
    ap.add_argument("args", nargs="*")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bytes", type=int, default=4096)
    ap.add_argument("--expect", type=int)
    a = ap.parse_args()
    if a.cmd == "ico":
        wr(a.args[0], make_ico())
    elif a.cmd == "manifests":
        pe = PE(rd(a.args[0]))
        got = len([l for l in Rsrc(pe).leaves if l["type"] == RT_MANIFEST])
        if got != a.expect:
            raise SystemExit("%s: %d RT_MANIFEST resources, expected %d (a toolchain with "
                             "default-manifest.o adds its own)" % (a.args[0], got, a.expect))
    elif a.cmd == "no-rsrc":
        pe = PE(rd(a.args[0]))
        if pe.dd(DIR_RESOURCE) != (0, 0) or any(s["name"] == ".rsrc" for s in pe.sections):
            raise SystemExit("%s: has resources (default-manifest.o?)" % a.args[0])
    elif a.cmd == "packed":
        out, _ = make_packed(rd(a.args[0]), a.seed)
        wr(a.args[1], out)
    elif a.cmd == "overlay":
        data = rd(a.args[0])
        pe = PE(data)
        if pe.end_of_sections() != len(data):
            raise SystemExit("overlay: input already has data after its last section")
        wr(a.args[1], data + seeded_bytes(a.bytes, a.seed))
    elif a.cmd in PATCHES:
        out, desc = apply_patch(a.cmd, rd(a.args[0]))
        wr(a.args[1], out)
        print(json.dumps(desc))
    elif a.cmd == "info":
        print(json.dumps(info(rd(a.args[0])), indent=1))
    else:
        raise SystemExit("unknown command " + a.cmd)


if __name__ == "__main__":
    main()
