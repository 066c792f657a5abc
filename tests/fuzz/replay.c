/*
 * replay.c - runs a libFuzzer target without libFuzzer: every file named
 * on the command line, and every regular file directly inside every
 * directory named there (in sorted order, so runs are reproducible), is
 * passed once to LLVMFuzzerTestOneInput.  "make check" links it with
 * tests/fuzz/fuzz_giop.c to replay the seed corpus as a regression test.
 *
 *   replay_giop PATH...
 *
 * Exits 0 when every input ran; a crash or a sanitizer report in the
 * target ends the process and fails the test.  Exits 1 when a path cannot
 * be read, 2 on bad usage.
 *
 * As under libFuzzer, an input that runs for more than REPLAY_TIMEOUT_S
 * seconds aborts, and so does, in AddressSanitizer builds, a single
 * allocation of more than REPLAY_MALLOC_LIMIT (libFuzzer's default
 * -malloc_limit_mb): a decoder must not be made to run away or to
 * allocate gigabytes by a few octets of input.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_TIMEOUT_S 30
#define REPLAY_MALLOC_LIMIT ((size_t)2048 << 20)

/* The input being run, for the messages of the signal handlers. */
static char current[4096];

static void say(const char *a, const char *b, const char *c)
{
    /* Only async-signal-safe calls: this runs in handlers. */
    if (write(STDERR_FILENO, a, strlen(a)) < 0 ||
        write(STDERR_FILENO, b, strlen(b)) < 0 ||
        write(STDERR_FILENO, c, strlen(c)) < 0)
        return;
}

static void on_alarm(int sig)
{
    (void)sig;
    say("replay: ", current, ": still running after the time limit\n");
    abort();
}

#if defined(__SANITIZE_ADDRESS__)
#define REPLAY_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REPLAY_ASAN 1
#endif
#endif

#ifdef REPLAY_ASAN
/* From the sanitizer runtime (declared in <sanitizer/allocator_interface.h>
 * where the compiler ships it). */
int __sanitizer_install_malloc_and_free_hooks(
    void (*malloc_hook)(const volatile void *, size_t),
    void (*free_hook)(const volatile void *));

static void on_malloc(const volatile void *p, size_t size)
{
    (void)p;
    if (size > REPLAY_MALLOC_LIMIT) {
        say("replay: ", current, ": allocation beyond the limit\n");
        abort();
    }
}

/* The runtime installs the pair only with both hooks. */
static void on_free(const volatile void *p)
{
    (void)p;
}
#endif

/* Largest input read; bigger files are refused rather than truncated. */
#define REPLAY_MAX_INPUT ((size_t)64 << 20)

static unsigned long ran;

/* Read the whole file into a malloc'd buffer; 0 or -1 (message printed). */
static int read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;

    *out = NULL;
    *len = 0;
    if (f == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 4096;
            uint8_t *nb;
            if (nc > REPLAY_MAX_INPUT + 1)
                nc = REPLAY_MAX_INPUT + 1;
            if (nc <= cap) {
                fprintf(stderr, "replay: %s: larger than %zu bytes\n", path,
                        REPLAY_MAX_INPUT);
                free(buf);
                fclose(f);
                return -1;
            }
            nb = realloc(buf, nc);
            if (nb == NULL) {
                fprintf(stderr, "replay: %s: out of memory\n", path);
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
            cap = nc;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "replay: %s: read error\n", path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    *out = buf;
    *len = n;
    return 0;
}

static int run_file(const char *path)
{
    uint8_t *data;
    size_t len;

    if (read_file(path, &data, &len) != 0)
        return -1;
    /* An exact-size copy, so that the sanitizers catch a read past the
     * end of the input as they would under libFuzzer. */
    uint8_t *exact = malloc(len ? len : 1);
    if (exact == NULL) {
        free(data);
        fprintf(stderr, "replay: %s: out of memory\n", path);
        return -1;
    }
    if (len)
        memcpy(exact, data, len);
    free(data);
    snprintf(current, sizeof current, "%s", path);
    alarm(REPLAY_TIMEOUT_S);
    LLVMFuzzerTestOneInput(exact, len);
    alarm(0);
    free(exact);
    ran++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay the regular files directly inside dir, sorted by name. */
static int run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (d == NULL) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **nn = realloc(names, nc * sizeof *nn);
            if (nn == NULL) {
                rc = -1;
                break;
            }
            names = nn;
            cap = nc;
        }
        names[n] = strdup(e->d_name);
        if (names[n] == NULL) {
            rc = -1;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc != 0)
        fprintf(stderr, "replay: %s: out of memory\n", dir);
    else if (n)
        qsort(names, n, sizeof *names, cmp_names);

    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t len = strlen(dir) + 1 + strlen(names[i]) + 1;
        char *path = malloc(len);
        struct stat st;
        if (path == NULL) {
            fprintf(stderr, "replay: out of memory\n");
            rc = -1;
            break;
        }
        snprintf(path, len, "%s/%s", dir, names[i]);
        if (stat(path, &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
            rc = -1;
        } else if (S_ISREG(st.st_mode)) {
            rc = run_file(path);
        }
        free(path);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int failed = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE-OR-DIRECTORY...\n", argv[0]);
        return 2;
    }
    signal(SIGALRM, on_alarm);
#ifdef REPLAY_ASAN
    __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
#endif
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            failed = 1;
        } else if (S_ISDIR(st.st_mode)) {
            failed |= run_dir(argv[i]) != 0;
        } else {
            failed |= run_file(argv[i]) != 0;
        }
    }
    printf("replay: %lu inputs ran\n", ran);
    return failed ? 1 : 0;
}
