/* SPDX-License-Identifier: BSD-2-Clause */
/* `gscope analyze` output for the Go sections: aligned text or one JSON object. */
#ifndef RD_GO_H
#define RD_GO_H

#include <stdio.h>

#include "analyze/an_go.h"

void rd_go__text(FILE *f, const struct an_go *a);
void rd_go__json(FILE *f, const struct an_go *a);

#endif
