/*
 * A main() for a libFuzzer harness when no libFuzzer is linked: run every
 * file named on the command line (directories: every file in them, in
 * name order) through LLVMFuzzerTestOneInput once, and print TAP, one
 * line per file. A harness that finds a broken rule aborts, which the TAP
 * driver reports as a failure.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FILES 4096

static char *files[MAX_FILES];
static size_t nfiles;

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
add_file(const char *path)
{
    if (nfiles == MAX_FILES) {
        fprintf(stderr, "replay: more than %d files\n", MAX_FILES);
        exit(2);
    }
    files[nfiles++] = xstrdup(path);
}

static void
add_path(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    char full[4096];

    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        add_file(path);
        return;
    }
    d = opendir(path);
    if (d == NULL) {
        add_file(path);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
        add_file(full);
    }
    closedir(d);
}

int
main(int argc, char **argv)
{
    int failed = 0;

    for (int i = 1; i < argc; i++) {
        add_path(argv[i]);
    }
    qsort(files, nfiles, sizeof(files[0]), by_name);
    printf("1..%zu\n", nfiles);
    for (size_t i = 0; i < nfiles; i++) {
        size_t len;
        char *data = util_read_file(files[i], &len);

        if (data == NULL) {
            printf("not ok %zu - %s: cannot read\n", i + 1, files[i]);
            failed = 1;
            continue;
        }
        fflush(stdout);
        LLVMFuzzerTestOneInput((const uint8_t *)data, len);
        printf("ok %zu - %s\n", i + 1, strrchr(files[i], '/') != NULL ?
            strrchr(files[i], '/') + 1 : files[i]);
        free(data);
        free(files[i]);
    }
    return failed;
}
