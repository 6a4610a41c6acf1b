/* Fuzz target: POSCAR / CONTCAR reader (ms_poscar_read_buffer). */
#include "fuzz_common.h"

FUZZ_TARGET(poscar)
