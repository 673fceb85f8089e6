#!/usr/bin/env python3
"""Writes footfall(1), a man page generated from the binary's own --help: the top-level help,
then one section per subcommand with its options exactly as `footfall SUBCOMMAND --help` prints
them. Nothing is written by hand here but the sections around them (files, environment, see also),
so the page cannot drift from the binary.

Usage: scripts/make-manpage.py FOOTFALL_BINARY > footfall.1
The date is the binary's version's date only if SOURCE_DATE_EPOCH is set (reproducible builds);
otherwise today's.
"""
import datetime
import os
import re
import subprocess
import sys


def run(binary, *args):
    out = subprocess.run([binary, *args], capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    # CLI11 prints the path it was started with; the page names the command.
    return out.stdout.replace(binary, "footfall")


def roff(text):
    """Escapes a line of text for roff: backslashes, and a leading dot or quote."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    if text.startswith((".", "'")):
        text = "\\&" + text
    return text


def options_block(help_text):
    """The "Options:" part of a --help, as tagged paragraphs (.TP: option, then its text)."""
    lines = help_text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Options:") + 1
    except StopIteration:
        return []
    out, current = [], None
    for line in lines[start:]:
        if not line.strip():
            if current is not None:
                break
            continue
        if re.match(r"^  \S", line):
            # "  --name TYPE=default (Env:VAR)   Text" or the option alone on its line.
            parts = re.split(r"\s{2,}", line.strip(), maxsplit=1)
            current = [parts[0], parts[1] if len(parts) > 1 else ""]
            out.append(current)
        elif current is not None:
            current[1] = (current[1] + " " + line.strip()).strip()
    lines_out = []
    for option, description in out:
        lines_out += [".TP", "\\fB%s\\fR" % roff(option), roff(description)]
    return lines_out


def subcommands(help_text):
    lines = help_text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "Subcommands:") + 1
    found = []
    for line in lines[start:]:
        match = re.match(r"^  (\S+)\s{2,}(.*)$", line)
        if match:
            found.append((match.group(1), match.group(2).strip()))
    return found


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make-manpage.py FOOTFALL_BINARY")
    binary = os.path.abspath(sys.argv[1])
    top = run(binary, "--help")
    version = run(binary, "--version").split()[1]
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    day = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch
           else datetime.datetime.now(datetime.timezone.utc)).strftime("%Y-%m-%d")
    summary = top.splitlines()[0]
    page = [
        '.TH FOOTFALL 1 "%s" "footfall %s" "User Commands"' % (day, version),
        ".SH NAME",
        "footfall \\- " + roff(summary.split(": ", 1)[1].rstrip(".")),
        ".SH SYNOPSIS",
        "\\fBfootfall\\fR \\fISUBCOMMAND\\fR [\\fIOPTIONS\\fR]",
        ".br",
        "\\fBfootfall\\fR \\fB\\-\\-version\\fR",
        ".SH DESCRIPTION",
        roff(summary),
        ".PP",
        roff("Every option can also be set with the environment variable shown beside it "
             "(Env:NAME); a flag on the command line wins."),
        ".SH SUBCOMMANDS",
    ]
    for name, description in subcommands(top):
        page += [".SS %s" % roff(name), roff(description)]
        page += options_block(run(binary, name, "--help"))
    page += [
        ".SH FILES",
        ".TP", "\\fI/etc/default/footfall\\fR",
        roff("Settings of the footfall.service unit (FOOTFALL_* variables), when installed from "
             "the Debian package."),
        ".TP", "\\fI/var/lib/footfall/footfall.db\\fR",
        roff("The service's SQLite store."),
        ".SH EXIT STATUS",
        roff("0 on success; 1 when a command fails (the reason is on standard error); "
             "2 for a usage error."),
        ".SH SEE ALSO",
        roff("systemctl(1), sqlite3(1); README.md and docs/ in /usr/share/doc/footfall."),
    ]
    sys.stdout.write("\n".join(page) + "\n")


if __name__ == "__main__":
    main()
