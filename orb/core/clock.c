/*
 * clock.c - the monotonic clock that deadlines use, and transport buffers.
 */
#include <stdlib.h>
#include <time.h>

#include <phx/transport.h>

int64_t phx_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void phx_buf_dispose(phx_buf_t *buf)
{
    if (buf == NULL || buf->data == NULL)
        return;
    if (buf->free_fn)
        buf->free_fn(buf->data, buf->hint);
    else
        free(buf->data);
    buf->data = NULL;
    buf->len = 0;
}
