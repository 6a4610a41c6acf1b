#!/usr/bin/env bash
# What a new user reads and links: the README opens with the two commands; the man page covers
# every command of `matscreen --help`, and every option of a command is in its --help and its
# man page entry (tests/integration/cli_options.py); the man page renders without groff
# warnings and without the old "A-umlaut^3" for cubic angstroms, and states the exit-status
# rule; an installed matscreen.pc links a program with `pkg-config --libs matscreen` (no
# --static). Repository only.
# Exit status: 0 all passed, 1 otherwise.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh docs

check "README: the first two command lines" \
    test "$(awk '/^```/ { inside = !inside; next } inside && NF' README.md | head -2 | tr '\n' '|')" = "make deps && make quickstart|make check|"
man=docs/matscreen.1
commands=$("$MATSCREEN" --help | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 { print $1 }')
for c in $commands; do
    check "man page documents $c" grep -q "^\.B $c\b" "$man"
done
# every option of a command (its getopt table in src/cli, read by cli_options.py) is in its
# --help and in its man page entry, by long name or short letter; `model info` has no options
mkdir "$tmp/help"
for c in $commands; do "$MATSCREEN" "$c" --help >"$tmp/help/$c.txt" 2>&1; done
# shellcheck disable=SC2046 # one word per command
/usr/bin/python3 tests/integration/cli_options.py src/cli "$tmp/help" "$man" \
    $(echo "$commands" | grep -vx model) >"$tmp/options.txt" 2>&1
check "cli_options.py read a table for every command" \
    test "$(wc -l <"$tmp/options.txt")" -eq $((2 * $(echo "$commands" | grep -vcx model)))
while read -r c where missing; do
    check "$c: every option in its $where (missing: $missing)" test "$missing" = "-"
done <"$tmp/options.txt"
if command -v groff >/dev/null; then
    LC_ALL=C.UTF-8 groff -man -Tutf8 -ww "$man" >"$tmp/man.txt" 2>"$tmp/man.err"
    check "man page renders without warnings" test ! -s "$tmp/man.err"
    check "man page: no A-umlaut (was the cubic-angstrom sign)" test "$(grep -c 'Ä' "$tmp/man.txt")" -eq 0
    check "man page: exit-status rule" grep -q "some records failed" "$tmp/man.txt"
else
    echo "docs: man page rendering skipped: groff is not installed"
fi

# install into a staging prefix and link a program with the non-static flags
stage=$tmp/stage
# a plain install, as a user makes it: not the build of the make that runs this script (the
# sanitizer pass of CI passes BUILD/OPT/LDFLAGS down through MAKEFLAGS, and BUILD in the
# environment of every script)
env -u MAKEFLAGS -u MFLAGS -u BUILD -u BIN -u OPT -u LDFLAGS make -s install DESTDIR="$stage" PREFIX=/usr/local >"$tmp/install.log" 2>&1
check "make install" test -f "$stage/usr/local/lib/pkgconfig/matscreen.pc"
cat >"$tmp/use.c" <<'C'
#include <matscreen/composition.h>
int main(void)
{
    ms_composition c;
    return ms_composition_parse("Li7La3Zr2O12", &c) == MS_SUCCESS && c.n == 4 ? 0 : 1;
}
C
export PKG_CONFIG_PATH="$stage/usr/local/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$stage"
# shellcheck disable=SC2046 # word splitting of the flags is wanted
mpicc -o "$tmp/use" "$tmp/use.c" $(pkg-config --cflags matscreen) $(pkg-config --libs matscreen) \
    >"$tmp/link.log" 2>&1
check "a program links with pkg-config --libs matscreen (no --static)" test -x "$tmp/use"
check "and runs" "$tmp/use"
finish
