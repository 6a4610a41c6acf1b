/* Fuzz target: model file loader (ms_model_load_buffer, every learner's load), then
 * ms_model_describe and ms_model_predict on what loaded. See fuzz_loaders.h for the checksum. */
#include "fuzz_loaders.h"

FUZZ_TARGET(model)
