/* Locating share/matscreen; see share.h. */
#include "matscreen/share.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MS_DATADIR
#define MS_DATADIR "/usr/local/share/matscreen"
#endif

/* The element table is the one file every command needs; its presence marks a share dir. */
static int holds_share(const char *dir)
{
    char probe[PATH_MAX];
    struct stat st;
    if (snprintf(probe, sizeof probe, "%s/elements/periodic_table.json", dir) >= (int)sizeof probe)
        return 0;
    return stat(probe, &st) == 0;
}

static int copy_if_share(const char *dir, char *out, size_t n)
{
    if (!holds_share(dir) || strlen(dir) + 1 > n) return 0;
    memcpy(out, dir, strlen(dir) + 1);
    return 1;
}

ms_status ms_share_dir(char *out, size_t n)
{
    const char *env = getenv("MATSCREEN_SHARE");
    if (env && *env) {
        if (copy_if_share(env, out, n)) return MS_SUCCESS;
        return ms_error_set(MS_ERR_NOT_FOUND,
                            "MATSCREEN_SHARE=%s does not hold elements/periodic_table.json", env);
    }
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        char dir[PATH_MAX + 32];
        const char *rel[] = {"/share/matscreen", "/../share/matscreen", "/../../share/matscreen"};
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            snprintf(dir, sizeof dir, "%s%s", exe, rel[i]);
            if (copy_if_share(dir, out, n)) return MS_SUCCESS;
        }
    }
    if (copy_if_share(MS_DATADIR, out, n)) return MS_SUCCESS;
    return ms_error_set(MS_ERR_NOT_FOUND,
                        "share data not found: set MATSCREEN_SHARE, or install matscreen "
                        "(looked next to the executable and in %s)",
                        MS_DATADIR);
}
