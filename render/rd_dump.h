/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `gscope dump`: every packet of a trace, in file order, as text or as JSON
 * lines.  Output is deterministic: the same file always prints the same.
 */
#ifndef RD_DUMP_H
#define RD_DUMP_H

#include <stdbool.h>
#include <stdio.h>

#include "format/tf_reader.h"

/* Print everything r yields; 0 or the reader's negative error. */
int rd_dump(FILE *f, struct tf_reader *r, bool json);

#endif
