#ifndef MATSCREEN_CIF_WRITER_H
#define MATSCREEN_CIF_WRITER_H

#include "matscreen/element.h"
#include "matscreen/error.h"
#include "matscreen/structure.h"

/* Writes s as a P1 CIF (every site with its species and occupancies, no symmetry) to path
 * (beside, then renamed into place), with data block name block and a comment line naming
 * where it came from (may be NULL; escaped, so a newline in it cannot start a CIF line). */
ms_status ms_cif_write_p1(const ms_structure *s, const char *block, const char *comment,
                          const ms_element_table *elements, const char *path);

#endif /* MATSCREEN_CIF_WRITER_H */
