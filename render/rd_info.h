/* SPDX-License-Identifier: BSD-2-Clause */
/* `gscope info` output: an aligned text summary or one stable JSON object. */
#ifndef RD_INFO_H
#define RD_INFO_H

#include <stdio.h>

#include "analyze/an_info.h"

void rd_info__text(FILE *f, const char *path, const struct an_info *info);
void rd_info__json(FILE *f, const char *path, const struct an_info *info);

#endif
