#!/usr/bin/env python3
"""Checks the Lambda zip's shape: an executable `bootstrap` that is the footfall ELF binary with
/var/task/lib/ld-linux-x86-64.so.2 as its interpreter and a DT_RPATH (not DT_RUNPATH) of
/var/task/lib, the loader and every library it needs under lib/, LICENSE, NOTICE and the licence
texts under licenses/ (glibc's LGPL and where its source is among them), and nothing else. Prints the size
and library count (targets: <= 5 MB, few libraries)."""
import os
import stat
import subprocess
import sys
import tempfile
import zipfile


def main() -> int:
    path = sys.argv[1]
    if not os.path.exists(path):
        print(f"FAIL: {path} does not exist (make lambda-zip builds it; make test runs it)")
        return 1
    with zipfile.ZipFile(path) as z, tempfile.TemporaryDirectory() as tmp:
        names = z.namelist()
        problems = []
        if "bootstrap" not in names:
            problems.append("no bootstrap at the root")
        else:
            mode = z.getinfo("bootstrap").external_attr >> 16
            if not mode & stat.S_IXUSR:
                problems.append(f"bootstrap is not executable (mode {oct(mode)})")
            z.extract("bootstrap", tmp)
            with open(os.path.join(tmp, "bootstrap"), "rb") as f:
                if f.read(4) != b"\x7fELF":
                    problems.append("bootstrap is not an ELF binary (a script costs an exec)")
            headers = subprocess.run(["readelf", "-l", os.path.join(tmp, "bootstrap")],
                                     capture_output=True, text=True).stdout
            if "/var/task/lib/ld-linux-x86-64.so.2" not in headers:
                problems.append("bootstrap's interpreter is not /var/task/lib/ld-linux-x86-64.so.2")
            needed = subprocess.run(["readelf", "-d", os.path.join(tmp, "bootstrap")],
                                    capture_output=True, text=True).stdout
            # DT_RPATH wins over LD_LIBRARY_PATH (Lambda's starts with /lib64); DT_RUNPATH does not.
            if "(RPATH)" not in needed or "[/var/task/lib]" not in needed:
                problems.append("bootstrap has no DT_RPATH /var/task/lib")
            if "(RUNPATH)" in needed:
                problems.append("bootstrap has a DT_RUNPATH: LD_LIBRARY_PATH would override it")
            for line in needed.splitlines():
                if "(NEEDED)" in line:
                    lib = line.split("[")[1].rstrip("]")
                    if f"lib/{lib}" not in names:
                        problems.append(f"needs {lib}, which the zip does not bundle")
        if "lib/ld-linux-x86-64.so.2" not in names:
            problems.append("no lib/ld-linux-x86-64.so.2")
        for notice in ("LICENSE", "NOTICE", "licenses/crawler-user-agents.txt", "licenses/re2.txt",
                       "licenses/openssl.txt", "licenses/sqlite.txt", "licenses/nlohmann-json.txt",
                       "licenses/rapidjson.txt", "licenses/cli11.txt"):
            if notice not in names:
                problems.append(f"no {notice} (the licences of what is compiled in)")
        # glibc is bundled as shared libraries: the LGPL asks for its text and its source.
        for notice in ("licenses/LGPL-2.1.txt", "licenses/glibc.txt", "licenses/glibc-source.txt"):
            if notice not in names:
                problems.append(f"no {notice} (the LGPL's terms for the bundled glibc)")
        if "licenses/glibc-source.txt" in names:
            source = z.read("licenses/glibc-source.txt").decode()
            if "apt-get source glibc=" not in source or "snapshot.debian.org" not in source:
                problems.append("licenses/glibc-source.txt does not say where glibc's source is")
        extra = [n for n in names if n not in ("bootstrap", "LICENSE", "NOTICE")
                 and not n.startswith(("lib/", "licenses/"))]
        if extra:
            problems.append(f"unexpected files: {extra}")
        libs = sorted(n for n in names if n.startswith("lib/"))
        size = os.path.getsize(path)
        print(f"{path}: {size} bytes ({size / 1e6:.2f} MB, target <= 5 MB), "
              f"{len(libs)} libraries: {' '.join(libs)}")
        for problem in problems:
            print("FAIL:", problem)
        return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
