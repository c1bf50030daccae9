#!/usr/bin/env python3
"""Writes corpus/risk/expected.json for the SmartScreen-risk fixtures.

Called by `bash corpus/recipes/build-risk.sh --expected` (run from corpus/). The facts are
DECLARED below from the recipe (build-risk.sh, app.rc, app.manifest, risktool.py) and then
CHECKED against independent tools -- llvm-readobj (LLVM 14), x86_64-w64-mingw32-objdump and
-windres (binutils 2.40, `windres -O rc` decompiles the resources of the linked image) and
osslsigncode 2.9 -- whose relevant output is stored next to each fixture. Any disagreement
aborts. Checksums and entropies are computed here in Python (risktool.py), as documented.
bingate is never run.
"""
import argparse
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True          # keep corpus/src/risk free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import risktool as rt                   # noqa: E402

OBJDUMP = "x86_64-w64-mingw32-objdump"  # reads pei-i386 too
WINDRES = "x86_64-w64-mingw32-windres"

VERSION_STRINGS = {
    "CompanyName": "Bingate Test Corp",
    "FileDescription": "bingate risk fixture",
    "FileVersion": "1.2.3.4",
    "LegalCopyright": "(c) Bingate Test",
    "OriginalFilename": "app.exe",
    "ProductName": "Bingate Risk App",
}
MANIFEST = {"level": "asInvoker", "uiAccess": False}
APP_RESOURCES = [  # (type, name, lang) in directory order, as windres/ld lay them out
    (3, 1, 0x409), (14, 1, 0x409), (16, 1, 0x409), (24, 1, 0x409)]

TS_2026 = {"kind": "rfc3161", "time": "2026-01-15T00:00:00Z", "tsa": "pki/tsa.pem",
           "tsa_chain": "pki/tsa-chain.pem", "digest": "sha256"}
SIG_COMMON = {"digest_algorithm": "sha256", "program_name": "Bingate Risk App",
              "statement_type": "individual (osslsigncode default)",
              "signing_time": "2026-01-15T00:00:00Z", "verification_time": "2026-11-22T00:00:00Z"}

APP_NOTE = ("x86_64 mingw GUI program (-mwindows, WinMain returns 0) with a windres VERSIONINFO "
            "(FILEVERSION/PRODUCTVERSION 1,2,3,4, StringFileInfo 040904B0), RT_MANIFEST id 1 "
            "(asInvoker, uiAccess false) and one icon group (RT_GROUP_ICON 1 -> RT_ICON 1, "
            "16x16 32 bpp), all language 0x409. Linked with --dynamicbase --nxcompat "
            "--high-entropy-va. Only our manifest is present: Debian 12's mingw-w64 does not "
            "ship default-manifest.o, which gcc's specs would otherwise link in. Unsigned; "
            "CheckSum as written by GNU ld.")

# name -> declared facts (everything not listed here is filled in from app.exe's declarations)
FIXTURES = {
    "app.exe": dict(base=None, arch="x86_64", subsystem="windows-gui", signed=False,
                    tree="ok", description=APP_NOTE),
    "app-signed.exe": dict(
        base="risk/app.exe", arch="x86_64", subsystem="windows-gui", signed=True,
        tree="ok",
        signature=dict(SIG_COMMON, signer="pki/leaf-rsa.pem", certs="pki/leaf-rsa-chain.pem",
                       key="pki/leaf-rsa.key", timestamp=TS_2026, trust=["pki/root.pem"],
                       expected_status="valid",
                       reasons="RSA-2048 leaf <- intermediate <- root; SHA-256; RFC 3161 "
                               "timestamp 2026-01-15 inside the leaf's validity (2025-01-01.."
                               "2035-12-31); valid when pki/root.pem is trusted"),
        ossl_exit=0, description="app.exe signed with the leaf-rsa chain, SHA-256, "
                                 "-n 'Bingate Risk App', built-in TSA timestamp 2026-01-15"),
    "app-selfsigned.exe": dict(
        base="risk/app.exe", arch="x86_64", subsystem="windows-gui", signed=True,
        tree="ok",
        signature=dict(SIG_COMMON, signer="pki/selfsigned.pem", certs="pki/selfsigned.pem",
                       key="pki/selfsigned.key", timestamp=TS_2026, trust=["pki/root.pem"],
                       expected_status="untrusted",
                       reasons="self-signed code-signing certificate (CA:FALSE) that chains to "
                               "no trusted root; image hash, CMS signature and timestamp are "
                               "intact"),
        ossl_exit=1, description="app.exe signed with pki/selfsigned.{key,pem}, SHA-256, "
                                 "built-in TSA timestamp 2026-01-15: untrusted"),
    "app-signed-no-ts.exe": dict(
        base="risk/app.exe", arch="x86_64", subsystem="windows-gui", signed=True,
        tree="ok",
        signature=dict(SIG_COMMON, signer="pki/leaf-rsa.pem", certs="pki/leaf-rsa-chain.pem",
                       key="pki/leaf-rsa.key", timestamp=None, trust=["pki/root.pem"],
                       expected_status="valid",
                       reasons="as app-signed.exe without a timestamp: the chain is validated "
                               "at the verification time, when the leaf is valid; the "
                               "signingTime attribute (2026-01-15) is not a trusted time"),
        ossl_exit=0, description="app.exe signed with the leaf-rsa chain, SHA-256, no timestamp"),
    "packed.exe": dict(
        base=None, arch="x86_64", subsystem="windows-console", signed=False,
        tree="absent",
        description="UPX-LOOKING, NOT UPX-PACKED: UPX is not installable in this environment. "
                    "risktool.py packed rebuilds a linked mingw x86_64 console program "
                    "(src/risk/packed.c) into the layout of a UPX win64 output: BASE's DOS "
                    "stub, COFF and optional-header fields are kept, all its sections are "
                    "replaced by UPX0 (no raw data, 64 KiB virtual, uninitialised, RWX), UPX1 "
                    "(RWX, 16371 seeded random bytes from random.Random(1) + a 13-byte entry "
                    "stub: sub rsp,0x28; xor ecx,ecx; call [ExitProcess]; int3) and UPX2 (the "
                    "import directory: KERNEL32.DLL LoadLibraryA, GetProcAddress, VirtualProtect, "
                    "ExitProcess). 'UPX!' at file offset 0x3e0 = UPX1.PointerToRawData - 32, "
                    "after the section table and before the first raw data, as real UPX places "
                    "its pack header (the other 28 bytes of that area are zero: no real pack "
                    "header, no version string). No resources, no VERSIONINFO, no relocations, "
                    "CheckSum 0. Structurally valid; runs as ExitProcess(0)."),
    "setup.exe": dict(
        base=None, arch="i686", subsystem="windows-console", signed=False,
        tree="absent",
        description="i686 mingw console program (PE32) named setup.exe with no resource "
                    "section at all: no manifest (so no requestedExecutionLevel) and no "
                    "VERSIONINFO. 32-bit + installer-like name + no requestedExecutionLevel = "
                    "the conditions of Windows' UAC installer detection."),
    "overlay.exe": dict(
        base="risk/app.exe", arch="x86_64", subsystem="windows-gui", signed=False,
        tree="ok",
        description="app.exe with 4096 bytes from random.Random(2).randbytes(4096) appended "
                    "after the last section's raw data (an overlay); headers untouched, so the "
                    "stored CheckSum is now stale"),
}
MALFORMED = ["rsrc-cycle.exe", "rsrc-huge.exe", "rsrc-bad-data.exe", "rsrc-bad-version.exe",
             "rsrc-bad-manifest.exe"]
for _m in MALFORMED:
    FIXTURES[_m] = dict(base="risk/app.exe", arch="x86_64", subsystem="windows-gui",
                        signed=False, malformed=True, tree="malformed", description=None)
FIXTURES["rsrc-bad-version.exe"].update(tree="ok", version_bad=True)
FIXTURES["rsrc-bad-manifest.exe"].update(tree="ok", manifest_bad=True)

# What stays intact in each malformed copy (the bytes; not a claim about what a parser
# should report for the damaged part).
INTACT = {
    "rsrc-cycle.exe": "ICON, GROUP_ICON and MANIFEST subtrees and all leaf data untouched; only "
                      "VERSION/1 is redirected to the root (VERSION data bytes still present "
                      "but unreachable through the tree)",
    "rsrc-huge.exe": "the 4 real root entries (ICON, GROUP_ICON, VERSION, MANIFEST) and all "
                     "subtrees untouched; the directory claims 65535 entries",
    "rsrc-bad-data.exe": "tree intact; ICON, GROUP_ICON and MANIFEST leaves valid; the VERSION "
                         "leaf's data RVA is out of range (its bytes are still in .rsrc)",
    "rsrc-bad-version.exe": "tree and all other leaves intact; the VERSION leaf points to "
                            "valid file bytes whose VS_VERSIONINFO header is corrupt",
    "rsrc-bad-manifest.exe": "tree, ICON, GROUP_ICON and VERSION intact (version strings as "
                             "app.exe); the MANIFEST leaf's bytes are not well-formed XML",
}

T2026_S = "1768435200"


###############################################################################
# tool runners / parsers
###############################################################################
def run(cmd, timeout=60):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "", "timeout"
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def exit_str(rc):
    if rc is None:
        return "timeout"
    if rc < 0:
        import signal
        return "killed by %s (crash)" % signal.Signals(-rc).name
    return rc


def first_lines(s, n=2):
    ls = [l.strip() for l in s.splitlines() if l.strip()]
    return ls[:n]


def llvm_sections(path):
    cmd = ["llvm-readobj", "--sections", path]
    rc, out, err = run(cmd)
    secs, cur = [], None
    for line in out.splitlines():
        line = line.strip()
        m = re.match(r"Name: (\S*) \(", line)
        if m:
            cur = {"name": m.group(1)}
            secs.append(cur)
        elif cur is not None:
            m = re.match(r"(VirtualSize|RawDataSize|PointerToRawData): (\S+)", line)
            if m:
                cur[m.group(1)] = int(m.group(2), 0)
            m = re.match(r"Characteristics \[ \((0x[0-9A-F]+)\)", line)
            if m:
                cur["Characteristics"] = int(m.group(1), 16)
    return dict(command=" ".join(cmd), exit=exit_str(rc), stderr=first_lines(err), sections=[
        dict(name=s["name"], virtual_size=s["VirtualSize"], raw_size=s["RawDataSize"],
             characteristics="%#010x" % s["Characteristics"]) for s in secs])


def llvm_resources(path):
    cmd = ["llvm-readobj", "--coff-resources", path]
    rc, out, err = run(cmd)
    leaves, typ, name, lang, cur, in_data = [], None, None, None, None, False
    total = None
    for line in out.splitlines():
        s = line.strip()
        if in_data:
            if s == ")":
                in_data = False
                continue
            m = re.match(r"[0-9A-F]{4,}: (.*?)\s*\|", s)
            if m:
                cur["data"] += bytes.fromhex("".join(m.group(1).split()))
            continue
        m = re.match(r"Total Number of Resources: (\d+)", s)
        if m:
            total = int(m.group(1))
        m = re.match(r"Type: .*\(ID (\d+)\) \[", s)
        if m:
            typ = int(m.group(1))
        m = re.match(r"Name: .*\(ID (\d+)\) \[", s)
        if m:
            name = int(m.group(1))
        m = re.match(r"Language: .*\(ID (\d+)\) \[", s)
        if m:
            lang = int(m.group(1))
            cur = dict(type=typ, name=name, lang=lang, data=b"")
            leaves.append(cur)
        m = re.match(r"DataRVA: (0x[0-9A-F]+)", s)
        if m:
            cur["rva"] = int(m.group(1), 16)
        m = re.match(r"DataSize: (\d+)", s)
        if m:
            cur["size"] = int(m.group(1))
        if s == "Data (":
            in_data = True
    if rc is None or rc < 0:
        frames = re.findall(r"^\s*#\d+ (0x[0-9a-f]+)", err, re.M)
        top = max(set(frames), key=frames.count) if frames else None
        rec = top and frames.count(top) > len(frames) // 2
        err_lines = ["crashed; stack dump omitted" + (
            ": most frames are one repeated return address in llvm-readobj, i.e. unbounded "
            "recursion (stack overflow)" if rec else "")]
    else:
        err_lines = first_lines(err)
    return dict(command=" ".join(cmd), exit=exit_str(rc), stderr=err_lines,
                total_resources=total, leaves=leaves)


def objdump(path):
    cmd = [OBJDUMP, "-x", path]
    rc, out, err = run(cmd)
    r = dict(command=" ".join(cmd), exit=exit_str(rc), stderr=first_lines(err, 4))
    m = re.search(r"file format (\S+)", out)
    r["file_format"] = m.group(1) if m else None
    for key, pat in [("characteristics", r"^Characteristics (0x[0-9a-f]+)"),
                     ("checksum", r"^CheckSum\s+([0-9a-f]+)"),
                     ("subsystem", r"^Subsystem\s+([0-9a-f]+\s+\(.*\))"),
                     ("dll_characteristics", r"^DllCharacteristics\s+([0-9a-f]+)"),
                     ("resource_directory", r"^Entry 2 (.*)"),
                     ("security_directory", r"^Entry 4 (.*)")]:
        m = re.search(pat, out, re.M)
        r[key] = re.sub(r"\s+", " ", m.group(1)).strip() if m else None
    lines = out.splitlines()
    tree = []
    if "The .rsrc Resource Directory section:" in lines:
        i = lines.index("The .rsrc Resource Directory section:") + 1
        while i < len(lines) and lines[i].strip():
            tree.append(lines[i].rstrip())
            i += 1
    r["rsrc_tree"] = tree
    r["corrupt_rsrc_reported"] = "Corrupt .rsrc section detected!" in out
    return r


def windres(path):
    cmd = [WINDRES, "-i", path, "-O", "rc"]
    rc, out, err = run(cmd)
    r = dict(command=" ".join(cmd), exit=exit_str(rc), stderr=first_lines(err))
    vs = {}
    for m in re.finditer(r'VALUE "([^"]+)", "((?:[^"]|"")*)"', out):
        vs[m.group(1)] = m.group(2).replace('""', '"')
    m = re.search(r"^ FILEVERSION (.*)$", out, re.M)
    r["fileversion"] = m.group(1).strip() if m else None
    m = re.search(r"^ PRODUCTVERSION (.*)$", out, re.M)
    r["productversion"] = m.group(1).strip() if m else None
    m = re.search(r'VALUE "Translation", (.*)$', out, re.M)
    r["translation"] = m.group(1).strip() if m else None
    r["version_strings"] = vs or None
    r["resource_types"] = re.findall(r"^/\* Type: (.*)$", out, re.M)
    return r


OSSL_KEEP = ("Message digest algorithm  :", "Text description:", "Timestamp time:",
             "Timestamp is not available", "Timestamp Server Signature verification:",
             "Signature verification time:", "Error:", "Signature verification:",
             "Number of verified signatures:", "No signature found", "Warning:")


def osslsigncode(path):
    cmd = ["osslsigncode", "verify", "-CAfile", "pki/root.pem", "-TSA-CAfile", "pki/root.pem",
           "-in", path]
    rc, out, err = run(cmd)
    keep = []
    for l in (err + "\n" + out).splitlines():
        l = l.strip()
        if (l.startswith(OSSL_KEEP) or l in ("Succeeded", "Failed")) and l not in keep:
            keep.append(re.sub(r"\s+", " ", l))
    return dict(command=" ".join(cmd), exit=exit_str(rc), result_lines=keep)


###############################################################################
# helpers
###############################################################################
SAFE = re.compile(r"[A-Za-z0-9_@%+=:,./$-]+")


def fmt_cmd(argv, corpus, tmp):
    out = []
    for a in argv:
        a = a.replace(tmp, "$TMP").replace(corpus, "$CORPUS")
        out.append(a if SAFE.fullmatch(a) else "'" + a.replace("'", "'\\''") + "'")
    return " ".join(out)


def read_log(log, corpus, tmp):
    rec = {}
    with open(log) as f:
        for line in f:
            name, _, rest = line.rstrip("\n").partition("\t")
            rec.setdefault(name, []).append(fmt_cmd(shlex.split(rest), corpus, tmp))
    return rec


def manifest_from(leaves):
    ms = [l for l in leaves if l["type"] == rt.RT_MANIFEST]
    if not ms:
        return None, 0, None, None
    text = ms[0]["data"].decode("utf-8", "replace")
    try:
        root = ET.fromstring(ms[0]["data"])
    except ET.ParseError as e:
        return None, len(ms), False, "xml.etree: %s" % e
    for el in root.iter():
        if el.tag.endswith("}requestedExecutionLevel") or el.tag == "requestedExecutionLevel":
            ui = el.get("uiAccess")
            return ({"level": el.get("level"),
                     "uiAccess": None if ui is None else ui.lower() == "true"},
                    len(ms), True, None)
    return None, len(ms), True, "no requestedExecutionLevel"


def check(cond, msg):
    if not cond:
        raise SystemExit("risk_expected.py: CHECK FAILED: " + msg)


def sections_with_entropy(info, llvm):
    out = []
    for s, l in zip(info["sections"], llvm["sections"]):
        check(s["name"] == l["name"] and s["raw_size"] == l["raw_size"]
              and s["virtual_size"] == l["virtual_size"]
              and s["characteristics"] == int(l["characteristics"], 16),
              "section table disagrees with llvm-readobj: %r vs %r" % (s, l))
        out.append(dict(name=s["name"], virtual_size=s["virtual_size"], raw_size=s["raw_size"],
                        characteristics=l["characteristics"], entropy=s["entropy"]))
    check(len(info["sections"]) == len(llvm["sections"]), "section count")
    return out


###############################################################################
# main
###############################################################################
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    recipes = read_log(a.log, a.corpus, a.tmp)
    recipes["app.exe"].insert(0, "python3 src/risk/risktool.py ico src/risk/app.ico  "
                                 "# only when the committed icon is absent")
    app_data = rt.rd("risk/app.exe")
    app_tree = None
    result = {}
    for name, decl in FIXTURES.items():
        path = "risk/" + name
        data = rt.rd(path)
        info = rt.info(data)
        secl = llvm_sections(path)
        res = llvm_resources(path)
        od = objdump(path)
        wr = windres(path)
        ossl = osslsigncode(path)
        e = {"description": decl["description"], "base": decl["base"],
             "recipe": recipes[name]}

        # --- arch / subsystem --------------------------------------------------
        fmt = {"x86_64": "pei-x86-64", "i686": "pei-i386"}[decl["arch"]]
        check(od["file_format"] == fmt, "%s: objdump format %s" % (name, od["file_format"]))
        e["arch"] = decl["arch"]
        e["pe_format"] = "PE32+" if decl["arch"] == "x86_64" else "PE32"
        sub = {"windows-gui": "00000002 (Windows GUI)",
               "windows-console": "00000003 (Windows CUI)"}[decl["subsystem"]]
        check(od["subsystem"] == sub, "%s: subsystem %s" % (name, od["subsystem"]))
        e["subsystem"] = decl["subsystem"]
        e["dll_characteristics"] = info["dll_characteristics"]
        check(int(od["dll_characteristics"], 16) == info["dll_characteristics"], "dllchar")
        if name.startswith("app") or name == "overlay.exe" or decl.get("malformed"):
            check(info["dll_characteristics"] & 0x160 == 0x160,
                  "%s: DYNAMIC_BASE|NX_COMPAT|HIGH_ENTROPY_VA" % name)

        # --- size / determinism ------------------------------------------------
        volatile = decl["signed"] and decl["signature"]["timestamp"] is not None
        e["size"] = info["size"]
        e["sha256"] = None if volatile else info["sha256"]
        e["deterministic"] = not volatile
        if volatile:
            e["size_note"] = ("varies by a few bytes between re-signs (random TSA serial, real "
                              "time in the token's signingTime); do not pin size or hash")

        # --- signature ---------------------------------------------------------
        e["signed"] = decl["signed"]
        if decl["signed"]:
            sig = dict(decl["signature"])
            check(ossl["exit"] == decl["ossl_exit"],
                  "%s: osslsigncode exit %r" % (name, ossl["exit"]))
            rl = ossl["result_lines"]
            check("Text description: Bingate Risk App" in rl, name + ": program name")
            check("Message digest algorithm : SHA256" in rl, name + ": digest")
            if sig["timestamp"]:
                check("Timestamp time: Jan 15 00:00:00 2026 GMT" in rl, name + ": ts time")
                check("Timestamp Server Signature verification: ok" in rl, name + ": tsa ok")
            else:
                check("Timestamp is not available" in rl, name + ": no ts")
            if sig["expected_status"] == "valid":
                check("Signature verification: ok" in rl, name + ": sig ok")
            else:
                check("Error: self-signed certificate" in rl, name + ": self-signed")
            sec_off, sec_len = info["security_directory"]
            check(sec_off == len(app_data) and sec_off + sec_len == len(data),
                  name + ": certificate table right after app.exe's bytes, ending the file")
            sig["certificate_table"] = {"offset": sec_off, "size": sec_len}
            if volatile:
                sig["certificate_table"]["size_note"] = "varies by a few bytes per re-sign"
            e["signature"] = sig
        else:
            e["signature"] = None
            check(ossl["exit"] == 1 and "No signature found" in ossl["result_lines"],
                  name + ": osslsigncode should find no signature")
            check(info["security_directory"] == [0, 0], name + ": security directory")

        # --- resources ---------------------------------------------------------
        malformed = decl.get("malformed", False)
        tree = decl["tree"]
        e["resource_tree"] = tree
        e["resources"] = [dict(type=l["type"], type_name=rt.RT_NAMES.get(l["type"]),
                               name=l["name"], lang=l["lang"], size=l.get("size"))
                          for l in res["leaves"]] if tree != "malformed" else None
        if tree == "absent":
            check(res["exit"] == 0 and res["leaves"] == [] and res["total_resources"] is None,
                  name + ": llvm-readobj should list no resources")
            check(od["resource_directory"].split()[:2] in (["0000000000000000", "00000000"],
                                                         ["00000000", "00000000"]),
                  name + ": resource data directory should be empty")
            check(not any(s["name"] == ".rsrc" for s in info["sections"]), name + ": .rsrc")
            check(wr["exit"] == 1 and "no resource section" in " ".join(wr["stderr"]),
                  name + ": windres should find no resource section")
            e["version_strings"] = None
            e["manifest"] = None
            e["manifest_resources"] = 0
            e["icon_groups"] = 0
        elif tree == "ok":
            check(res["exit"] == 0 and not res["stderr"], name + ": llvm-readobj resources")
            check(od["exit"] == 0 and not od["corrupt_rsrc_reported"], name + ": objdump")
            got = [(l["type"], l["name"], l["lang"]) for l in res["leaves"]]
            check(got == APP_RESOURCES, "%s: resources %r" % (name, got))
            ver = [l for l in res["leaves"] if l["type"] == rt.RT_VERSION][0]["data"]
            # version strings: windres -O rc decompile, cross-checked in llvm-readobj's bytes
            if decl.get("version_bad"):
                check(wr["exit"] == 1 and "unexpected version string" in " ".join(wr["stderr"]),
                      name + ": windres should reject the VERSIONINFO")
                check(ver[:2] == b"\xff\xff" and "VS_VERSION_INFX".encode("utf-16-le") in ver,
                      name + ": patched VS_VERSIONINFO header in llvm-readobj's bytes")
                e["version_strings"] = None
                e["version_info_valid"] = False
            else:
                check(wr["exit"] == 0, name + ": windres")
                check(wr["version_strings"] == VERSION_STRINGS,
                      "%s: version strings %r" % (name, wr["version_strings"]))
                check(wr["fileversion"] == "1, 2, 3, 4" and wr["productversion"] == "1, 2, 3, 4",
                      name + ": fixed versions")
                check(wr["translation"] == "0x409, 1200", name + ": translation")
                for k, v in VERSION_STRINGS.items():
                    check((k + "\0").encode("utf-16-le") in ver
                          and (v + "\0").encode("utf-16-le") in ver,
                          "%s: %s not in llvm-readobj VERSION data" % (name, k))
                e["version_strings"] = dict(VERSION_STRINGS)
                e["fixed_file_version"] = "1.2.3.4"
                e["fixed_product_version"] = "1.2.3.4"
                e["version_translation"] = ["0x0409", 1200]
                e["version_info_valid"] = True
            # manifest: llvm-readobj's RT_MANIFEST bytes parsed with xml.etree
            man, nman, wf, merr = manifest_from(res["leaves"])
            if decl.get("manifest_bad"):
                check(man is None and nman == 1 and wf is False, name + ": bad manifest")
                e["manifest_error"] = merr
            else:
                check(man == MANIFEST and nman == 1 and wf, "%s: manifest %r" % (name, man))
            e["manifest"] = man
            e["manifest_resources"] = nman
            e["manifest_well_formed"] = wf
            e["icon_groups"] = len([l for l in res["leaves"] if l["type"] == rt.RT_GROUP_ICON])
            e["icons"] = len([l for l in res["leaves"] if l["type"] == rt.RT_ICON])
            check(e["icon_groups"] == 1 and e["icons"] == 1, name + ": icons")
            gi = [l for l in res["leaves"] if l["type"] == rt.RT_GROUP_ICON][0]["data"]
            # GRPICONDIR: reserved 0, type 1, count 1; entry 16x16, 1 plane, 32 bpp, id 1
            check(gi[:6] == bytes.fromhex("000001000100") and gi[6] == 16 and gi[7] == 16
                  and gi[10:12] == b"\x01\x00" and gi[12:14] == b"\x20\x00"
                  and gi[18:20] == b"\x01\x00", name + ": group icon " + gi.hex())
            ico = rt.rd("src/risk/app.ico")
            check(ico == rt.make_ico(), "src/risk/app.ico differs from risktool.py ico")
            icd = [l for l in res["leaves"] if l["type"] == rt.RT_ICON][0]["data"]
            check(icd == ico[22:], name + ": RT_ICON 1 is not app.ico's image")
            e["icon_group_entries"] = [{"width": 16, "height": 16, "planes": 1, "bit_count": 32,
                                        "bytes": int.from_bytes(gi[14:18], "little"),
                                        "icon_id": 1}]
        else:   # malformed tree: no claim about what a parser recovers; see "intact"
            e["version_strings"] = None
            e["manifest"] = None
            e["manifest_resources"] = None
            e["icon_groups"] = None

        # --- sections / entropy / overlay / checksum ---------------------------
        e["sections"] = sections_with_entropy(info, secl)
        if name == "packed.exe":
            names = [s["name"] for s in e["sections"]]
            check(names == ["UPX0", "UPX1", "UPX2"], "packed names %r" % names)
            u0, u1 = e["sections"][0], e["sections"][1]
            check(u0["raw_size"] == 0 and u0["virtual_size"] >= 0x10000
                  and u0["characteristics"] == "0xe0000080", "UPX0 %r" % u0)
            check(u1["characteristics"] == "0xe0000040" and u1["entropy"] > 7.5, "UPX1 %r" % u1)
            off = data.find(b"UPX!")
            check(off == 0x3E0 and off < min(s["raw_pointer"] for s in info["sections"]),
                  "UPX! offset %#x" % off)
            _, pinfo = rt.make_packed(rt.rd(os.path.join(a.tmp, "packed-base.exe")), 1)
            ppe = rt.PE(data)
            st_end = ppe.sect_off + 40 * ppe.nsect
            check(st_end <= off, "UPX! before the end of the section table")
            e["upx_magic"] = {"string": "UPX!", "file_offset": off,
                              "where": "headers area, after the section table (which ends at "
                                       "%#x) and before the first raw data (%#x): "
                                       "UPX1.PointerToRawData - 32" % (st_end, ppe.size_of_headers)}
            e["entry_point_rva"] = pinfo["entry_rva"]
            e["file_entropy"] = info["file_entropy"]
            e["imports"] = {"KERNEL32.DLL": ["LoadLibraryA", "GetProcAddress", "VirtualProtect",
                                             "ExitProcess"]}
            e["upx_installed"] = False
            check(od["exit"] == 0 and not od["stderr"], "packed objdump")
        e["overlay"] = None
        if info["bytes_after_sections"] and not decl["signed"]:
            e["overlay"] = {"offset": info["end_of_sections"], "size": info["bytes_after_sections"],
                            "source": "random.Random(2).randbytes(4096)",
                            "entropy": round(rt.entropy(data[info["end_of_sections"]:]), 4)}
            check(name == "overlay.exe" and info["bytes_after_sections"] == 4096
                  and data[:len(app_data)] == app_data
                  and data[len(app_data):] == rt.seeded_bytes(4096, 2), name + ": overlay")
        e["checksum"] = info["checksum"]
        if decl["signed"]:
            check(info["checksum"]["valid"], name + ": osslsigncode writes a valid checksum")
            if volatile:
                e["checksum"] = {"stored": None, "computed": None, "valid": True,
                                 "note": "osslsigncode writes a valid CheckSum; its value "
                                         "changes with every re-sign, so it is not recorded"}
        if name == "app.exe":
            check(info["checksum"]["valid"], "GNU ld's checksum expected to be valid")

        # --- malformed: patch description, reproduced from app.exe -------------
        if malformed:
            kind = name[:-4]
            out, desc = rt.apply_patch(kind, app_data)
            check(out == data, name + ": not reproducible from app.exe")
            e["patch"] = desc
            e["description"] = ("copy of app.exe with a malformed resource section (unsigned): "
                                + desc["description"])
            e["intact"] = INTACT[name]
            check(info["checksum"]["valid"], name + ": checksum recomputed")
            diff = [i for i in range(len(data)) if data[i] != app_data[i]]
            e["patch"]["changed_file_offsets"] = "%d bytes in [%#x, %#x]" % (
                len(diff), diff[0], diff[-1])

        # --- tool outputs ------------------------------------------------------
        tools = {
            "llvm-readobj --sections": {k: secl[k] for k in ("command", "exit", "stderr")},
            "llvm-readobj --coff-resources": {
                "command": res["command"], "exit": res["exit"], "stderr": res["stderr"],
                "total_resources": res["total_resources"],
                "leaves": ["type %d name %d lang %#x rva %#x size %s" % (
                    l["type"], l["name"], l["lang"], l.get("rva", -1), l.get("size"))
                    for l in res["leaves"]]},
            "objdump -x": {k: od[k] for k in ("command", "exit", "stderr", "file_format",
                                              "characteristics", "subsystem",
                                              "dll_characteristics", "checksum",
                                              "resource_directory", "security_directory",
                                              "corrupt_rsrc_reported", "rsrc_tree")},
            "windres -O rc": {k: wr[k] for k in ("command", "exit", "stderr", "resource_types",
                                                 "fileversion", "productversion",
                                                 "version_strings")},
            "osslsigncode verify": ossl,
        }
        if volatile:
            tools["objdump -x"]["checksum"] = "(varies per re-sign)"
            tools["objdump -x"]["security_directory"] = "(size varies per re-sign) " + \
                " ".join(od["security_directory"].split()[:1])
        if name == "app.exe":
            app_tree = od["rsrc_tree"]
        elif tree == "ok" and not decl.get("version_bad") and not decl.get("manifest_bad"):
            check(od["rsrc_tree"] == app_tree, name + ": objdump rsrc tree differs from app.exe")
            tools["objdump -x"]["rsrc_tree"] = "same as risk/app.exe"
        e["tools"] = tools
        result["risk/" + name] = e

    with open(a.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print("risk_expected.py: %d fixtures checked, wrote %s" % (len(result), a.out),
          file=sys.stderr)


if __name__ == "__main__":
    main()
