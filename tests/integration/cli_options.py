#!/usr/bin/env python3
"""Every option of a command is documented: in its --help and in its man page entry.

Usage: cli_options.py SRC_CLI HELP_DIR MAN_PAGE COMMAND...

Reads each command's getopt_long table from SRC_CLI (cmd_COMMAND.c's `longopts`, or
model_args.c's `COMMAND_longopts`; macros named *_LONGOPTS are expanded from the sources), the text of `matscreen COMMAND --help` from HELP_DIR/COMMAND.txt, and the man
page entry of COMMAND (from its `.B COMMAND` line to the next `.TP` or `.SH`). An option counts as
documented when its long name (--name) or, for an option with a short letter, that letter (-x)
appears. Prints one line per command and place: "COMMAND help|man -" when all are there, else the
missing ones, comma-separated; "COMMAND table MISSING" when no table was found (a command
without options, `model`, is not passed).
"""
import glob
import os
import re
import sys

def sources(src):
    return {os.path.basename(f): open(f).read()
            for f in glob.glob(os.path.join(src, "*.c")) + glob.glob(os.path.join(src, "*.h"))}


def macros(srcs):
    found = {}
    for text in srcs.values():
        for m in re.finditer(r"#define (\w+_LONGOPTS)((?:.*\\\n)*.*)", text):
            found[m.group(1)] = m.group(2)
    return found


def entries(body, macro_bodies, depth=0):
    out = []
    for name in re.findall(r"\b(\w+_LONGOPTS)\b", body):
        if depth < 4 and name in macro_bodies:
            out += entries(macro_bodies[name], macro_bodies, depth + 1)
    for name, val in re.findall(r'\{\s*"([\w-]+)"\s*,\s*\w+\s*,\s*(?:0|NULL)\s*,\s*([^}\s]+)\s*\}', body):
        short = val[1] if re.fullmatch(r"'[A-Za-z]'", val) else None
        out.append((name, short))
    return out


def table(cmd, srcs, macro_bodies):
    own = srcs.get("cmd_%s.c" % cmd, "")
    m = re.search(r"struct option\s+longopts\[\]\s*=\s*\{(.*?)\};", own, re.S)
    if not m:
        m = re.search(r"struct option\s+%s_longopts\[\]\s*=\s*\{(.*?)\};" % cmd,
                      srcs.get("model_args.c", ""), re.S)
    return entries(m.group(1), macro_bodies) if m else None


def man_entry(man, cmd):
    m = re.search(r"^\.B %s\b(.*?)(?=^\.TP|^\.SH)" % re.escape(cmd), man, re.S | re.M)
    return m.group(1).replace("\\-", "-").replace("\\fB", "").replace("\\fR", "").replace(
        "\\fI", "") if m else ""


def documented(text, name, short):
    if re.search(r"(?<![\w-])--%s(?![\w-])" % re.escape(name), text):
        return True
    return bool(short) and re.search(r"(?<![\w-])-%s(?![\w-])" % short, text) is not None


def main():
    src, help_dir, man_path = sys.argv[1:4]
    srcs = sources(src)
    macro_bodies = macros(srcs)
    man = open(man_path).read()
    for cmd in sys.argv[4:]:
        opts = table(cmd, srcs, macro_bodies)
        if not opts:
            print(cmd, "table", "MISSING")
            continue
        help_text = open(os.path.join(help_dir, cmd + ".txt")).read()
        for where, text in (("help", help_text), ("man", man_entry(man, cmd))):
            missing = ["--" + n for n, s in opts if n != "help" and not documented(text, n, s)]
            print(cmd, where, ",".join(missing) or "-")


if __name__ == "__main__":
    main()
