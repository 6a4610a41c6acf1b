/*
 * Suite "workflow": XML workflow loading (src/workflow/workflow_xml.c) and report.html
 * (src/workflow/report.c).
 *
 * Every invalid file in tests/data/workflows/ holds exactly one fault; its load must fail with one
 * issue, on the line of the fault, with a message naming the problem. Hostile files (entity bomb,
 * XXE, external DTD, deep nesting, non-UTF-8, a file over 1 MiB) must be rejected before anything
 * is expanded or fetched.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "matscreen/acquisition.h"
#include "matscreen/campaign.h"
#include "matscreen/pipeline.h"
#include "matscreen/report.h"
#include "matscreen/workflow.h"
#include "test_util.h"

int ms_suite_workflow(void); /* until tests/unit/suites.h lists it */

static ms_workflow_issues issues;

/* Loads tests/data/workflows/name; returns the status and keeps the issues. */
static ms_status load(const char *name, ms_workflow **w)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", ms_test_local(name));
    return ms_workflow_load(path, NULL, w, &issues);
}

/* The file must fail with status st, one issue on line, whose message contains text. */
static void expect_one(const char *name, ms_status st, int line, const char *text)
{
    char rel[256];
    snprintf(rel, sizeof rel, "workflows/%s", name);
    ms_workflow *w = (ms_workflow *)1;
    ms_status got = load(rel, &w);
    CU_ASSERT_EQUAL(got, st);
    CU_ASSERT_PTR_NULL(w);
    CU_ASSERT_EQUAL(issues.n, 1);
    CU_ASSERT_EQUAL(issues.dropped, 0);
    if (issues.n < 1) return;
    CU_ASSERT_EQUAL(issues.items[0].line, line);
    CU_ASSERT_PTR_NOT_NULL(strstr(issues.items[0].message, text));
    /* "FILE:LINE: ..." */
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s:%d: ", name, line);
    if (line > 0) CU_ASSERT_PTR_NOT_NULL(strstr(issues.items[0].message, prefix));
    if (issues.items[0].line != line || !strstr(issues.items[0].message, text))
        fprintf(stderr, "\n  %s: got line %d: %s\n", name, issues.items[0].line, issues.items[0].message);
    CU_ASSERT_STRING_EQUAL(ms_error_message(), issues.items[0].message);
}

static void test_valid(void)
{
    ms_workflow *w = NULL;
    ms_status st = load("workflows/valid.xml", &w);
    CU_ASSERT_EQUAL_FATAL(st, MS_SUCCESS);
    CU_ASSERT_EQUAL(issues.n, 0);
    CU_ASSERT_STRING_EQUAL(w->name, "valid");
    CU_ASSERT_EQUAL(w->stage, MS_WORKFLOW_SCREEN);
    CU_ASSERT_EQUAL(w->seed, 7);
    CU_ASSERT_EQUAL(w->n_sources, 2);
    CU_ASSERT_EQUAL(w->sources[0].db, MS_DB_COD);
    CU_ASSERT_EQUAL(w->sources[0].trust, 2);
    CU_ASSERT_EQUAL(w->sources[1].is_glob, 1);
    CU_ASSERT_EQUAL(w->sources[1].db, MS_DB_MP);
    /* relative paths resolve against the workflow file, then relative to the cwd when under it */
    char cwd[4096];
    CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof cwd));
    struct stat a, b;
    CU_ASSERT_EQUAL(stat(w->sources[0].spec, &a), 0);
    CU_ASSERT_EQUAL(stat(ms_test_local("../../examples/structures"), &b), 0);
    CU_ASSERT(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
    CU_ASSERT_PTR_NULL(strstr(w->sources[0].spec, "/./"));
    CU_ASSERT_PTR_NOT_NULL(strstr(w->sources[1].spec, "examples/structures/*.json"));
    CU_ASSERT_EQUAL(w->filter.require[3], 1);
    CU_ASSERT_EQUAL(w->filter.exclude[82], 1);
    CU_ASSERT_EQUAL(w->filter.exclude[48], 1);
    CU_ASSERT_EQUAL(w->filter.exclude[80], 1);
    CU_ASSERT_EQUAL(w->filter.exclude[3], 0);
    CU_ASSERT_DOUBLE_EQUAL(w->filter.max_atoms, 250.5, 1e-12);
    CU_ASSERT_EQUAL(w->filter.reject_warnings, 1);
    CU_ASSERT_EQUAL(w->filter.n_ranges, 1);
    CU_ASSERT_EQUAL(w->filter.ranges[0].rank_by, MS_RANK_DENSITY);
    CU_ASSERT_DOUBLE_EQUAL(w->filter.ranges[0].min, 1.2, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(w->filter.ranges[0].max, 6.5, 1e-12);
    CU_ASSERT_STRING_EQUAL(w->descriptor_set, "magpie");
    CU_ASSERT_EQUAL(w->rank_by, MS_RANK_DENSITY);
    CU_ASSERT_EQUAL(w->ascending, 1);
    CU_ASSERT_EQUAL(w->top_k, 7);
    CU_ASSERT_PTR_NOT_NULL(strstr(w->output_dir, "tests/data/workflows/out"));
    CU_ASSERT_NOT_EQUAL(w->hash, 0);
    ms_workflow_free(w);
}

static void test_filters(void)
{
    ms_workflow *w = NULL;
    CU_ASSERT_EQUAL_FATAL(load("workflows/valid.xml", &w), MS_SUCCESS);
    double v[MS_RANK_COUNT];
    for (int i = 0; i < MS_RANK_COUNT; i++) v[i] = 2.385;
    CU_ASSERT_TRUE(ms_workflow_accepts(w, "Li6PS5Cl", 52, 0, v));
    CU_ASSERT_FALSE(ms_workflow_accepts(w, "Li6PS5Cl", 52, MS_FLAG_WARNINGS, v)); /* severity */
    CU_ASSERT_FALSE(ms_workflow_accepts(w, "NaCl", 8, 0, v));                     /* no Li */
    CU_ASSERT_FALSE(ms_workflow_accepts(w, "LiPbO2", 8, 0, v));                   /* Pb */
    CU_ASSERT_FALSE(ms_workflow_accepts(w, "Li6PS5Cl", 250.6, 0, v));             /* max atoms */
    v[MS_RANK_DENSITY] = 7.1;
    CU_ASSERT_FALSE(ms_workflow_accepts(w, "Li6PS5Cl", 52, 0, v));                /* range */
    v[MS_RANK_DENSITY] = NAN;
    CU_ASSERT_FALSE(ms_workflow_accepts(w, "Li6PS5Cl", 52, 0, v));
    CU_ASSERT_TRUE(ms_workflow_accepts(NULL, "NaCl", 8, 0, v));
    ms_workflow_free(w);
}

static void test_invalid(void)
{
    expect_one("bad_element.xml", MS_ERR_INVALID, 9, "<exclude-elements>: 'Xx' is not an element symbol");
    expect_one("bad_number.xml", MS_ERR_INVALID, 10, "<max-atoms>: '25O' is not a number");
    expect_one("unknown_descriptor_set.xml", MS_ERR_INVALID, 14,
               "<descriptors set=\"magpi\">: unknown descriptor set; this build has: magpie");
    expect_one("missing_file.xml", MS_ERR_INVALID, 4, "examples/no-such-dir does not exist");
    expect_one("unknown_stage.xml", MS_ERR_INVALID, 2,
               "'scren' is not one of: screen, train, evaluate, campaign");
    expect_one("schema_violation.xml", MS_ERR_INVALID, 14, "<descriptor> is not allowed here");
    expect_one("empty_sources.xml", MS_ERR_INVALID, 3,
               "<sources> is missing a required element: source");
    expect_one("bad_acquisition.xml", MS_ERR_INVALID, 12,
               "<campaign acquisitions=\"mei, thompson, random\">: 'thompson' is not an "
               "acquisition function; valid: ei (or mei)");
    expect_one("campaign_learner.xml", MS_ERR_UNSUPPORTED, 8,
               "<training kind=\"logistic\">: stage campaign needs a surrogate with an "
               "uncertainty: forest or gp");
    expect_one("unknown_learner.xml", MS_ERR_UNSUPPORTED, 16,
               "<training kind=\"sparse-gp\">: this build has no such learner; it has: forest");
    expect_one("missing_structures.xml", MS_ERR_INVALID, 16,
               "<training>: stage 'train' needs <structures path=\"DIR\"/>");
    expect_one("explain_no_model.xml", MS_ERR_INVALID, 6,
               "<models explain>: explanations need a <model>");
    expect_one("explain_learner.xml", MS_ERR_UNSUPPORTED, 15,
               "<models explain>: learner 'gp' cannot explain its predictions");
}

/* Stage campaign: defaults without <campaign> (the <acquisition> function against random). */
static void test_campaign(void)
{
    ms_workflow *w = NULL;
    CU_ASSERT_EQUAL(load("workflows/unavailable_stage.xml", &w), MS_SUCCESS);
    if (w) {
        CU_ASSERT_EQUAL(w->stage, MS_WORKFLOW_CAMPAIGN);
        CU_ASSERT_EQUAL(w->campaign.line, 0);
        CU_ASSERT_EQUAL(w->campaign.n0, 10);
        CU_ASSERT_EQUAL(w->campaign.batch, 1);
        CU_ASSERT_EQUAL(w->campaign.budget, 50);
        CU_ASSERT_EQUAL(w->campaign.seeds, 10);
        CU_ASSERT_EQUAL(w->campaign.n_acq, 2);
        CU_ASSERT_EQUAL(w->campaign.acq[0], MS_ACQ_EI);
        CU_ASSERT_EQUAL(w->campaign.acq[1], MS_ACQ_RANDOM);
    }
    ms_workflow_free(w);
    w = NULL;
    CU_ASSERT_EQUAL(load("../../workflows/active-learning.xml", &w), MS_SUCCESS);
    if (w) {
        CU_ASSERT_EQUAL(w->campaign.n0, 10);
        CU_ASSERT_EQUAL(w->campaign.budget, 60);
        CU_ASSERT_EQUAL(w->campaign.seeds, 5);
        CU_ASSERT_EQUAL(w->campaign.n_acq, 2);
        /* UCB with no kappa: the campaign's default by its mode, 2 on the workflow's random pool
         * and 1 grouped (docs/active-learning.md's best in each) */
        CU_ASSERT_EQUAL(w->campaign.acq[0], MS_ACQ_UCB);
        CU_ASSERT(isnan(w->acq_kappa));
        CU_ASSERT_DOUBLE_EQUAL(ms_campaign_default_kappa(0), 2.0, 0);
        CU_ASSERT_DOUBLE_EQUAL(ms_campaign_default_kappa(1), 1.0, 0);
        CU_ASSERT_EQUAL(w->campaign.acq[1], MS_ACQ_RANDOM);
        CU_ASSERT_STRING_EQUAL(w->training.formula_column, "Reduced Composition");
    }
    ms_workflow_free(w);
}

static void test_hostile(void)
{
    expect_one("billion_laughs.xml", MS_ERR_PARSE, 2, "a DOCTYPE is not allowed");
    expect_one("xxe.xml", MS_ERR_PARSE, 3, "a DOCTYPE is not allowed");
    expect_one("external_dtd.xml", MS_ERR_PARSE, 2, "a DOCTYPE is not allowed");
    expect_one("undeclared_entity.xml", MS_ERR_PARSE, 3, "entity references are not allowed");
    expect_one("deep_nesting.xml", MS_ERR_LIMIT, 4, "nested too deeply");
    expect_one("nesting_40.xml", MS_ERR_LIMIT, 4, "nested more than 32 deep");
    expect_one("non_utf8.xml", MS_ERR_PARSE, 3, "byte 0xF6 is not UTF-8");
    expect_one("latin1_declared.xml", MS_ERR_PARSE, 1, "is not accepted; save the workflow as UTF-8");
    /* a file over the size limit (made here rather than kept in the repository) */
    char path[] = "/tmp/ms_test_workflow_huge_XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("<?xml version=\"1.0\"?>\n<workflow name=\"huge\"><description>", f);
    for (int i = 0; i < MS_WORKFLOW_MAX_BYTES / 64 + 1; i++)
        fputs("Li7La3Zr2O12 Li7La3Zr2O12 Li7La3Zr2O12 Li7La3Zr2O12 Li7La3Zr2O1\n", f);
    fputs("</description></workflow>\n", f);
    fclose(f);
    ms_workflow *w = (ms_workflow *)1;
    CU_ASSERT_EQUAL(ms_workflow_load(path, NULL, &w, &issues), MS_ERR_LIMIT);
    CU_ASSERT_PTR_NULL(w);
    CU_ASSERT_EQUAL(issues.n, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(issues.items[0].message, "larger than 1048576 bytes"));
    remove(path);
    /* a missing file */
    CU_ASSERT_EQUAL(ms_workflow_load("/nonexistent/wf.xml", NULL, &w, &issues), MS_ERR_IO);
    CU_ASSERT_EQUAL(issues.n, 1);
    /* misuse */
    CU_ASSERT_EQUAL(ms_workflow_load("x.xml", NULL, &w, NULL), MS_ERR_USAGE);
}

/* The ready workflows of workflows/: examples is valid; quickstart is valid once make quickstart
 * trained its classifier, and before that names the missing model; the others say why not. */
static void test_ready_workflows(void)
{
    ms_workflow *w = NULL;
    CU_ASSERT_EQUAL(load("../../workflows/examples.xml", &w), MS_SUCCESS);
    if (w) {
        CU_ASSERT_STRING_EQUAL(w->name, "examples");
        CU_ASSERT_EQUAL(w->n_sources, 1);
    }
    ms_workflow_free(w);
    w = NULL;
    ms_status st = load("../../workflows/quickstart.xml", &w);
    if (access(ms_test_local("../../runs/quickstart/models/classifier.msm"), R_OK) == 0) {
        CU_ASSERT_EQUAL(st, MS_SUCCESS);
    } else {
        CU_ASSERT_NOT_EQUAL(st, MS_SUCCESS);
        CU_ASSERT_EQUAL(issues.n, 1);
        if (issues.n == 1) CU_ASSERT_PTR_NOT_NULL(strstr(issues.items[0].message, "classifier.msm"));
    }
    if (st == MS_SUCCESS) {
        CU_ASSERT_EQUAL(w->stage, MS_WORKFLOW_TRAIN);
        CU_ASSERT_STRING_EQUAL(w->acquisition, "mei");
        CU_ASSERT_DOUBLE_EQUAL(w->acq_target, -3, 0);
    }
    ms_workflow_free(w);
    st = load("../../workflows/train-conductivity.xml", &w);
    CU_ASSERT_EQUAL(st, MS_SUCCESS);
    if (w) {
        CU_ASSERT_EQUAL(w->stage, MS_WORKFLOW_TRAIN);
        CU_ASSERT(w->training.present && w->training.n_structures == 1);
        CU_ASSERT_STRING_EQUAL(w->training.transform, "log10");
    }
    ms_workflow_free(w);
    st = load("../../workflows/active-learning.xml", &w);
    CU_ASSERT_EQUAL(st, MS_SUCCESS);
    if (w) CU_ASSERT_EQUAL(w->stage, MS_WORKFLOW_CAMPAIGN);
    ms_workflow_free(w);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) n = 0;
    if (s) s[n] = 0;
    fclose(f);
    return s;
}

static const char *RANKED_HEAD =
    "rank,key,file,block,source_db,source_id,formula,spacegroup,n_sites,n_atoms,volume,density,"
    "volume_per_atom,li_fraction,class_prob,surrogate_mean,surrogate_sigma,acquisition,score,"
    "duplicates,flags\n";

static void test_report(void)
{
    char dir[] = "/tmp/ms_test_report_XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char p[512], prev[512];
    snprintf(p, sizeof p, "%s/ranked.csv", dir);
    char buf[4096];
    snprintf(buf, sizeof buf, "%s"
             "1,a.cif#0,a.cif,<script>,ICSD,ICSD 1,Li7La3Zr2O12,230,96,192,2.385,5.1,12.4,0.36,,0.82,0.12,,0.82,0,li\n"
             "2,\"b,c.cif#0\",\"b,c.cif\",x,COD,\"say \"\"hi\"\"\",Li3PS4&amp,62,32,32,1.1,1.9,20.1,0.375,,0.61,0.07,,0.61,1,li\n"
             "3,d.cif#0,d.cif,d,MP,mp-1,LiFePO4,62,28,28,290,3.6,10.3,0.14,,0.33,0.2,,0.33,0,li\n",
             RANKED_HEAD);
    write_text(p, buf);
    snprintf(p, sizeof p, "%s/errors.csv", dir);
    write_text(p, "key,file,block,index,offset,source_db,source_id,stage,status,reason\n"
                  "e.cif#0,e.cif,e,0,,unknown,e,read,syntax error in input,\"e.cif:3: bad <loop>\"\n");
    snprintf(p, sizeof p, "%s/quality.json", dir);
    write_text(p, "{\"records\":4,\"screened\":3,\"failed\":1,\"unique_candidates\":3,"
                  "\"duplicates_merged\":1,\"failed_by_stage\":{\"read\":1},\"criteria\":{\"timeliness\":null}}");
    snprintf(p, sizeof p, "%s/manifest.json", dir);
    write_text(p, "{\"version\":\"0.1.0\",\"seed\":42,\"rank_by\":\"li_fraction\",\"top_k\":2,"
                  "\"ranks\":3,\"timings\":{\"total_seconds\":1.5},\"inputs\":[{\"spec\":\"x<y\","
                  "\"records\":4,\"hash\":\"00ff\"}]}");
    snprintf(p, sizeof p, "%s/evaluation.csv", dir);
    write_text(p, "id,observed,predicted,sigma\na,1.0,1.1,0.2\nb,2.0,1.7,0.3\nc,3.0,3.2,0.1\n");
    snprintf(prev, sizeof prev, "%s/previous", dir);
    mkdir(prev, 0777);
    snprintf(p, sizeof p, "%s/ranked.csv", prev);
    snprintf(buf, sizeof buf, "%s"
             "1,d.cif#0,d.cif,d,MP,mp-1,LiFePO4,62,28,28,290,3.6,10.3,0.14,,0.9,0.2,,0.9,0,li\n"
             "2,a.cif#0,a.cif,a,ICSD,ICSD 1,Li7La3Zr2O12,230,96,192,2.385,5.1,12.4,0.36,,0.8,0.12,,0.8,0,li\n",
             RANKED_HEAD);
    write_text(p, buf);
    ms_report_options opt = {"nightly <test>", "wf.xml", 1, 0xabcdefull, 5, "requires Li", prev, NULL, NULL};
    CU_ASSERT_EQUAL_FATAL(ms_report_write(dir, &opt), MS_SUCCESS);
    snprintf(p, sizeof p, "%s/report.html", dir);
    char *html = read_text(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    /* escaping */
    CU_ASSERT_PTR_NULL(strstr(html, "<script"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "nightly &lt;test&gt;"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "Li3PS4&amp;amp"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "say &quot;hi&quot;"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "bad &lt;loop&gt;"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "x&lt;y"));
    /* no network, plots present */
    for (const char *h = strstr(html, "http"); h; h = strstr(h + 1, "http"))
        CU_ASSERT(strncmp(h, "http://www.w3.org/2000/svg", 26) == 0 ||
                  strncmp(h, "http-equiv", 10) == 0);
    CU_ASSERT_PTR_NULL(strstr(html, "<script"));
    const char *ids[] = {"plot-topk", "plot-scores", "plot-sigma", "plot-quality", "plot-parity",
                         "plot-calibration"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char want[64];
        snprintf(want, sizeof want, "<svg id=\"%s\"", ids[i]);
        CU_ASSERT_PTR_NOT_NULL(strstr(html, want));
    }
    /* changes: top 2 now a, b; before d, a -> b new, d left, a changed 0.8 -> 0.82; 1 new error */
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<b>1</b> new in the top 2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<b>1</b> left the top 2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<b>1</b> changed score"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<b>1</b> new errors"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "data-volatile"));
    /* deterministic */
    CU_ASSERT_EQUAL_FATAL(ms_report_write(dir, &opt), MS_SUCCESS);
    char *again = read_text(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(again);
    CU_ASSERT_STRING_EQUAL(html, again);
    free(again);
    free(html);
    /* the same comparison from the state store's history (previous_dir is then ignored) */
    ms_report_top_entry top[2] = {{"d.cif#0", "LiFePO4", "mp-1", 0.9},
                                  {"a.cif#0", "Li7La3Zr2O12", "ICSD 1", 0.8}};
    ms_report_error_entry errs[1] = {{"z.cif#0", "read", "gone"}};
    ms_report_input_change inputs[4] = {{"b,c.cif", 0, -1, "new"}, {"d.cif", 0, -1, "changed"},
                                        {"old<1>.cif", 0, -1, "removed"},
                                        {"e.cif", 0, -1, "identity"}};
    ms_report_history hist = {1, 4, 5, "2026-01-01T00:00:00Z", 2, top, 1, errs, 4, inputs, 7, 2};
    opt.history = &hist;
    opt.previous_dir = "/nonexistent";
    CU_ASSERT_EQUAL_FATAL(ms_report_write(dir, &opt), MS_SUCCESS);
    html = read_text(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<b>1</b> new in the top 2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<b>1</b> left the top 2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<b>1</b> changed score"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<b>1</b> new errors"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<b>7</b> inputs reused"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<tr class=\"input-change\"><td>new</td><td>b,c.cif</td>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<td>removed</td><td>old&lt;1&gt;.cif</td>"));
    /* an input computed again for new models is named so, not by the store's word "identity" */
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<td>recomputed</td><td>e.cif</td>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<b>1</b> recomputed for new models or descriptors"));
    free(html);
    hist.has_previous = 0;
    CU_ASSERT_EQUAL_FATAL(ms_report_write(dir, &opt), MS_SUCCESS);
    html = read_text(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "No previous run in the state store"));
    free(html);
    /* no evaluation, no previous: no parity plot, a first-run note */
    snprintf(p, sizeof p, "%s/evaluation.csv", dir);
    remove(p);
    CU_ASSERT_EQUAL(ms_report_write(dir, NULL), MS_SUCCESS);
    snprintf(p, sizeof p, "%s/report.html", dir);
    html = read_text(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    CU_ASSERT_PTR_NULL(strstr(html, "plot-parity"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "this is the first"));
    free(html);
    /* a directory without ranked.csv fails cleanly */
    CU_ASSERT_EQUAL(ms_report_write("/nonexistent-dir", NULL), MS_ERR_IO);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

int ms_suite_workflow(void)
{
    CU_pSuite s = CU_add_suite("workflow", NULL, NULL);
    if (!s) return CU_get_error();
    if (!CU_add_test(s, "valid workflow: every field", test_valid) ||
        !CU_add_test(s, "filters", test_filters) ||
        !CU_add_test(s, "invalid workflows: one error each, with its line", test_invalid) ||
        !CU_add_test(s, "stage campaign settings", test_campaign) ||
        !CU_add_test(s, "hostile XML is rejected", test_hostile) ||
        !CU_add_test(s, "ready workflows", test_ready_workflows) ||
        !CU_add_test(s, "report.html", test_report))
        return CU_get_error();
    return CUE_SUCCESS;
}
