/* Fuzz target: CIF reader (ms_cif_read_buffer): every data block, symmetry expansion, merging. */
#include "fuzz_common.h"

FUZZ_TARGET(cif)
