/*
 * The CUnit suites of the unit test runner, one per module (tests mirror src/).
 *
 * Each test_<module>.c defines ms_suite_<module>(), which adds its suite to the registry and
 * returns a CUnit error code. They are declared weak so that the runner links while a module's
 * tests are being written; main.c fails the run if a declared suite is missing.
 */
#ifndef MS_TEST_SUITES_H
#define MS_TEST_SUITES_H

#define MS_SUITE(name) int ms_suite_##name(void) __attribute__((weak));
#define MS_SUITE_LIST(X)                                                                           \
    X(error) X(rng) X(hash) X(element) X(composition) X(structure) X(reader) X(cif_reader)         \
    X(json_reader) X(poscar_reader) X(reference) X(descriptor) X(magpie_reference)         \
    X(symmetry) X(symmetry_reference) X(farm) X(source) X(neighbors) X(csv)         \
    X(validate) X(dedup) X(outliers) X(workflow) X(structure_features) X(li_transport) X(gp) X(oxidation) X(journal) X(forest) X(models) X(metrics) X(acquisition) X(fuzz_regressions) X(screen) X(state) X(dataset) \
    X(extsort) X(array) X(bvse) X(gbm) X(treeshap) X(outfile) X(cv) X(domain) X(json_writer) X(memo) \
    X(task_spill)

MS_SUITE_LIST(MS_SUITE)

#endif
