/* Fuzz target: workflow XML loader (ms_workflow_load: size and depth limits, libxml2 without
 * entities or DTD loading, XSD validation, semantic checks). */
#include "fuzz_loaders.h"

FUZZ_TARGET(workflow)
