#!/usr/bin/env bash
# check_layers.sh (make check-layers): the layering of docs/architecture.md, checked on the sources.
#   1. No file of a layer includes a header of a higher layer. Layers, low to high:
#        core < comm < io < quality < features < ml < parallel < workflow < cli
#      A header include/matscreen/X.h belongs to the layer whose src/LAYER/ holds X.c (a few
#      headers without a .c of that name are mapped below); an unmapped header is an error, so a
#      new module must be placed.
#   2. MPI (MPI_ calls or <mpi.h>) appears in no file of core, io, quality or features (their
#      sources and public headers), and in ml only in the files that docs/architecture.md lists
#      between the markers <!-- mpi-allowed --> and <!-- /mpi-allowed -->.
# Prints every violation as FILE: what; exit status 0 when there is none, 1 otherwise.
set -u
cd "$(dirname "$0")/.."
LAYERS="core comm io quality features ml parallel workflow cli"
rank_of() { # rank_of LAYER
    local i=0 l
    for l in $LAYERS; do
        [ "$l" = "$1" ] && { echo $i; return; }
        i=$((i + 1))
    done
    echo 99
}
header_layer() { # header_layer MODULE: the layer of include/matscreen/MODULE.h, or "" if unknown
    case $1 in
    workflow) echo workflow; return ;;
    gbm) echo ml; return ;; # src/ml/model_gbm.c
    esac
    local c
    c=$(ls src/*/"$1".c 2>/dev/null | head -1)
    [ -n "$c" ] && basename "$(dirname "$c")"
}

bad=0
violation() { echo "$1"; bad=1; }

# 1. includes
check_file() { # check_file FILE LAYER
    local f=$1 layer=$2 r h hl
    r=$(rank_of "$layer")
    for h in $(grep -o '#include "matscreen/[a-z_0-9]*\.h"' "$f" | sed 's/.*matscreen\///; s/\.h"//'); do
        hl=$(header_layer "$h")
        if [ -z "$hl" ]; then
            violation "$f: includes matscreen/$h.h, which no layer holds (add its .c or map it in tests/check_layers.sh)"
        elif [ "$(rank_of "$hl")" -gt "$r" ]; then
            violation "$f: layer $layer includes matscreen/$h.h of the higher layer $hl"
        fi
    done
}
for layer in $LAYERS; do
    for f in src/"$layer"/*.c src/"$layer"/*.h; do
        [ -f "$f" ] && check_file "$f" "$layer"
    done
done
for f in include/matscreen/*.h; do
    m=$(basename "$f" .h)
    l=$(header_layer "$m")
    if [ -z "$l" ]; then violation "$f: no layer holds this header"; else check_file "$f" "$l"; fi
done

# 2. MPI below comm, and in ml only where allowed
allowed=$(sed -n '/<!-- mpi-allowed -->/,/<!-- \/mpi-allowed -->/p' docs/architecture.md |
    grep -o '`src/ml/[a-z_]*\.[ch]`\|`include/matscreen/[a-z_]*\.h`' | tr -d '`')
[ -n "$allowed" ] || violation "docs/architecture.md: no <!-- mpi-allowed --> list found"
for f in src/core/* src/io/* src/quality/* src/features/* src/ml/* include/matscreen/*.h; do
    grep -q 'MPI_\|<mpi\.h>' "$f" || continue
    case $f in
    include/*) l=$(header_layer "$(basename "$f" .h)") ;;
    *) l=$(basename "$(dirname "$f")") ;;
    esac
    case $l in
    core | io | quality | features) violation "$f: MPI in layer $l (MPI belongs to comm and above)" ;;
    ml) echo "$allowed" | grep -qx "$f" ||
        violation "$f: MPI in layer ml, not listed as allowed in docs/architecture.md" ;;
    esac
done

# 3. no asprintf/vasprintf in matscreen: tests/integration/lsan.supp suppresses leaks of
# vasprintf's strings (Open MPI's, whose caller frame libc loses), which would hide ours
for f in $(grep -l '\basprintf\|\bvasprintf' src/*/*.c src/*/*.h 2>/dev/null); do
    violation "$f: asprintf/vasprintf (its leaks would be suppressed under LeakSanitizer; use snprintf)"
done

if [ "$bad" -eq 0 ]; then echo "check-layers: every include goes downward; MPI only where docs/architecture.md allows"; fi
exit "$bad"
