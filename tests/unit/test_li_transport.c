/* Li-transport descriptors (li_transport.c) on three real structures, checked against values
 * computed by hand. Distances quoted to 4 decimals were measured from the CIF coordinates (an
 * independent numpy brute-force image search); the weighted sums are done by hand below. An
 * independent Python implementation of the definitions of docs/descriptors.md agrees with the
 * values asserted here to 1e-15 on all seven features. Radii: Magpie covalent (Li 1.28, P 1.07,
 * S 1.05, Ge 1.20, O 0.66 Å), pymatgen atomic (Li 1.45, O 0.60 Å); Pauling X: Li 0.98, P 2.19,
 * S 2.58, Ge 2.01, O 3.44. Li-Li bond cutoff 1.2 x 2 x 1.28 = 3.072 Å. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <string.h>

#include "matscreen/descriptor.h"
#include "matscreen/featurize.h"
#include "matscreen/reader.h"
#include "suites.h"
#include "test_util.h"

/* Declared here too until suites.h lists X(li_transport) (the lead registers suites). */
int ms_suite_li_transport(void);

enum { LLB, SBI, AFC, LLSD, LASD, LIFRAC, FREEVOL, N_LI };
#define N_SET (N_LI + 6) /* the li-transport set: li_transport, then the 6 bvse features */

typedef struct {
    ms_structure_featurizer *fz;
    int seen;
    double row[N_SET];
    unsigned char reason[N_SET];
} probe;

static int on_record(const ms_structure *s, ms_status status, const char *message, void *user)
{
    (void)message;
    probe *p = user;
    if (status != MS_SUCCESS) return 0;
    p->seen = ms_structure_featurizer_compute(p->fz, s, p->row, p->reason) == MS_SUCCESS;
    return 1;
}

static void featurize_file(const char *relative, probe *p)
{
    const ms_descriptor_set *set;
    memset(p, 0, sizeof *p);
    CU_ASSERT_EQUAL_FATAL(ms_descriptor_set_lookup("li-transport", &set), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(ms_structure_featurizer_create(set, ms_test_elements(), NULL, &p->fz),
                          MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_structure_featurizer_n_features(p->fz), N_SET);
    CU_ASSERT_EQUAL(ms_read_file(ms_test_data(relative), MS_FORMAT_AUTO, NULL, on_record, p),
                    MS_SUCCESS);
    CU_ASSERT_FATAL(p->seen);
    ms_structure_featurizer_destroy(&p->fz);
}

#define EXACT(a, b) CU_ASSERT(ms_test_close((a), (b), 1e-12, 1e-12))
#define HAND(a, b) CU_ASSERT(ms_test_close((a), (b), 2e-5, 0)) /* 4-decimal distances */

/* Li2O, ICSD 22402 (antifluorite, Fm-3m, a = 4.61 Å, V = 97.972181 Å^3; 8 Li at (1/4,1/4,1/4)+fcc,
 * 4 O at fcc). Anions: O (no anion former of higher X nearby). Li is a simple cubic lattice of
 * edge a/2.
 *   LLB: Li-Li at a/2 = 2.305 Å (6 of them) <= 3.072; next a/sqrt2 = 3.260 > 3.072: LLB = 6.
 *   SBI: the Li-free sublattice is O alone; O-O = 3.260 > 1.2 x 1.32 = 1.584: no bond, NaN
 *        (undefined).
 *   AFC: O is fcc: 12 O at a/sqrt2, next 6 at a = 4.61 > 1.1 x 3.260: AFC = 12.
 *   LLSD = a/2 = 2.305. LASD = a sqrt3/4 = 1.9961886 (Li in the O tetrahedron).
 *   Li fraction = 8/12 = 2/3.
 *   free volume per Li = (97.972181 - 4pi/3 (8 x 1.45^3 + 4 x 0.60^3)) / 8
 *                      = (97.972181 - 4.18879 x 25.253) / 8 = -0.97592: the empirical radii
 *        overlap (packing fraction 1.08, as matminer's), so the value is negative. */
static void test_li2o(void)
{
    probe p;
    featurize_file("cif/pymatgen/tests/files/Li2O.cif", &p);
    double a = 4.61;
    EXACT(p.row[LLB], 6);
    CU_ASSERT(isnan(p.row[SBI]));
    CU_ASSERT_EQUAL(p.reason[SBI], MS_NAN_UNDEFINED);
    EXACT(p.row[AFC], 12);
    EXACT(p.row[LLSD], a / 2);
    EXACT(p.row[LASD], a * sqrt(3.0) / 4);
    EXACT(p.row[LIFRAC], 2.0 / 3);
    EXACT(p.row[FREEVOL],
          (a * a * a - 4 * M_PI / 3 * (8 * 1.45 * 1.45 * 1.45 + 4 * 0.6 * 0.6 * 0.6)) / 8);
    for (int k = 0; k < N_LI; k++)
        if (k != SBI) CU_ASSERT_EQUAL(p.reason[k], MS_NAN_NONE);
}

/* beta-Li3PS4, OBELiX nhq (Pnma, a 12.819, b 8.2195, c 6.1236 Å, Z = 4): Li0 8d occupancy 1.0,
 * Li1 4b 0.7, Li2 4c 0.3; P 4c; S 8d + 4c + 4c. N_Li = 8 + 2.8 + 1.2 = 12; atoms 12 + 4 + 16 = 32.
 * Anions: S (bonded to P, of lower X, and Li); P is bonded to S of higher X: a polyanion centre.
 * Nearest Li, nearest S and Li within 3.072 Å of each Li site (no split partners here):
 *   Li0 (x8, 1.0): d_Li 2.8768 (a Li2), d_S 2.1891; Li within 3.072: Li2 at 2.8768 and 3.0157
 *   Li2 (x4, 0.3): d_Li 2.8768, d_S 2.4578; 4 Li0 (2 at 2.8768, 2 at 3.0157)
 *   Li1 (x4, 0.7): d_Li 3.1298, d_S 2.3947; none within 3.072
 *   LLB  = (8 x 1 x (0.3 + 0.3) + 4 x 0.3 x 4 x 1 + 4 x 0.7 x 0) / 12 = (4.8 + 4.8) / 12 = 0.8
 *   LLSD = (8 x 2.8768 + 1.2 x 2.8768 + 2.8 x 3.1298) / 12 = 35.23 / 12 = 2.93583
 *   LASD = (8 x 2.1891 + 1.2 x 2.4578 + 2.8 x 2.3947) / 12 = 27.1673 / 12 = 2.26394
 *   SBI: every bond of the Li-free sublattice is P-S (S-S 3.3 Å > 1.2 x 2.10 = 2.52), so
 *        SBI = 1 - exp(-(2.58 - 2.19)^2 / 4) = 1 - exp(-0.038025) = 0.0373111
 *   AFC: each S has the 3 other S of its PS4 tetrahedron nearest (about 3.3-3.4 Å) and none
 *        within 1.1 x that outside: AFC = 3 (the minimum-distance rule sees the polyanion).
 *   Li fraction = 12 / 32 = 0.375. */
static void test_li3ps4(void)
{
    probe p;
    featurize_file("labeled/obelix-train/cifs/nhq.cif", &p);
    EXACT(p.row[LLB], 0.8);
    EXACT(p.row[SBI], 1 - exp(-0.39 * 0.39 / 4));
    EXACT(p.row[AFC], 3);
    HAND(p.row[LLSD], 35.23 / 12);
    HAND(p.row[LASD], 27.1673 / 12);
    EXACT(p.row[LIFRAC], 0.375);
    CU_ASSERT(p.row[FREEVOL] > 0 && p.reason[FREEVOL] == MS_NAN_NONE);
}

/* Li10GeP2S12 (pymatgen test file, P4_2/nmc, a 8.69407, c 12.5994 Å, Z = 2): Li1 16h 0.691,
 * Li2 4d 1.0, Li3 8f 0.643; a mixed 4d site Ge 0.515 / P 0.485; P2 2a; S 24 sites. N_Li = 16 x
 * 0.691 + 4 + 8 x 0.643 = 11.056 + 4 + 5.144 = 20.2; atoms 20.2 + 4 + 2 + 24 = 50.2.
 * Split partners: two Li1 positions 1.7289 Å apart (both 0.691) are closer than 0.8 x 2.56 =
 * 2.048 Å: one atom on alternative positions, not a Li-Li pair.
 *   Li1 (x16, 0.691): d_Li 2.3205 (a Li3), d_S 2.4161; Li within 3.072: one Li3
 *   Li2 (x4, 1.0):    d_Li 3.1524, d_S 2.5771; none
 *   Li3 (x8, 0.643):  d_Li 2.3205, d_S 2.4958; two Li1
 *   LLB  = (11.056 x 0.643 + 5.144 x 2 x 0.691) / 20.2 = (7.109008 + 7.109008) / 20.2 = 0.7038622
 *   LLSD = (11.056 x 2.3205 + 4 x 3.1524 + 5.144 x 2.3205) / 20.2 = 50.2017 / 20.2 = 2.48523
 *   LASD = (11.056 x 2.4161 + 4 x 2.5771 + 5.144 x 2.4958) / 20.2 = 49.8592 / 20.2 = 2.46828
 *   SBI: tetrahedral centres bonded to 4 S each, bonds counted from both ends: Ge-S weight
 *        4 sites x 4 x 0.515 x 2 = 16.48, P-S on the mixed site 4 x 4 x 0.485 x 2 = 15.52, P2-S
 *        2 x 4 x 2 = 16; I(Ge,S) = 1 - exp(-0.57^2/4) = 0.0780143, I(P,S) = 0.0373111:
 *        SBI = (16.48 x 0.0780143 + 31.52 x 0.0373111) / 48 = 0.0512857
 *   AFC = 4 (each S has 4 S at its minimum anion distance x 1.1, by the same count).
 *   Li fraction = 20.2 / 50.2 = 0.4023904. */
static void test_lgps(void)
{
    probe p;
    featurize_file("cif/pymatgen/tests/files/Li10GeP2S12.cif", &p);
    double i_ge = 1 - exp(-0.57 * 0.57 / 4), i_p = 1 - exp(-0.39 * 0.39 / 4);
    EXACT(p.row[LLB], (11.056 * 0.643 + 5.144 * 2 * 0.691) / 20.2);
    EXACT(p.row[SBI], (16.48 * i_ge + 31.52 * i_p) / 48);
    EXACT(p.row[AFC], 4);
    HAND(p.row[LLSD], 50.2017 / 20.2);
    HAND(p.row[LASD], 49.8592 / 20.2);
    EXACT(p.row[LIFRAC], 20.2 / 50.2);
}

/* No Li: the Li-averaged features are NaN (undefined), the Li fraction a true 0; rock salt NaCl
 * has Cl as anion and AFC 12 (fcc Cl). */
static void test_no_lithium(void)
{
    const ms_descriptor_set *set;
    ms_structure_featurizer *fz;
    CU_ASSERT_EQUAL_FATAL(ms_descriptor_set_lookup("li-transport", &set), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(ms_structure_featurizer_create(set, ms_test_elements(), NULL, &fz),
                          MS_SUCCESS);
    ms_structure s;
    ms_structure_init(&s);
    CU_ASSERT_EQUAL(ms_structure_set_lattice_parameters(&s, 5.64, 5.64, 5.64, 90, 90, 90),
                    MS_SUCCESS);
    static const double fcc[4][3] = {{0, 0, 0}, {0, .5, .5}, {.5, 0, .5}, {.5, .5, 0}};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 4; i++) {
            double f[3] = {fcc[i][0] + .5 * k, fcc[i][1], fcc[i][2]};
            CU_ASSERT_EQUAL(ms_structure_add_site(&s, f, NULL), MS_SUCCESS);
            CU_ASSERT_EQUAL(ms_structure_add_species(&s, k ? 17 : 11, 1, 0, 0), MS_SUCCESS);
        }
    CU_ASSERT_EQUAL_FATAL(ms_structure_finish(&s), MS_SUCCESS);
    double row[N_SET];
    unsigned char reason[N_SET];
    CU_ASSERT_EQUAL(ms_structure_featurizer_compute(fz, &s, row, reason), MS_SUCCESS);
    for (int k = 0; k < N_LI; k++) {
        if (k == SBI || k == AFC || k == LIFRAC) continue;
        CU_ASSERT(isnan(row[k]));
        CU_ASSERT_EQUAL(reason[k], MS_NAN_UNDEFINED);
    }
    EXACT(row[LIFRAC], 0);
    EXACT(row[AFC], 12);
    EXACT(row[SBI], 1 - exp(-(3.16 - 0.93) * (3.16 - 0.93) / 4)); /* Na-Cl, 2.82 <= 3.216 */
    ms_structure_destroy(&s);
    ms_structure_featurizer_destroy(&fz);
}

int ms_suite_li_transport(void)
{
    CU_pSuite suite = CU_add_suite("li_transport", NULL, NULL);
    if (!suite) return CU_get_error();
    if (!CU_add_test(suite, "Li2O by hand", test_li2o) ||
        !CU_add_test(suite, "beta-Li3PS4 (OBELiX nhq) by hand", test_li3ps4) ||
        !CU_add_test(suite, "Li10GeP2S12 by hand", test_lgps) ||
        !CU_add_test(suite, "no Li: NaN with reasons, fraction 0", test_no_lithium))
        return CU_get_error();
    return CUE_SUCCESS;
}
