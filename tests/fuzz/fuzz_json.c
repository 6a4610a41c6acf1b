/* Fuzz target: JSON reader (ms_json_read_buffer, lines = 0): Structure dicts, entries, arrays, tables. */
#include "fuzz_common.h"

FUZZ_TARGET(json)
