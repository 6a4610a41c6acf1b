/*
 * Validation: domain knowledge as named checks on one structure.
 *
 * Conventions
 *   - A check has a name, a default severity and a one-line description in a static const
 *     registry (ms_check_info). MS_SEVERITY_ERROR means the structure is not screened;
 *     MS_SEVERITY_WARNING means it is screened and flagged. ms_validate_options.severity may
 *     change a check's severity, or switch it off with MS_SEVERITY_NONE.
 *   - The result of a structure (ms_validation) is a fixed-size value: at most one finding per
 *     check, each with its severity and a message naming the site, element or value at fault.
 *     It holds no heap memory.
 *   - Thresholds live in ms_validate_options (defaults and their reasons in docs/quality.md).
 *   - ms_validate_workspace holds the neighbour list and the charge-balance buffer; reused across
 *     structures it allocates nothing in steady state. Not collective.
 *   - Records the reader could not turn into a structure are mapped onto the same checks
 *     (unknown element, too many atoms, non-finite values, zero volume, else "read") by
 *     ms_validate_read_failure, so every record has a result.
 */
#ifndef MATSCREEN_VALIDATE_H
#define MATSCREEN_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "matscreen/element.h"
#include "matscreen/error.h"
#include "matscreen/neighbors.h"
#include "matscreen/oxidation.h"
#include "matscreen/structure.h"

typedef enum ms_severity {
    MS_SEVERITY_NONE = 0, /* no finding / check switched off */
    MS_SEVERITY_WARNING,  /* screened, flagged */
    MS_SEVERITY_ERROR     /* not screened */
} ms_severity;

typedef enum ms_check_id {
    MS_CHECK_READ = 0,       /* the record could not be read */
    MS_CHECK_VOLUME,         /* zero, negative or non-finite cell volume */
    MS_CHECK_FINITE,         /* NaN or infinite lattice or coordinates */
    MS_CHECK_OCCUPANCY,      /* site occupancy sum above 1 + tolerance */
    MS_CHECK_CLOSE_ATOMS,    /* atoms closer than a fraction of their covalent radii sum */
    MS_CHECK_UNKNOWN_ELEMENT, /* an element outside the periodic table */
    MS_CHECK_FORMULA,        /* sites disagree with the stated formula */
    MS_CHECK_LI_MISSING,     /* Li expected but no site holds Li */
    MS_CHECK_CHARGE_BALANCE, /* no neutral assignment of common oxidation states */
    MS_CHECK_TOO_MANY_ATOMS, /* more sites than the configured limit */
    MS_CHECK_SYMMETRY,       /* space group not found at the requested tolerance */
    MS_CHECK_COUNT           /* number of checks; not a check */
} ms_check_id;

typedef struct ms_check_info {
    ms_check_id id;
    const char *name;        /* "close_atoms": used in outputs and options */
    ms_severity severity;    /* default */
    const char *description; /* one line */
} ms_check_info;

typedef struct ms_validate_options {
    double occupancy_tol;   /* a site may hold up to 1 + occupancy_tol (default 1e-3) */
    double close_fraction;  /* error below close_fraction * (r_cov,i + r_cov,j) (default 0.5) */
    double formula_rtol;    /* relative tolerance on atomic fractions (default 0.01) */
    double charge_tol;      /* |sum occu * oxi| allowed when states are given (default 0.05) */
    size_t max_atoms;       /* sites per structure (default 2000) */
    int expect_li;          /* 1: a structure without a Li site fails MS_CHECK_LI_MISSING */
    ms_severity severity[MS_CHECK_COUNT]; /* per check; defaults from the registry */
    const ms_element_table *elements;     /* borrowed; required by ms_validate_structure */
} ms_validate_options;

typedef struct ms_finding {
    ms_check_id check;
    ms_severity severity;
    char message[192];
} ms_finding;

typedef struct ms_validation {
    size_t n;                            /* findings */
    ms_finding findings[MS_CHECK_COUNT]; /* at most one per check, in check order */
    uint32_t failed;                     /* bit (1u << check) per finding */
    ms_severity worst;                   /* highest severity among the findings */
    int charge_undecided;                /* 1 when the charge search hit its bound */
} ms_validation;

typedef struct ms_validate_workspace {
    ms_neighbor_list nl;        /* private */
    uint64_t *charge_work;      /* private: MS_OXIDATION_WORK_WORDS */
    ms_oxidation_states states; /* private */
    const ms_element_table *states_for;
} ms_validate_workspace;

/* The registry entry of a check (NULL outside 0..MS_CHECK_COUNT-1). */
const ms_check_info *ms_check_get(ms_check_id id);

/* The id of a check by name, or -1. */
int ms_check_find(const char *name);

/* Defaults (see the field comments); elements NULL: set it. */
void ms_validate_options_default(ms_validate_options *opt);

/* Initialises a workspace (allocates the charge buffer). Fails with MS_ERR_NOMEM. */
ms_status ms_validate_workspace_init(ms_validate_workspace *ws);

/* Releases a workspace; safe twice. */
void ms_validate_workspace_destroy(ms_validate_workspace *ws);

/* Empties a result. */
void ms_validation_clear(ms_validation *v);

/* Adds a finding for check with the severity of opt (NULL: the default); a second finding for
 * the same check is ignored. A check switched off (MS_SEVERITY_NONE) adds nothing. */
void ms_validation_add(ms_validation *v, const ms_validate_options *opt, ms_check_id check,
                       const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Runs every structure check on s (a finished structure, or one whose lattice or coordinates are
 * broken: the checks do not trust ms_structure_finish). opt->elements must be set. Returns
 * MS_SUCCESS with *out filled (findings are results, not failures); MS_ERR_USAGE without an
 * element table; MS_ERR_NOMEM. Not collective. */
ms_status ms_validate_structure(ms_validate_workspace *ws, const ms_structure *s,
                                const ms_validate_options *opt, ms_validation *out);

/* Maps a reader failure (status and message of the record callback) onto a finding in *out:
 * MS_ERR_UNKNOWN_ELEMENT -> unknown_element, MS_ERR_LIMIT -> too_many_atoms, messages about
 * non-finite numbers -> finite, about volume -> volume, anything else -> read. */
void ms_validate_read_failure(ms_status status, const char *message,
                              const ms_validate_options *opt, ms_validation *out);

/* Name of a severity ("none", "warning", "error"). */
const char *ms_severity_name(ms_severity s);

#endif /* MATSCREEN_VALIDATE_H */
