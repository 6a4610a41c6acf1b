/* Options shared by campaign and suggest; see al_args.h. */
#include "al_args.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/acquisition.h"
#include "matscreen/number.h"

void ms_al_args_default(ms_al_args *a, const char *default_acq)
{
    memset(a, 0, sizeof *a);
    a->acq = default_acq;
    a->kappa = MS_ACQ_DEFAULT_KAPPA;
    a->radius = 0.25;
}

int ms_al_args_option(ms_al_args *a, int c, const char *arg)
{
    ms_status st = MS_SUCCESS;
    switch (c) {
    case 'M': a->matbench = arg; break;
    case 'l': a->labels = arg; break;
    case 'F': a->formula_col = arg; break;
    case 't': a->target = arg; break;
    case 'L': a->log10 = 1; break;
    case 'z': a->minimize = 1; break;
    case 'a': a->acq = arg; break;
    case 'x': st = ms_parse_double("--xi", arg, 0, MS_NUM_MAX, &a->xi); break;
    case 'k': st = ms_parse_double("--kappa", arg, 0, MS_NUM_MAX, &a->kappa); break;
    case 'r': st = ms_parse_double("--radius", arg, 0, MS_NUM_MAX, &a->radius); break;
    case 'E': a->set = arg; break;
    case 's': st = ms_parse_u64("--seed", arg, 0, UINT64_MAX, &a->seed); break;
    case 'o': a->output = arg; break;
    case 'h': a->help = 1; break;
    default: return 0;
    }
    return st == MS_SUCCESS ? 1 : -1;
}

void ms_al_args_data_spec(const ms_al_args *a, const char *target, ms_dataset_spec *ds)
{
    ms_dataset_spec_default(ds);
    if (a->matbench) {
        ds->source = MS_DATASET_MATBENCH;
        ds->path = a->matbench;
    } else {
        ds->source = MS_DATASET_FORMULA_CSV;
        ds->path = a->labels;
        ds->formula_column = a->formula_col;
    }
    ds->target = target;
    ds->set = a->set ? a->set : "magpie";
    ds->log10_target = a->log10;
}
