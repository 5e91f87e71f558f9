/* SPDX-License-Identifier: BSD-2-Clause */
/* Cross-checks of the Go event cursor for unit tests and fuzz harnesses. */
#ifndef GS_TESTS_GOCURSOR_H
#define GS_TESTS_GOCURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/tf_batch.h"

bool gocursor_event_eq(const struct tf_go_event *a, const struct tf_go_event *b);

/*
 * Walk a GoEventBatch body with tf_go_cursor__next() and with
 * tf_go_cursor__read() in blocks of max events (want as for the cursor; d:
 * the decoded batch, used when the bytes are not canonical, may be NULL).
 * For sparse batches next() is read() of one event, so this checks the
 * block and bounds-check-free paths against the one-event path; the
 * reference for both is tf_batch__decode(), compared by the callers.
 * 0 when they agree (or when the cursor does not take the bytes): the same
 * events and the same end, or the same error at the same place (read()
 * loses the events of its failing call); -1 and a description in why
 * otherwise.
 */
int gocursor_read_agrees(const uint8_t *p, size_t len, const struct tf_batch *d,
			 uint32_t want, size_t max, char *why, size_t why_len);

/*
 * The events of a canonical sparse GoEventBatch body through the inline
 * sparse reader: one by one (tf_go_sparse__one()), or also a block at a
 * time where it can (tf_go_sparse__block(), then tf_go_sparse__rest(), as
 * analyze's sched loop).  At most max into ev[].  Returns the number of
 * events; -1 with *bad at a malformed value; -2 when the columns are not
 * used up exactly, or there are more than max; -3 when the cursor does not
 * take the bytes or they are not sparse.  *blocks (may be NULL) counts the
 * blocks read at once.
 */
long gocursor_sparse_read(const uint8_t *p, size_t len, uint32_t want, bool blocks_too,
			  struct tf_go_event *ev, size_t max, const uint8_t **bad,
			  size_t *blocks);

/*
 * gocursor_sparse_read() one by one and by blocks agree: the same events
 * and end, or the same error at the same byte.  0, or -1 and why.
 */
int gocursor_block_agrees(const uint8_t *p, size_t len, uint32_t want, char *why,
			  size_t why_len);

#endif
