/* Fuzz target: Formula parser (ms_composition_parse) and the formula formatters on its result. */
#include "fuzz_common.h"

FUZZ_TARGET(formula)
