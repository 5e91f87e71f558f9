/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Generic printers for protobuf-c messages, driven by their descriptors:
 * fields in field-number order, unset optional fields left out.  Used for
 * the low-volume packets in `gscope dump`.
 */
#ifndef RD_PB_H
#define RD_PB_H

#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

#include "base/gs_json.h"

/* name=value pairs separated by spaces; sub-messages in { }. */
void rd_pb__text(FILE *f, const ProtobufCMessage *m);

/* The message as a JSON object (into an open writer). */
void rd_pb__json(struct gs_json *j, const ProtobufCMessage *m);

#endif
