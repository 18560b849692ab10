/*
 * The transport-only reference of `make bench`: libcurl alone, sending one fixed message over and over
 * on a reused easy handle (one SMTP session per process), the way `digest send` uses libcurl, with
 * nothing else: no ranking, composing, MIME or ledger. `digest send` can at best reach this.
 *
 *   bench-curl URL FROM TO FILE MESSAGES PROCESSES
 *
 * FILE holds the message with CRLF line ends. MESSAGES are split evenly over PROCESSES forked
 * processes (connections). Exits non-zero if any transfer fails.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct upload { const char *data; size_t size, offset; };

/* "size_t read_callback(char *buffer, size_t size, size_t nitems, void *userdata);"
 * https://curl.se/libcurl/c/CURLOPT_READFUNCTION.html */
static size_t on_read(char *buffer, size_t size, size_t count, void *userdata) {
    struct upload *up = userdata;
    size_t left = up->size - up->offset, n = size * count < left ? size * count : left;
    memcpy(buffer, up->data + up->offset, n);
    up->offset += n;
    return n;
}

static int send_many(const char *url, const char *from, const char *to, const char *data, size_t size, long count) {
    CURL *easy = curl_easy_init();
    if (!easy) return 1;
    struct curl_slist *rcpt = curl_slist_append(NULL, to);
    struct upload up = { data, size, 0 };
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(easy, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(easy, CURLOPT_READDATA, &up);
    curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
    curl_easy_setopt(easy, CURLOPT_MAXCONNECTS, 1L);
    int failed = 0;
    for (long i = 0; i < count; i++) {
        up.offset = 0;
        CURLcode code = curl_easy_perform(easy);
        if (code != CURLE_OK) {
            fprintf(stderr, "bench-curl: %s\n", curl_easy_strerror(code));
            failed = 1;
            break;
        }
    }
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(easy);
    return failed;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: bench-curl URL FROM TO FILE MESSAGES PROCESSES\n");
        return 2;
    }
    FILE *file = fopen(argv[4], "rb");
    if (!file) { perror(argv[4]); return 2; }
    fseek(file, 0, SEEK_END);
    size_t size = (size_t)ftell(file);
    rewind(file);
    char *data = malloc(size);
    if (!data || fread(data, 1, size, file) != size) { fprintf(stderr, "bench-curl: cannot read %s\n", argv[4]); return 2; }
    fclose(file);
    long messages = atol(argv[5]), processes = atol(argv[6]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (long p = 0; p < processes; p++) {
        long share = messages / processes + (p < messages % processes ? 1 : 0);
        pid_t pid = fork();
        if (pid == 0) _exit(send_many(argv[1], argv[2], argv[3], data, size, share));
        if (pid < 0) { perror("fork"); return 1; }
    }
    int failed = 0, status;
    while (wait(&status) > 0) failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    return failed;
}
