/* Fuzz target: JSON Lines reader (ms_json_read_buffer, lines = 1): one record per line. */
#include "fuzz_common.h"

FUZZ_TARGET(jsonl)
