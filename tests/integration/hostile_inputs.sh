#!/bin/bash
# Hostile input trees (issue #18, the input half), on the bundled examples only (runs everywhere):
#   - a FIFO where a structure, model, workflow or list is expected: a clear error, never a hang
#     (every command runs under `timeout`: a hang fails the check instead of the suite);
#   - a structure that is a link to /dev/zero, with and without the state store of `run`;
#   - symbolic-link cycles, two links to ".", a list file that names itself twice: each directory
#     and list walked once, cycles reported as error rows naming the path, nothing read twice;
#   - binary content (NUL bytes) in a CIF, JSON and JSON Lines file: refused at once, naming the
#     file and the byte offset;
#   - "-o data/out" inside "-i data": the run's own output directory is skipped, with a note.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh hostile_inputs

ex=examples/structures
T=${HOSTILE_TIMEOUT:-60} # generous: the fixed code answers in well under a second; main hung or took minutes
in="$tmp/in"
mkdir -p "$in"
cp "$ex"/*.cif "$in"/
ncif=$(ls "$ex"/*.cif | wc -l)
screen() { timeout $T "$MATSCREEN" screen -q --rank-by volume_per_atom "$@"; }
rows() { echo $(($(wc -l <"$1") - 1)); }

# --- FIFOs ---------------------------------------------------------------------------------------
mkfifo "$in/x.cif" "$tmp/fifo.msm" "$tmp/fifo.xml" "$tmp/fifo.txt"
timeout $T "$MATSCREEN" inspect "$in/x.cif" >"$tmp/fifo.jsonl" 2>/dev/null
check_eval "inspect FIFO: exit 2 (nothing could be read), not a hang" '[ $? -eq 2 ]'
check "inspect FIFO: says it is a FIFO" contains "$tmp/fifo.jsonl" "x.cif: not a regular file (a FIFO"
screen -i "$in" -o "$tmp/s_fifo" >/dev/null 2>&1
check_eval "screen over a FIFO: finishes (exit 1: the error row is a failed record)" '[ $? -eq 1 ]'
check "screen over a FIFO: an error row" contains "$tmp/s_fifo/errors.csv" "x.cif: not a regular file (a FIFO"
check_eval "screen over a FIFO: the others ranked" '[ "$(rows "$tmp/s_fifo/ranked.csv")" -eq '$ncif' ]'
screen -i "$in/LiFePO4.cif" -o "$tmp/s_model" -m "$tmp/fifo.msm" >/dev/null 2>"$tmp/model.err"
check_eval "-m FIFO: refused, not a hang" 'rc=$?; [ $rc -ne 0 ] && [ $rc -ne 124 ]'
check "-m FIFO: says why" contains "$tmp/model.err" "fifo.msm: not a regular file (a FIFO"
screen -i "@$tmp/fifo.txt" -o "$tmp/s_list" >/dev/null 2>&1
check_eval "@FIFO list: finishes (exit 2: nothing could be read)" '[ $? -eq 2 ]'
check "@FIFO list: an error row" contains "$tmp/s_list/errors.csv" "fifo.txt: cannot read the list file: not a regular file (a FIFO"
timeout $T "$MATSCREEN" run -q "$tmp/fifo.xml" >/dev/null 2>"$tmp/wf.err"
check_eval "run FIFO workflow: refused, not a hang" 'rc=$?; [ $rc -ne 0 ] && [ $rc -ne 124 ]'
check "run FIFO workflow: says why" contains "$tmp/wf.err" "not a regular file (a FIFO"
cat >"$tmp/wf.xml" <<EOF
<workflow name="hostile" version="1" stage="screen" seed="1">
  <sources><source path="in"/></sources>
  <descriptors set="default"/>
  <ranking by="volume_per_atom" order="descending"/>
  <top-k>2</top-k>
  <output dir="run"/>
</workflow>
EOF
timeout $T "$MATSCREEN" run -q "$tmp/wf.xml" >/dev/null 2>&1
check_eval "run over a FIFO: finishes (exit 1: the error row is a failed record)" '[ $? -eq 1 ]'
check "run over a FIFO: an error row" contains "$tmp/run/errors.csv" "x.cif: not a regular file (a FIFO"
rm -f "$in/x.cif"

# --- /dev/zero -----------------------------------------------------------------------------------
ln -s /dev/zero "$in/evil.cif"
timeout $T "$MATSCREEN" run -q "$tmp/wf.xml" >/dev/null 2>&1
check_eval "run with evil.cif -> /dev/zero (state store): finishes (exit 1: the error row is a failed record)" '[ $? -eq 1 ]'
check "run with /dev/zero: an error row" contains "$tmp/run/errors.csv" "evil.cif: not a regular file (a character device)"
timeout $T "$MATSCREEN" inspect "$in/evil.cif" >"$tmp/zero.jsonl" 2>/dev/null
check "inspect /dev/zero: refused" contains "$tmp/zero.jsonl" "not a regular file (a character device)"
rm -f "$in/evil.cif"

# --- cycles and exponential walks ----------------------------------------------------------------
ln -s . "$in/loop"
screen -i "$in" -o "$tmp/s_loop" >"$tmp/loop.out" 2>&1
check_eval "ln -s . loop: finishes (exit 1: the error row is a failed record)" '[ $? -eq 1 ]'
check "ln -s . loop: an error row naming the link" contains "$tmp/s_loop/errors.csv" "in/loop: a cycle: this is $in again"
check_eval "ln -s . loop: each file read once" '[ "$(rows "$tmp/s_loop/ranked.csv")" -eq '$ncif' ]'
check_eval "ln -s . loop: no duplicates from the cycle" \
    '! grep -q "\"duplicates\": *[1-9]" "$tmp/s_loop/manifest.json" "$tmp/s_loop/quality.json"'
ln -s . "$in/a"
ln -s . "$in/b"
mkdir -p "$in/deep"
for k in 1 2 3 4 5 6 7 8; do ln -s .. "$in/deep/up$k"; done
screen -i "$in" -o "$tmp/s_exp" >/dev/null 2>&1
check_eval "links a, b, deep/up1..8 to parents: finishes (exit 1: the error row is a failed record)" '[ $? -eq 1 ]'
check_eval "links to parents: one error row per link, each file once" \
    '[ "$(grep -c "a cycle" "$tmp/s_exp/errors.csv")" -eq 11 ] && [ "$(rows "$tmp/s_exp/ranked.csv")" -eq '$ncif' ]'
timeout $T "$MATSCREEN" inspect "$in" >"$tmp/inspect_exp.jsonl" 2>/dev/null
check_eval "inspect over the same links: each file once, one error per link" \
    '[ "$(grep -c reduced_formula "$tmp/inspect_exp.jsonl")" -eq '$ncif' ] && [ "$(grep -c "a cycle" "$tmp/inspect_exp.jsonl")" -eq 11 ]'
rm -rf "$in/loop" "$in/a" "$in/b" "$in/deep"
printf '@%s\n@%s\n%s\n' "$tmp/two.txt" "$tmp/two.txt" "$in/LiFePO4.cif" >"$tmp/two.txt"
screen -i "@$tmp/two.txt" -o "$tmp/s_two" >/dev/null 2>&1
check_eval "a list naming itself twice: finishes (exit 1: the error row is a failed record)" '[ $? -eq 1 ]'
check_eval "a list naming itself twice: two cycle rows, the file once" \
    '[ "$(grep -c "two.txt: a cycle" "$tmp/s_two/errors.csv")" -eq 2 ] && [ "$(rows "$tmp/s_two/ranked.csv")" -eq 1 ]'

# --- binary content ------------------------------------------------------------------------------
truncate -s 64M "$tmp/nul.cif" "$tmp/nul.json" "$tmp/nul.jsonl"
timeout $T "$MATSCREEN" inspect "$tmp/nul.cif" "$tmp/nul.json" "$tmp/nul.jsonl" >"$tmp/nul.out" 2>/dev/null
check_eval "NUL files: refused (exit 2: nothing could be read), not a hang" '[ $? -eq 2 ]'
check "NUL CIF: file and offset" contains "$tmp/nul.out" "nul.cif: a NUL byte at byte offset 0: binary data, not a CIF text file"
check "NUL JSON: file and offset" contains "$tmp/nul.out" "nul.json: a NUL byte at byte offset 0: binary data, not a JSON text file"
check "NUL JSON Lines: file and offset" contains "$tmp/nul.out" "nul.jsonl: a NUL byte at byte offset 0: binary data, not a JSON Lines text file"
{ cat "$ex/LiFePO4.cif"; printf 'x\0y\n'; } >"$tmp/late_nul.cif"
off=$(($(wc -c <"$ex/LiFePO4.cif") + 1))
timeout $T "$MATSCREEN" inspect "$tmp/late_nul.cif" >"$tmp/late.out" 2>/dev/null
check "NUL late in a CIF: its offset" contains "$tmp/late.out" "late_nul.cif: a NUL byte at byte offset $off:"
# past the first 8000 bytes (where a NUL marks the whole file binary) only its record fails
jl=tests/data/json/mp_records.jsonl
{ cat "$jl"; printf '{"b": "\0"}\n'; } >"$tmp/line_nul.jsonl"
off=$(($(wc -c <"$jl") + 7))
timeout $T "$MATSCREEN" inspect "$tmp/line_nul.jsonl" >"$tmp/line.out" 2>/dev/null
check "NUL in a JSON Lines record: that record, its offset" contains "$tmp/line.out" "a NUL byte at byte offset $off: binary data, not JSON text"
check_eval "NUL in a JSON Lines record: the others read" \
    '[ "$(grep -c reduced_formula "$tmp/line.out")" -eq "$("$MATSCREEN" inspect "$jl" 2>/dev/null | grep -c reduced_formula)" ]'

# --- the run's own output directory inside an input ----------------------------------------------
data="$tmp/data"
mkdir -p "$data"
cp "$ex"/*.cif "$data"/
screen -i "$data" -o "$data/out" --top 3 >/dev/null 2>&1
screen -i "$data" -o "$data/out" --top 3 >/dev/null 2>"$tmp/own.err"
check_eval "-o inside -i, second run: the same rows, top/ not screened" \
    '[ "$(rows "$data/out/ranked.csv")" -eq '$ncif' ] && ! grep -q "out/top" "$data/out/ranked.csv"'
check "-o inside -i: a note says so" contains "$tmp/own.err" "$data/out is this run's output directory, inside an input: not screened"

# --- numeric options and attributes: refused at parse time, naming option, value and range ------
one="$ex/LiFePO4.cif"
opt_refused() { # NAME EXPECTED-TEXT COMMAND...: exit 2 at once, the message on stderr
    local name=$1 text=$2
    shift 2
    timeout $T "$@" >/dev/null 2>"$tmp/opt.err"
    local rc=$?
    check_eval "$name: exit 2" "[ $rc -eq 2 ]"
    check "$name: the message" contains "$tmp/opt.err" "$text"
}
opt_refused "screen --xi nan" "--xi: 'nan' is not a finite number (give a number in [0, 1e+300])" \
    "$MATSCREEN" screen -q -i "$one" -o "$tmp/o1" --xi nan
opt_refused "screen --kappa inf" "--kappa: 'inf' is not a finite number" \
    "$MATSCREEN" screen -q -i "$one" -o "$tmp/o1" --kappa inf
opt_refused "screen --best 1e999" "--best: '1e999' is not a finite number" \
    "$MATSCREEN" screen -q -i "$one" -o "$tmp/o1" --best 1e999
opt_refused "screen --top 99999999999999999999" "--top: 99999999999999999999 is out of range (give a whole number in [0, 1000000000])" \
    "$MATSCREEN" screen -q -i "$one" -o "$tmp/o1" --top 99999999999999999999
check_eval "screen --top huge: nothing written" '[ ! -e "$tmp/o1/manifest.json" ]'
opt_refused "suggest --kappa -1" "--kappa: -1 is out of range" \
    "$MATSCREEN" suggest -l "$tmp/none.csv" --kappa -1
opt_refused "campaign --xi inf" "--xi: 'inf' is not a finite number" \
    "$MATSCREEN" campaign -l "$tmp/none.csv" --xi inf
opt_refused "campaign --top nan" "--top: 'nan' is not a finite number" \
    "$MATSCREEN" campaign -l "$tmp/none.csv" --top nan
opt_refused "evaluate --repeats 1x" "--repeats: '1x' is not a whole number" \
    "$MATSCREEN" evaluate -l "$tmp/none.csv" --repeats 1x
opt_refused "evaluate --cv -3" "--cv: '-3' is not a whole number" \
    "$MATSCREEN" evaluate -l "$tmp/none.csv" --cv -3
opt_refused "bvse --spacing nan" "--spacing: 'nan' is not a finite number (give a number in [0.05, 2])" \
    "$MATSCREEN" bvse -i "$one" --spacing nan
opt_refused "quality --symprec nan" "--symprec: 'nan' is not a finite number" \
    "$MATSCREEN" quality -i "$one" -o "$tmp/q" --symprec nan
# (its data paths do not resolve from $tmp: those are separate problems of the same check)
sed 's/iterations="60"/iterations="99999999999999999999"/' workflows/active-learning.xml >"$tmp/wf_big.xml"
timeout $T "$MATSCREEN" run --validate-only "$tmp/wf_big.xml" >"$tmp/wfbig.out" 2>&1
check_eval "workflow <campaign iterations=huge>: refused" '[ $? -ne 0 ]'
check "workflow <campaign iterations=huge>: the message" contains "$tmp/wfbig.out" "<campaign iterations>: 99999999999999999999 is out of range"

# --- clear messages for impossible cells and coordinates -----------------------------------------
cell() { # FILE A B C X: a two-site CIF
    printf 'data_h\n_cell_length_a %s\n_cell_length_b %s\n_cell_length_c %s\n' "$2" "$3" "$4" >"$1"
    printf '_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n' >>"$1"
    printf "_symmetry_space_group_name_H-M 'P 1'\nloop_\n_atom_site_label\n_atom_site_type_symbol\n" >>"$1"
    printf '_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nLi1 Li %s 0 0\nO1 O 0.5 0.5 0.5\n' "$5" >>"$1"
}
cell "$tmp/c300.cif" 1e300 1e300 1e300 0
cell "$tmp/c100.cif" 1e100 1e100 1e100 0
cell "$tmp/f300.cif" 4 4 4 1e300
cell "$tmp/fine.cif" 4 4 4 0.1
timeout $T "$MATSCREEN" inspect "$tmp/c300.cif" "$tmp/c100.cif" "$tmp/f300.cif" "$tmp/fine.cif" >"$tmp/cells.out" 2>/dev/null
check "a=b=c=1e300: lengths too large, not angles" contains "$tmp/cells.out" "c300.cif: data_h: cell lengths a=1e+300 b=1e+300 c=1e+300: longer than 100000 Angstrom"
check "1e100 cell: lengths too large" contains "$tmp/cells.out" "c100.cif: data_h: cell lengths a=1e+100 b=1e+100 c=1e+100: longer than 100000 Angstrom"
check "fractional 1e300: refused" contains "$tmp/cells.out" "f300.cif: data_h: atom site Li1: _atom_site_fract_x 1e300 is beyond +-1000 cells"
check_eval "a sane cell beside them: read" '[ "$(grep -c reduced_formula "$tmp/cells.out")" -eq 1 ]'
# a cell value that is not a number is named as such, not as a missing cell
cell "$tmp/nan.cif" 4 nan 4 0.1
cell "$tmp/word.cif" 4 4 4 0.1
sed -i 's/^_cell_angle_beta 90$/_cell_angle_beta ninety/' "$tmp/word.cif"
timeout $T "$MATSCREEN" inspect "$tmp/nan.cif" "$tmp/word.cif" >"$tmp/nan.out" 2>/dev/null
check "_cell_length_b nan: named, not 'no cell'" contains "$tmp/nan.out" "nan.cif: data_h: _cell_length_b 'nan' is not a number (give the cell length in"
check "_cell_angle_beta ninety: named as an angle" contains "$tmp/nan.out" "word.cif: data_h: _cell_angle_beta 'ninety' is not a number (give the cell angle in degrees"

finish
