#!/usr/bin/env python3
"""Cross-check corpus/expected.json against the GNU/LLVM binary tools.

Independent of bingate: every fact is re-derived from the text output of
readelf / nm (ELF) and x86_64-w64-mingw32-objdump -p / llvm-readobj-14 (PE),
then compared with the hand-written expectation. Only facts that are present
in expected.json are compared. Files under public/ are checked when present
(run fetch-public.sh first). Exit status 1 on any mismatch.

Usage: python3 corpus/recipes/verify.py [-v]
"""
import json
import os
import re
import subprocess
import sys

CORPUS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
READOBJ = os.environ.get("LLVM_READOBJ", "llvm-readobj-14")
OBJDUMP = os.environ.get("PE_OBJDUMP", "x86_64-w64-mingw32-objdump")

CHK_PLAIN = {
    "memcpy", "memmove", "mempcpy", "memset", "strcpy", "stpcpy", "strncpy", "stpncpy",
    "strcat", "strncat", "sprintf", "vsprintf", "snprintf", "vsnprintf", "printf",
    "vprintf", "fprintf", "vfprintf", "dprintf", "vdprintf", "read", "pread", "pread64",
    "fgets", "fgets_unlocked", "fread", "fread_unlocked", "gets", "getcwd", "getwd",
    "readlink", "readlinkat", "realpath", "recv", "recvfrom", "wmemcpy", "wmemmove",
    "wmemset", "wcscpy", "wcsncpy", "wcscat", "wcsncat", "swprintf", "wprintf", "fwprintf",
    "confstr", "ttyname_r", "ptsname_r", "getlogin_r", "gethostname", "getdomainname",
    "syslog", "vsyslog", "obstack_printf", "asprintf", "vasprintf", "poll", "ppoll",
}

ELF_ARCH = {
    "Advanced Micro Devices X86-64": "x86_64", "Intel 80386": "x86", "AArch64": "aarch64",
    "ARM": "arm", "RISC-V": "riscv64", "PowerPC": "powerpc", "PowerPC64": "powerpc64",
    "MIPS R3000": "mips", "IBM S/390": "s390x",
}


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout


def elf_facts(path):
    h = run("readelf", "-hW", path)
    l = run("readelf", "-lW", path)
    d = run("readelf", "-dW", path)
    n = run("readelf", "-nW", path)
    s = run("readelf", "-SW", path)
    syms = run("readelf", "-sW", path)
    f = {"format": "elf"}
    cls = re.search(r"Class:\s+ELF(\d+)", h).group(1)
    f["bits"] = int(cls)
    mach = re.search(r"Machine:\s+(.+)", h).group(1).strip()
    arch = ELF_ARCH.get(mach, "unknown")
    if arch == "riscv64" and f["bits"] == 32:
        arch = "riscv32"
    f["arch"] = arch
    etype = re.search(r"Type:\s+(\w+)", h).group(1)
    has_interp = re.search(r"^\s+INTERP\s", l, re.M) is not None
    has_dynamic = re.search(r"^\s+DYNAMIC\s", l, re.M) is not None
    flags1 = re.search(r"\(FLAGS_1\)\s+Flags:(.*)", d)
    flags1 = flags1.group(1).split() if flags1 else []
    flags = re.search(r"\(FLAGS\)\s+(.*)", d)
    flags = flags.group(1).split() if flags else []
    df1_pie = "PIE" in flags1
    if etype == "REL":
        f["kind"], f["pie"] = "object", "rel"
    elif etype == "EXEC":
        f["kind"], f["pie"] = "executable", "no"
    elif etype == "DYN":
        if has_interp or df1_pie:
            f["kind"], f["pie"] = "executable", "pie"
        else:
            f["kind"], f["pie"] = "shared-library", "dso"
    stack = re.search(r"^\s+GNU_STACK\s+.*?\s(R?W?E?)\s+0x[0-9a-f]+$", l, re.M)
    f["nx"] = bool(stack) and "E" not in stack.group(1)
    relro = re.search(r"^\s+GNU_RELRO\s", l, re.M) is not None
    bind_now = "BIND_NOW" in flags or "NOW" in flags1 or re.search(r"\(BIND_NOW\)", d) is not None
    f["bind_now"] = bind_now
    f["relro"] = ("full" if bind_now else "partial") if relro else "none"
    names = set()
    for line in syms.splitlines():
        m = re.match(r"\s*\d+:\s+\S+\s+\d+\s+\w+\s+\w+\s+\w+\s+(\S+)\s+(\S+)", line)
        if m:
            names.add(m.group(2).split("@")[0])
    f["canary"] = bool(names & {"__stack_chk_fail", "__stack_chk_fail_local",
                                "__stack_chk_guard", "__intel_security_cookie"})
    und = set()
    for line in run("readelf", "--dyn-syms", "-W", path).splitlines():
        m = re.match(r"\s*\d+:\s+\S+\s+\d+\s+\w+\s+\w+\s+\w+\s+UND\s+(\S+)", line)
        if m:
            und.add(m.group(1).split("@")[0])
    chk = {u for u in und if re.fullmatch(r"__\w+_chk", u)}
    plain = {u for u in und if u in CHK_PLAIN}
    f["fortify"] = {"fortified": len(chk), "unfortified": len(plain)}
    rp = re.search(r"\(RPATH\)\s+Library rpath: \[(.*)\]", d)
    rn = re.search(r"\(RUNPATH\)\s+Library runpath: \[(.*)\]", d)
    f["rpath"] = rp.group(1).split(":") if rp else []
    f["runpath"] = rn.group(1).split(":") if rn else []
    f["stripped"] = re.search(r"\]\s+\.symtab\s", s) is None
    f["textrel"] = "(TEXTREL)" in d or "TEXTREL" in flags
    f["wx_segments"] = any("W" in m.group(1) and "E" in m.group(1) for m in
                           re.finditer(r"^\s+LOAD\s+.*?\s(R?W?E?)\s+0x[0-9a-f]+$", l, re.M)) \
        or any(re.search(r"\bRWE\b", line) for line in l.splitlines() if line.strip().startswith("LOAD"))
    x86 = re.search(r"x86 feature: (.*)", n)
    x86 = [x.strip() for x in x86.group(1).split(",")] if x86 else []
    f["ibt"], f["shstk"] = "IBT" in x86, "SHSTK" in x86
    a64 = re.search(r"AArch64 feature: (.*)", n)
    a64 = [x.strip() for x in a64.group(1).split(",")] if a64 else []
    f["bti"], f["pac"] = "BTI" in a64, "PAC" in a64
    # static: an executable that loads no shared library (no PT_INTERP and no DT_NEEDED);
    # static-pie keeps PT_DYNAMIC only to relocate itself.
    f["static"] = f["kind"] == "executable" and not has_interp and "(NEEDED)" not in d
    interp = re.search(r"Requesting program interpreter: (.*)\]", l)
    f["interpreter"] = interp.group(1) if interp else None
    comment = run("readelf", "-p", ".comment", path)
    if re.search(r"\]\s+\.(gopclntab|go\.buildinfo)\s", s):
        f["toolchain"] = "go"
    elif "GCC:" in comment:
        f["toolchain"] = "gcc"
    return f


SUBSYS = {1: "native", 2: "windows-gui", 3: "windows-cui", 10: "efi-application",
          11: "efi-boot-service-driver", 12: "efi-runtime-driver"}


DD_NAMES = ["ExportTable", "ImportTable", "ResourceTable", "ExceptionTable", "CertificateTable",
            "BaseRelocationTable", "Debug", "Architecture", "GlobalPtr", "TLSTable",
            "LoadConfigTable", "BoundImport", "IAT", "DelayImportDescriptor", "CLRRuntimeHeader"]


def pe_header(path):
    """(bits, file characteristics, dll characteristics, subsystem, image base, data dirs),
    from mingw objdump -p, or from llvm-readobj --file-headers for machines objdump does not
    know (ARM64)."""
    p = subprocess.run([OBJDUMP, "-p", path], capture_output=True, text=True).stdout
    m = re.search(r"^Magic\s+(\w+)", p, re.M)
    if m:
        bits = 64 if m.group(1) == "020b" else 32
        ch = int(re.search(r"^Characteristics\s+0x([0-9a-f]+)", p, re.M).group(1), 16)
        dllc = int(re.search(r"^DllCharacteristics\s+([0-9a-f]+)", p, re.M).group(1), 16)
        sub = int(re.search(r"^Subsystem\s+([0-9a-f]+)", p, re.M).group(1), 16)
        base = int(re.search(r"^ImageBase\s+([0-9a-f]+)", p, re.M).group(1), 16)
        dirs = []
        for idx in range(15):
            dm = re.search(r"^Entry %x ([0-9a-f]+) ([0-9a-f]+)" % idx, p, re.M)
            dirs.append((int(dm.group(1), 16), int(dm.group(2), 16)) if dm else (0, 0))
        return bits, ch, dllc, sub, base, dirs
    h = run(READOBJ, "--file-headers", path)
    bits = 64 if re.search(r"Magic: 0x20B", h) else 32
    chars = re.findall(r"Characteristics \[ \((0x[0-9A-F]+)\)", h)
    ch, dllc = int(chars[0], 16), int(chars[1], 16)
    sub = int(re.search(r"Subsystem: \S+ \((0x[0-9A-F]+)\)", h).group(1), 16)
    base = int(re.search(r"ImageBase: (0x[0-9A-F]+)", h).group(1), 16)
    dirs = []
    for name in DD_NAMES:
        rva = re.search(r"%sRVA: (0x[0-9A-F]+)" % name, h)
        size = re.search(r"%sSize: (0x[0-9A-F]+)" % name, h)
        dirs.append((int(rva.group(1), 16) if rva else 0, int(size.group(1), 16) if size else 0))
    return bits, ch, dllc, sub, base, dirs


def pe_facts(path):
    f = {"format": "pe"}
    bits, ch, dllc, sub, image_base, dirs = pe_header(path)
    f["bits"] = bits
    hdr = run(READOBJ, "--file-headers", path)
    mach = re.search(r"Machine: IMAGE_FILE_MACHINE_(\w+)", hdr).group(1)
    f["arch"] = {"AMD64": "x86_64", "I386": "x86", "ARM64": "aarch64", "ARMNT": "arm"}.get(mach, "unknown")
    f["image_base"] = image_base
    f["subsystem"] = SUBSYS.get(sub, "unknown")
    if ch & 0x2000:
        f["kind"] = "shared-library"
    elif sub == 1:
        # native subsystem: a user-mode native program imports ntdll.dll and no kernel module
        dlls = {m.lower() for m in re.findall(r"DLL Name: (\S+)", run(OBJDUMP, "-p", path))}
        kernel = {"ntoskrnl.exe", "hal.dll", "wdfldr.sys", "ndis.sys", "fltmgr.sys"}
        f["kind"] = "native-executable" if "ntdll.dll" in dlls and not dlls & kernel else "driver"
    elif sub == 10:
        f["kind"] = "efi-application"
    elif sub in (11, 12):
        f["kind"] = "efi-driver"
    else:
        f["kind"] = "executable"
    f["relocs_stripped"] = bool(ch & 0x1)
    f["large_address_aware"] = bool(ch & 0x20)
    f["dynamic_base"] = bool(dllc & 0x40)
    f["high_entropy_va"] = bool(dllc & 0x20)
    f["force_integrity"] = bool(dllc & 0x80)
    f["nx_compat"] = bool(dllc & 0x100)
    f["isolation"] = not (dllc & 0x200)
    f["appcontainer"] = bool(dllc & 0x1000)
    f["guard_cf"] = bool(dllc & 0x4000)

    def dd(idx):
        return dirs[idx]

    f["has_signature"] = dd(4)[1] != 0
    f["dotnet"] = dd(14)[1] != 0
    f["has_load_config"] = dd(10)[0] != 0
    lc = run(READOBJ, "--coff-load-config", path)

    def lcv(name):
        m = re.search(r"^\s+%s: (0x[0-9A-Fa-f]+|\d+)" % name, lc, re.M)
        return int(m.group(1), 0) if m else 0

    gflags = lcv("GuardFlags")
    f["cfg_instrumented"] = (lcv("GuardCFCheckFunction") != 0 and lcv("GuardCFFunctionTable") != 0
                             and (gflags & 0x500) == 0x500)
    f["ehcont"] = bool(gflags & 0x00400000)
    f["gs_cookie"] = lcv("SecurityCookie") != 0
    if f["arch"] != "x86":
        f["safe_seh"] = "not-applicable"
    elif dllc & 0x400:
        f["safe_seh"] = "no-seh"
    elif lcv("SEHandlerTable") != 0:
        f["safe_seh"] = "table"
    else:
        f["safe_seh"] = "absent"
    dbg = run(READOBJ, "--coff-debug-directory", path)
    f["cet_compat"] = "IMAGE_DLL_CHARACTERISTICS_EX_CET_COMPAT" in dbg
    secs = run(READOBJ, "--sections", path)
    wx, shw, sections = [], [], []
    for m in re.finditer(r"Name: (\S+).*?VirtualSize: (0x[0-9A-F]+)\s+VirtualAddress: (0x[0-9A-F]+).*?"
                         r"Characteristics \[ \((0x[0-9A-F]+)\)", secs, re.S):
        name, vs, va, c = m.group(1), int(m.group(2), 16), int(m.group(3), 16), int(m.group(4), 16)
        sections.append((name, va, vs, c))
        if c & 0x80000000 and c & 0x20000000:
            wx.append(name)
        if c & 0x80000000 and c & 0x10000000:
            shw.append(name)
    f["wx_sections"], f["shared_writable_sections"] = wx, shw
    irva, isz = dd(1)
    f["executable_imports"] = False
    if irva:
        for name, va, vs, c in sections:
            if va <= irva < va + max(vs, 1):
                f["executable_imports"] = bool(c & 0x20000000)
    return f


def main():
    verbose = "-v" in sys.argv
    exp = json.load(open(os.path.join(CORPUS, "expected.json")))
    bad = checked = skipped = 0
    for rel, e in sorted(exp.items()):
        path = os.path.join(CORPUS, rel)
        if not os.path.exists(path):
            if rel.startswith("public/"):
                skipped += 1
                continue
            print(f"MISSING {rel}")
            bad += 1
            continue
        got = elf_facts(path) if e["format"] == "elf" else pe_facts(path)
        want = dict(e.get("hardening", {}))
        for k in ("format", "arch", "bits", "kind", "toolchain"):
            if k in e:
                want[k] = e[k]
        for k, v in want.items():
            if k == "toolchain" and e["format"] == "pe":
                continue  # PE toolchain is not derivable from objdump text; by construction only
            if k == "toolchain" and k not in got:
                print(f"MISMATCH {rel}: toolchain expected {v!r}, no GCC .comment / Go sections")
                bad += 1
                continue
            if got.get(k) != v:
                print(f"MISMATCH {rel}: {k} expected {v!r} got {got.get(k)!r}")
                bad += 1
            checked += 1
        if verbose:
            print(f"ok {rel}")
    print(f"verify: {checked} facts checked, {bad} mismatches, {skipped} public files absent (skipped)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
