#!/usr/bin/env python3
"""Compare bingate's ELF hardening verdicts with checksec.sh 2.6 on a directory.

Usage:
  scripts/compare-checksec.py [DIR] [options]          (DIR defaults to /usr/bin)

Options:
  --bingate PATH        bingate binary (default: <repo>/target/release/bingate)
  --bingate-json FILE   use this saved `bingate check --format json DIR` report
                        instead of running bingate
  --checksec PATH       checksec.sh (default: /usr/bin/checksec)
  --checksec-json FILE  use this saved `checksec --output=json --dir=DIR` output
                        instead of running checksec.sh (~0.15 s per file)
  --save DIR            keep both raw reports in DIR (bingate.json, checksec.json)
  --max-list N          list at most N disagreements per reason (default: all)

What it does:
  1. runs `bingate check --format json DIR` and `checksec --output=json --dir=DIR`
  2. for every ELF file both tools examined, compares relro, nx, pie, canary,
     stripped (checksec.sh "symbols"), rpath and runpath (emptiness only)
  3. prints a markdown table of agree / disagree / total per fact
  4. tags every disagreement with a documented reason that is re-checked
     mechanically from `readelf` output for that very file (see REASONS below
     and scripts/README.md), or with UNEXPLAINED
  5. exits 1 if any UNEXPLAINED disagreement (or an unexplained file-coverage
     difference) remains, 2 on usage / tool errors, 0 otherwise

Vocabulary mapping (bingate -> checksec.sh 2.6 JSON):
  relro   "full"/"partial"/"none"      -> "full"/"partial"/"no"
  nx      true/false                   -> "yes"/"no"
  pie     "pie"/"dso"/"no"/"rel"       -> "yes"/"dso"/"no"/"rel"
  canary  true/false                   -> "yes"/"no"
  stripped true/false                  -> symbols "no"/"yes"
  rpath, runpath  non-empty list       -> "yes" (empty list -> "no")

Only python3's standard library and binutils' readelf are needed.
"""

import argparse
import json
import os
import re
import subprocess
import sys
from collections import Counter, OrderedDict, defaultdict

FACTS = ["relro", "nx", "pie", "canary", "stripped", "rpath", "runpath"]

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --------------------------------------------------------------------------
# normalisation of both tools' values to checksec.sh's vocabulary

def bingate_value(h, fact):
    """bingate hardening dict -> checksec.sh vocabulary ("yes"/"no"/...)."""
    v = h.get(fact)
    if fact == "relro":
        return {"full": "full", "partial": "partial", "none": "no"}.get(v, repr(v))
    if fact in ("nx", "canary"):
        return {True: "yes", False: "no"}.get(v, repr(v))
    if fact == "pie":
        return {"pie": "yes", "dso": "dso", "no": "no", "rel": "rel"}.get(v, repr(v))
    if fact == "stripped":
        return {True: "no", False: "yes"}.get(v, repr(v))  # as checksec "symbols"
    if fact in ("rpath", "runpath"):
        if isinstance(v, list):
            return "yes" if v else "no"
        return repr(v)
    raise KeyError(fact)


def checksec_value(entry, fact):
    if fact == "stripped":
        return entry.get("symbols")
    return entry.get(fact)


def show_bingate(h, fact):
    """bingate's raw value, for the disagreement listing."""
    return json.dumps(h.get(fact))


def show_checksec(entry, fact):
    if fact == "stripped":
        return "symbols=" + str(entry.get("symbols"))
    return str(entry.get(fact))


# --------------------------------------------------------------------------
# readelf facts (the same tool checksec.sh greps), computed once per file

def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


class Elf:
    """What readelf says about one file (only the bits the reasons need)."""

    def __init__(self, path):
        self.path = path
        rc_h, hdr, err_h = run(["readelf", "-hW", path])
        _, phdrs, err_l = run(["readelf", "-lW", path])
        _, dyn, err_d = run(["readelf", "-dW", path])
        _, syms, err_s = run(["readelf", "-sW", path])
        self.readelf_ok = rc_h == 0 and "Error:" not in err_h
        self.readelf_errors = " ".join(
            l.strip() for l in (err_h + err_l + err_d + err_s).splitlines() if "Error" in l
        )
        m = re.search(r"Type:\s+(\w+)", hdr)
        self.etype = m.group(1) if m else None
        self.phdr_types = re.findall(r"^\s+([A-Z_0-9]+|LOOS\+\w+)\s+0x", phdrs, re.M)
        self.has_program_headers = bool(self.phdr_types)
        self.has_interp = "INTERP" in self.phdr_types
        self.has_dynamic = "DYNAMIC" in self.phdr_types
        self.has_gnu_relro = "GNU_RELRO" in self.phdr_types
        self.has_gnu_stack = "GNU_STACK" in self.phdr_types
        # flags sit between MemSiz and Align: "R E" is two tokens, "RWE" one
        self.dyn = dyn
        self.dyn_lines = [l for l in dyn.splitlines() if re.match(r"\s*0x[0-9a-f]+\s+\(", l)]
        self.tags = [re.search(r"\((\w+)\)", l).group(1) for l in self.dyn_lines]
        self.has_dt_debug = "DEBUG" in self.tags
        flags1 = [l for l in self.dyn_lines if "(FLAGS_1)" in l]
        self.df1 = flags1[0].split("Flags:", 1)[1].split() if flags1 and "Flags:" in flags1[0] else []
        flags = [l for l in self.dyn_lines if "(FLAGS)" in l]
        self.df = flags[0].split(")", 1)[1].split() if flags else []
        self.has_bind_now = "BIND_NOW" in self.tags or "BIND_NOW" in self.df
        self.now_flag_only_in_flags1 = "NOW" in self.df1 and "BIND_NOW" not in dyn
        self.rpath_values = re.findall(r"\(RPATH\).*?\[(.*)\]", dyn)
        self.runpath_values = re.findall(r"\(RUNPATH\).*?\[(.*)\]", dyn)
        self.has_symtab_section_named = "'.symtab'" in syms
        canary_re = re.compile(r"__stack_chk_fail|__stack_chk_guard|__intel_security_cookie")
        self.canary_sym_lines = [l for l in syms.splitlines() if canary_re.search(l)]
        # symbol name is column 8 of `readelf -sW`, possibly with @VERSION (n)
        self.canary_sym_names = set()
        for l in self.canary_sym_lines:
            f = l.split()
            if len(f) >= 8 and f[0].endswith(":"):
                self.canary_sym_names.add(f[7].split("@")[0])
        _, sects, _ = run(["readelf", "-SW", path])
        # .note.GNU-stack's Flg column (None when the section is absent)
        self.gnu_stack_note = None
        for l in sects.splitlines():
            if ".note.GNU-stack" in l and "]" in l:
                f = l.split("]", 1)[1].split()
                # Name Type Address Off Size ES [Flg] Lk Inf Al
                self.gnu_stack_note = f[6] if len(f) == 10 else ""

    def dt_debug_text_only(self):
        """'DEBUG' appears in `readelf -d` text without a real DT_DEBUG tag."""
        return (not self.has_dt_debug) and "DEBUG" in self.dyn


# --------------------------------------------------------------------------
# documented reasons; each returns True when it mechanically applies.
# (fact, bingate value in checksec vocabulary, checksec value, Elf) -> bool
# Line numbers refer to filecheck() in /usr/bin/checksec of Debian's 2.6.0-2.

def r_readelf_fails(fact, bg, cs, e):
    # checksec.sh pipes `readelf ... 2>/dev/null | grep`; when readelf cannot
    # parse the file every grep fails and it prints no RELRO / no canary /
    # NX disabled / "not_elf" regardless of the file's contents.
    return not e.readelf_ok or bool(e.readelf_errors)


def r_pie_no_dt_debug(fact, bg, cs, e):
    # lines 734-739: ET_DYN is "PIE enabled" only if `readelf -d | grep -q DEBUG`,
    # otherwise "DSO". Executables linked without DT_DEBUG (e.g. static-pie,
    # some non-GNU linkers) but with PT_INTERP or DF_1_PIE are PIEs.
    return (fact == "pie" and cs == "dso" and bg == "yes" and e.etype == "DYN"
            and not e.has_dt_debug and (e.has_interp or "PIE" in e.df1))


def r_pie_dt_debug_in_dso(fact, bg, cs, e):
    # same heuristic, other direction: a shared object (no PT_INTERP, no
    # DF_1_PIE) that carries DT_DEBUG, or merely has the text "DEBUG" somewhere
    # in `readelf -d` (a NEEDED/SONAME/RUNPATH string), is called "PIE enabled".
    return (fact == "pie" and cs == "yes" and bg == "dso" and e.etype == "DYN"
            and "DEBUG" in e.dyn and not e.has_interp and "PIE" not in e.df1)


def r_relro_flags1_now(fact, bg, cs, e):
    # lines 703-708: full RELRO requires `readelf -d | grep -q BIND_NOW`; a
    # binary that requests immediate binding only through DF_1_NOW in
    # DT_FLAGS_1 (printed "Flags: NOW") is called "partial".
    return (fact == "relro" and cs == "partial" and bg == "full"
            and e.has_gnu_relro and e.now_flag_only_in_flags1)


def r_nx_object_note(fact, bg, cs, e):
    # lines 721-729: no PT_GNU_STACK -> "NX disabled". A relocatable object
    # (ET_REL) has no program headers at all; its stack request is the
    # .note.GNU-stack section (no SHF_EXECINSTR = non-executable stack), which
    # bingate reads and checksec.sh ignores.
    return (fact == "nx" and cs == "no" and bg == "yes" and e.etype == "REL"
            and not e.has_program_headers and e.gnu_stack_note is not None
            and "X" not in e.gnu_stack_note)


def r_canary_substring(fact, bg, cs, e):
    # line 714: `grep -Eq '__stack_chk_fail|__stack_chk_guard|__intel_security_cookie'`
    # matches substrings of any symbol name (e.g. my__stack_chk_fail_hook),
    # bingate requires one of the exact names __stack_chk_fail,
    # __stack_chk_fail_local, __stack_chk_guard, __intel_security_cookie.
    exact = {"__stack_chk_fail", "__stack_chk_fail_local", "__stack_chk_guard", "__intel_security_cookie"}
    return (fact == "canary" and cs == "yes" and bg == "no" and e.canary_sym_names
            and not any(n in exact for n in e.canary_sym_names))


def r_empty_path_string(fact, bg, cs, e):
    # lines 777-786: the list is `IFS=: read -a` of the text in brackets; a
    # DT_RPATH/DT_RUNPATH whose string is empty yields no elements -> "no",
    # while the tag is present.
    vals = e.rpath_values if fact == "rpath" else e.runpath_values
    return fact in ("rpath", "runpath") and cs == "no" and bg == "yes" and vals and all(v == "" for v in vals)


REASONS = OrderedDict([
    ("READELF_CANNOT_PARSE", r_readelf_fails),
    ("CHECKSEC_PIE_NEEDS_DT_DEBUG", r_pie_no_dt_debug),
    ("CHECKSEC_PIE_DEBUG_TEXT_IN_DSO", r_pie_dt_debug_in_dso),
    ("CHECKSEC_RELRO_IGNORES_DF_1_NOW", r_relro_flags1_now),
    ("CHECKSEC_NX_OBJECT_GNU_STACK_NOTE", r_nx_object_note),
    ("CHECKSEC_CANARY_SUBSTRING_MATCH", r_canary_substring),
    ("CHECKSEC_EMPTY_PATH_STRING", r_empty_path_string),
])


def classify(fact, bg, cs, e):
    for name, check in REASONS.items():
        if check(fact, bg, cs, e):
            return name
    return "UNEXPLAINED"


# --------------------------------------------------------------------------
# reading the reports

def parse_checksec(text):
    """checksec.sh builds JSON by string concatenation without escaping, so a
    file name with a quote or backslash breaks it; fall back to a regex."""
    try:
        d = json.loads(text)
        root = None
        if isinstance(d.get("dir"), dict):
            root = d["dir"].get("name")
        return root, {k: v for k, v in d.items() if k != "dir"}
    except ValueError:
        pass
    root = None
    m = re.search(r'"dir": \{ "name":"(.*?)" \}', text)
    if m:
        root = m.group(1)
    out = {}
    pat = re.compile(r'"((?:(?!": \{ ").)+?)": \{ "relro":"(\w+)","canary":"(\w+)","nx":"(\w+)",'
                     r'"pie":"(\w+)","rpath":"(\w+)","runpath":"(\w+)","symbols":"(\w+)"')
    for m in pat.finditer(text):
        out[m.group(1)] = dict(zip(["relro", "canary", "nx", "pie", "rpath", "runpath", "symbols"],
                                   m.groups()[1:]))
    return root, out


def norm(p):
    return os.path.normpath(p)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", nargs="?", default="/usr/bin")
    ap.add_argument("--bingate", default=os.path.join(REPO, "target", "release", "bingate"))
    ap.add_argument("--bingate-json")
    ap.add_argument("--checksec", default="/usr/bin/checksec")
    ap.add_argument("--checksec-json")
    ap.add_argument("--save")
    ap.add_argument("--max-list", type=int, default=0)
    a = ap.parse_args()

    target = a.dir.rstrip("/") or "/"
    if not os.path.isdir(target):
        print("not a directory: %s" % target, file=sys.stderr)
        return 2

    if a.bingate_json:
        bg_text = open(a.bingate_json, encoding="utf-8").read()
    else:
        p = subprocess.run([a.bingate, "check", "--no-policy", "--format", "json", target],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            print("note: bingate exited %d: %s" % (p.returncode, p.stderr.decode()[-500:]), file=sys.stderr)
        bg_text = p.stdout.decode("utf-8", "replace")
    if a.checksec_json:
        cs_text = open(a.checksec_json, encoding="utf-8", errors="replace").read()
    else:
        ver = run([a.checksec, "--version"])[1]
        if "v2." not in ver:
            print("warning: %s --version says %r; expected checksec.sh 2.x" % (a.checksec, ver.strip()), file=sys.stderr)
        print("running checksec.sh on %s (~0.15 s per file)..." % target, file=sys.stderr)
        p = subprocess.run([a.checksec, "--output=json", "--dir=" + target],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        cs_text = p.stdout.decode("utf-8", "replace")
    if a.save:
        os.makedirs(a.save, exist_ok=True)
        open(os.path.join(a.save, "bingate.json"), "w").write(bg_text)
        open(os.path.join(a.save, "checksec.json"), "w").write(cs_text)

    try:
        bg = json.loads(bg_text)
    except ValueError as ex:
        print("cannot parse bingate JSON: %s" % ex, file=sys.stderr)
        return 2
    cs_root, cs = parse_checksec(cs_text)
    # checksec.sh resolves a symlinked --dir (readlink -f) before listing it
    real_target = os.path.realpath(target)

    def cs_key(p):
        p = norm(p)
        if cs_root and norm(cs_root) == real_target and real_target != norm(target):
            if p == real_target or p.startswith(real_target + "/"):
                p = norm(target) + p[len(real_target):]
        return p

    cs = {cs_key(k): v for k, v in cs.items()}
    bg_files = {}
    bg_errors = {}
    bg_other = Counter()
    for f in bg.get("files", []):
        path = norm(f["path"])
        if f.get("error"):
            bg_errors[path] = f["error"]
        elif f.get("format") == "elf":
            bg_files[path] = f
        else:
            bg_other[f.get("format")] += 1

    common = sorted(set(bg_files) & set(cs))
    only_bg = sorted(set(bg_files) - set(cs))
    only_cs = sorted(set(cs) - set(bg_files))

    stats = {f: Counter() for f in FACTS}
    disagreements = []  # (path, fact, bg_raw, cs_raw, bg_norm, cs_norm)
    for path in common:
        h = bg_files[path].get("hardening") or {}
        for fact in FACTS:
            b = bingate_value(h, fact)
            c = checksec_value(cs[path], fact)
            stats[fact]["total"] += 1
            if b == c:
                stats[fact]["agree"] += 1
            else:
                stats[fact]["disagree"] += 1
                disagreements.append((path, fact, show_bingate(h, fact), show_checksec(cs[path], fact), b, c))

    elf_cache = {}

    def elf(path):
        if path not in elf_cache:
            elf_cache[path] = Elf(path)
        return elf_cache[path]

    tagged = defaultdict(list)
    for d in disagreements:
        path, fact, _, _, b, c = d
        tagged[classify(fact, b, c, elf(path))].append(d)

    # coverage differences: files only one tool examined
    coverage = defaultdict(list)
    for path in only_bg:
        # checksec.sh --dir examines `find -type f` whose `file` output says ELF
        if os.path.islink(path):
            coverage["SYMLINK_NOT_LISTED_BY_CHECKSEC_FIND"].append(path)
        else:
            out = run(["file", "-b", os.path.realpath(path)])[1]
            coverage["FILE1_DOES_NOT_SAY_ELF" if "ELF" not in out else "UNEXPLAINED"].append(path)
    for path in only_cs:
        if path in bg_errors:
            e = elf(path)
            key = "BINGATE_ERROR_READELF_ALSO_FAILS" if r_readelf_fails(None, None, None, e) else "UNEXPLAINED"
            coverage[key].append("%s (bingate error: %s)" % (path, bg_errors[path]))
        else:
            coverage["UNEXPLAINED"].append("%s (checksec.sh examined it, bingate did not report it)" % path)

    # ------------------------------------------------------------------ output
    print("## bingate vs checksec.sh 2.6 on `%s`\n" % target)
    print("bingate: %d ELF files reported, %d with error, %d non-ELF; checksec.sh: %d files; compared: %d\n"
          % (len(bg_files), len(bg_errors), sum(bg_other.values()), len(cs), len(common)))
    print("| fact | agree | disagree | total |")
    print("|---|---:|---:|---:|")
    for fact in FACTS:
        s = stats[fact]
        print("| %s | %d | %d | %d |" % (fact, s["agree"], s["disagree"], s["total"]))
    print()
    if disagreements:
        print("### Disagreements by reason\n")
        print("| reason | count |")
        print("|---|---:|")
        for name in list(REASONS) + ["UNEXPLAINED"]:
            if tagged.get(name):
                print("| %s | %d |" % (name, len(tagged[name])))
        print()
        for name in list(REASONS) + ["UNEXPLAINED"]:
            items = tagged.get(name)
            if not items:
                continue
            print("#### %s (%d)\n" % (name, len(items)))
            print("| file | fact | bingate | checksec.sh |")
            print("|---|---|---|---|")
            shown = items if a.max_list <= 0 else items[:a.max_list]
            for path, fact, braw, craw, _, _ in shown:
                print("| %s | %s | %s | %s |" % (path, fact, braw, craw))
            if len(shown) < len(items):
                print("| … %d more | | | |" % (len(items) - len(shown)))
            print()
    else:
        print("No disagreements.\n")
    if coverage:
        print("### Files only one tool examined\n")
        for name, items in sorted(coverage.items()):
            print("- %s: %d" % (name, len(items)))
            for it in items[: (a.max_list or len(items))]:
                print("  - %s" % it)
        print()

    unexplained = len(tagged.get("UNEXPLAINED", [])) + len(coverage.get("UNEXPLAINED", []))
    if unexplained:
        print("**%d UNEXPLAINED difference(s)**" % unexplained)
        return 1
    print("All differences explained.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
