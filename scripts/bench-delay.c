// A TCP delay line for `make bench`: listens on 127.0.0.1:LISTEN and forwards each connection to
// 127.0.0.1:TARGET, holding every chunk on its way to the target for DELAY_US microseconds (answers come back
// at once), so each round trip to the server takes DELAY_US longer. Used when the kernel has no `netem`
// qdisc to add the delay itself (CONFIG_NET_SCH_NETEM unset). Per connection and direction, one thread reads
// and stamps the chunks and one writes each when its time has come, so chunks that follow each other closely
// are delayed by the same amount, not queued behind one another's waits.
//
//     bench-delay LISTEN_PORT TARGET_PORT DELAY_US
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct chunk {
    struct chunk *next;
    struct timespec due;
    size_t length;
    char bytes[];
};

struct line {
    int from, to;
    long delay_ns;
    pthread_mutex_t lock;
    pthread_cond_t ready;
    struct chunk *head, *tail;
    int ended;
};

static void *reader(void *argument) {
    struct line *line = argument;
    char buffer[65536];
    for (;;) {
        ssize_t n = read(line->from, buffer, sizeof buffer);
        struct chunk *chunk = NULL;
        if (n > 0) {
            chunk = malloc(sizeof *chunk + (size_t)n);
            chunk->next = NULL;
            chunk->length = (size_t)n;
            memcpy(chunk->bytes, buffer, (size_t)n);
            clock_gettime(CLOCK_MONOTONIC, &chunk->due);
            chunk->due.tv_nsec += line->delay_ns;
            while (chunk->due.tv_nsec >= 1000000000L) { chunk->due.tv_sec += 1; chunk->due.tv_nsec -= 1000000000L; }
        }
        pthread_mutex_lock(&line->lock);
        if (chunk) {
            if (line->tail) line->tail->next = chunk; else line->head = chunk;
            line->tail = chunk;
        } else {
            line->ended = 1;
        }
        pthread_cond_signal(&line->ready);
        pthread_mutex_unlock(&line->lock);
        if (!chunk) return NULL;
    }
}

static void *writer(void *argument) {
    struct line *line = argument;
    for (;;) {
        pthread_mutex_lock(&line->lock);
        while (!line->head && !line->ended) pthread_cond_wait(&line->ready, &line->lock);
        struct chunk *chunk = line->head;
        if (chunk) {
            line->head = chunk->next;
            if (!line->head) line->tail = NULL;
        }
        pthread_mutex_unlock(&line->lock);
        if (!chunk) {
            shutdown(line->to, SHUT_WR);
            return NULL;
        }
        if (line->delay_ns > 0) clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &chunk->due, NULL);
        size_t sent = 0;
        while (sent < chunk->length) {
            ssize_t n = write(line->to, chunk->bytes + sent, chunk->length - sent);
            if (n <= 0) break;
            sent += (size_t)n;
        }
        free(chunk);
    }
}

static void start_line(int from, int to, long delay_ns) {
    struct line *line = calloc(1, sizeof *line);
    line->from = from;
    line->to = to;
    line->delay_ns = delay_ns;
    pthread_mutex_init(&line->lock, NULL);
    pthread_cond_init(&line->ready, NULL);
    pthread_t thread;
    pthread_create(&thread, NULL, reader, line);
    pthread_detach(thread);
    pthread_create(&thread, NULL, writer, line);
    pthread_detach(thread);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: bench-delay LISTEN_PORT TARGET_PORT DELAY_US\n");
        return 2;
    }
    int one = 1;
    long delay_ns = atol(argv[3]) * 1000L;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    address.sin_port = htons((unsigned short)atoi(argv[1]));
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 128) != 0) {
        perror("bench-delay: listen");
        return 1;
    }
    struct sockaddr_in target = address;
    target.sin_port = htons((unsigned short)atoi(argv[2]));
    for (;;) {
        int client = accept(listener, NULL, NULL);
        if (client < 0) continue;
        int server = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(server, (struct sockaddr *)&target, sizeof target) != 0) {
            close(client);
            close(server);
            continue;
        }
        // No Nagle on either side: a chunk held back by it would add its own delay.
        setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        start_line(client, server, delay_ns);
        start_line(server, client, 0);
    }
}
