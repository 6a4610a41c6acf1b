/*
 * Crystallographic symmetry operators: parsing "x,y,z" strings and looking operators up by
 * space-group symbol in spglib's database.
 *
 * Conventions
 *   - An operator maps fractional coordinates: x' = rot * x + trans (rot acts on a column vector;
 *     rot[i] is the row giving x'_i). This is spglib's convention for its database operators.
 *   - Translations are kept as parsed (not wrapped into [0, 1)); callers wrap positions.
 *   - Symbol lookup normalises case, spaces and underscores ("P 21/c" == "p2_1/c"); nothing here
 *     allocates memory. spglib is used for the database because it is already a dependency and
 *     holds all 530 Hall settings; the string parser is written by hand because no Debian library
 *     exposes one for C.
 *   - Not collective; thread-safe (no mutable state).
 */
#ifndef MATSCREEN_SYMOP_H
#define MATSCREEN_SYMOP_H

#include <stddef.h>

#include "matscreen/error.h"

/* Largest number of operators of a space group in a conventional setting (F m -3 m). */
#define MS_SYMOP_MAX 192

typedef struct ms_symop {
    int rot[3][3];   /* integer rotation part acting on fractional coordinates */
    double trans[3]; /* translation part, fractional */
} ms_symop;

/* Parses one operator such as "x,y,z", "-x+1/2, y, -z+0.5", "x-y,x,z+1/6", "1/2+x,Y,-Z" (case and
 * spaces are free; translations are integers, decimals or fractions) from text[0..len). Fails with
 * MS_ERR_PARSE and a message quoting the text when it is not an operator. */
ms_status ms_symop_parse(const char *text, size_t len, ms_symop *op);

/* Applies op to the fractional position in, writing out (in and out may alias). */
void ms_symop_apply(const ms_symop *op, const double in[3], double out[3]);

/* Hall number (1..530) of a Hall symbol ("-P 2ybc", "-F 4 2 3"), compared after trimming and
 * collapsing spaces, case-insensitively; 0 when none matches. */
int ms_symop_hall_from_hall_symbol(const char *symbol);

/* Hall number (1..530) of a Hermann-Mauguin symbol ("F m -3 m", "P 21/c", "P 1 21/n 1",
 * "R -3 m :H", "Fd-3m:2", "R -3 m R", "F d -3 m S"), compared without spaces or underscores,
 * case-insensitively, against spglib's short, full and alternative international symbols. A symbol
 * with several settings gives the first (standard) one unless a choice is given after ':' (1, 2,
 * H, R, b1, ...) or as a trailing H, R, S (origin choice 1) or Z (origin choice 2); 0 when none
 * matches. */
int ms_symop_hall_from_hm(const char *symbol);

/* Hall number of the standard setting of space group number (1..230); 0 when out of range. */
int ms_symop_hall_from_number(int number);

/* Writes the operators of Hall number hall (1..530) into ops (room for MS_SYMOP_MAX) and their
 * count into *n. Fails with MS_ERR_SYMMETRY when hall is out of range. */
ms_status ms_symop_from_hall_number(int hall, ms_symop ops[MS_SYMOP_MAX], size_t *n);

/* Operators of a Hermann-Mauguin symbol in a non-standard centring that the setting table does
 * not list ("A -1", "I 1", "F -1", as COD writes reduced triclinic cells): the operators of the
 * symbol read with a P lattice, times the centring translations of its letter (A, B, C, I, F).
 * That is how the symbol is defined, so it holds for any symbol. MS_ERR_NOT_FOUND when the
 * symbol has no such letter or its P form is unknown too. */
ms_status ms_symop_from_centred_hm(const char *symbol, ms_symop ops[MS_SYMOP_MAX], size_t *n);

#endif /* MATSCREEN_SYMOP_H */
