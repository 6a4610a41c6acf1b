/* Fuzz target: checkpoint journal reader (ms_journal_scan, then ms_journal_resume: replay,
 * deaths and quarantine, result unpacking, torn-tail truncation). See fuzz_loaders.h. */
#include "fuzz_loaders.h"

FUZZ_TARGET(journal)
