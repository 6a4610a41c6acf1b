/*
 * Compositions: amounts of elements, chemical formula parsing and pymatgen-compatible formulas.
 *
 * Conventions
 *   - Amounts are per formula as written (or per cell when built from a structure), occupancy
 *     weighted: a site holding Li 0.56 adds 0.56 Li. Fractions are never rounded.
 *   - A composition is a fixed-size value (no heap); build it on the stack in hot loops.
 *   - Elements are listed in order of first appearance; formatting sorts them as pymatgen does
 *     (by Pauling electronegativity, then symbol).
 */
#ifndef MATSCREEN_COMPOSITION_H
#define MATSCREEN_COMPOSITION_H

#include <stddef.h>

#include "matscreen/element.h"
#include "matscreen/error.h"

/* Amounts below this are treated as zero, as pymatgen's Composition.amount_tolerance. */
#define MS_COMPOSITION_TOL 1e-8

typedef struct ms_composition {
    int n;                           /* number of distinct elements */
    int z[MS_MAX_Z];                 /* atomic numbers, in order of first appearance */
    double amount[MS_MAX_Z + 1];     /* amount by Z; 0 for absent elements */
} ms_composition;

/* Empties c; also initialises an uninitialised composition. */
void ms_composition_clear(ms_composition *c);

/* Adds amount of element z (1..MS_MAX_Z) to c. */
void ms_composition_add(ms_composition *c, int z, double amount);

/* Total number of atoms (sum of amounts). */
double ms_composition_total(const ms_composition *c);

/* Parses a chemical formula into c: "Li7La3Zr2O12", fractional "Li6.4Ga0.2La3Zr2O12", spaced as
 * in CIF "_chemical_formula_sum" ("Li7 La3 Zr2 O12"), parentheses and brackets
 * ("Li4Fe3Mn(PO4)4"), hydrates with a middle dot, '.' or '*' ("CuSO4·5H2O", "CuSO4.5H2O"), and
 * oxidation-state labels, which are dropped ("Li+", "O2-", "Fe3+"). Fails with MS_ERR_PARSE or
 * MS_ERR_UNKNOWN_ELEMENT and a message that quotes the formula and the position. */
ms_status ms_composition_parse(const char *formula, ms_composition *c);

/* Molar mass in amu (g/mol). */
double ms_composition_weight(const ms_composition *c, const ms_element_table *table);

/* pymatgen's Composition.formula: "Li2 O1"-style, elements sorted by electronegativity. */
ms_status ms_composition_formula(const ms_composition *c, const ms_element_table *table, char *out,
                                 size_t n);

/* pymatgen's Composition.reduced_formula: integer amounts divided by their gcd, a trailing
 * polyanion pair grouped ("Li3(PO4)"-style rules), special names (O2, H2O2, LiO2 ...); non-integer
 * compositions are written unreduced without spaces. */
ms_status ms_composition_reduced_formula(const ms_composition *c, const ms_element_table *table,
                                         char *out, size_t n);

/* 1 when a and b have the same elements with amounts proportional within relative tolerance rtol
 * (compares atomic fractions), else 0. */
int ms_composition_proportional(const ms_composition *a, const ms_composition *b, double rtol);

#endif /* MATSCREEN_COMPOSITION_H */
