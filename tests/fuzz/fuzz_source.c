/* Fuzz target: source enumeration (ms_source_next) over a directory tree, links, FIFOs and
 * list files built from the input in a temporary directory; see fuzz_run_source. */
#include "fuzz_common.h"

FUZZ_TARGET(source)
