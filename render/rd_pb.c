// SPDX-License-Identifier: BSD-2-Clause
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "base/gs_mem.h"
#include "render/rd_pb.h"

/* Number of values field fd holds in m (0 = unset). */
static size_t field_count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
	const uint8_t *base = (const uint8_t *)m;

	if (fd->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(base + fd->quantifier_offset);
	if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + fd->quantifier_offset) == fd->id;
	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(const void *const *)(base + fd->offset) != NULL;
	default:
		if (fd->label == PROTOBUF_C_LABEL_REQUIRED)
			return 1;
		return *(const protobuf_c_boolean *)(base + fd->quantifier_offset) != 0;
	}
}

static size_t type_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32: case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 8;
	}
}

/* Pointer to value i of field fd. */
static const void *field_value(const ProtobufCMessage *m,
			       const ProtobufCFieldDescriptor *fd, size_t i)
{
	const uint8_t *p = (const uint8_t *)m + fd->offset;

	if (fd->label == PROTOBUF_C_LABEL_REPEATED)
		p = *(const uint8_t *const *)p + i * type_size(fd->type);
	return p;
}

static const char *enum_name(const ProtobufCFieldDescriptor *fd, int v)
{
	const ProtobufCEnumValue *ev =
		protobuf_c_enum_descriptor_get_value(fd->descriptor, v);

	return ev ? ev->name : NULL;
}

static bool printable(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] >= 0x7f)
			return false;
	return true;
}

static void text_value(FILE *f, const ProtobufCFieldDescriptor *fd, const void *v)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		fprintf(f, "%" PRId32, *(const int32_t *)v);
		break;
	case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
		fprintf(f, "%" PRIu32, *(const uint32_t *)v);
		break;
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		fprintf(f, "%" PRId64, *(const int64_t *)v);
		break;
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
		fprintf(f, "%" PRIu64, *(const uint64_t *)v);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		fprintf(f, "%g", *(const float *)v);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		fprintf(f, "%g", *(const double *)v);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		fputs(*(const protobuf_c_boolean *)v ? "true" : "false", f);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const char *n = enum_name(fd, *(const int *)v);

		if (n)
			fputs(n, f);
		else
			fprintf(f, "%d", *(const int *)v);
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)v;

		gs_json_quote(f, s, strlen(s));
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = v;

		if (printable(b->data, b->len)) {
			gs_json_quote(f, (const char *)b->data, b->len);
		} else {
			fputs("0x", f);
			for (size_t i = 0; i < b->len; i++)
				fprintf(f, "%02x", b->data[i]);
		}
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		fputc('{', f);
		rd_pb__text(f, *(const ProtobufCMessage *const *)v);
		fputc('}', f);
		break;
	}
}

void rd_pb__text(FILE *f, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	bool first = true;

	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		size_t n = field_count(m, fd);

		bool list = fd->label == PROTOBUF_C_LABEL_REPEATED &&
			    fd->type != PROTOBUF_C_TYPE_MESSAGE;

		if (!n)
			continue;
		if (list) { /* name=[a b c] */
			fprintf(f, "%s%s=[", first ? "" : " ", fd->name);
			for (size_t k = 0; k < n; k++) {
				if (k)
					fputc(' ', f);
				text_value(f, fd, field_value(m, fd, k));
			}
			fputc(']', f);
			first = false;
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			if (!first)
				fputc(' ', f);
			first = false;
			fprintf(f, "%s=", fd->name);
			text_value(f, fd, field_value(m, fd, k));
		}
	}
}

static void json_value(struct gs_json *j, const ProtobufCFieldDescriptor *fd,
		       const void *v)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		gs_json__int(j, *(const int32_t *)v);
		break;
	case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
		gs_json__uint(j, *(const uint32_t *)v);
		break;
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		gs_json__int(j, *(const int64_t *)v);
		break;
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
		gs_json__uint(j, *(const uint64_t *)v);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		gs_json__double(j, *(const float *)v);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		gs_json__double(j, *(const double *)v);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		gs_json__bool(j, *(const protobuf_c_boolean *)v);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const char *n = enum_name(fd, *(const int *)v);

		if (n)
			gs_json__string(j, n);
		else
			gs_json__int(j, *(const int *)v);
		break;
	}
	case PROTOBUF_C_TYPE_STRING:
		gs_json__string(j, *(const char *const *)v);
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = v;

		if (printable(b->data, b->len)) {
			gs_json__string_n(j, (const char *)b->data, b->len);
		} else {
			char *hex = gs_malloc(2 * b->len + 1);

			if (!hex) {
				gs_json__null(j);
				break;
			}
			for (size_t i = 0; i < b->len; i++)
				snprintf(hex + 2 * i, 3, "%02x", b->data[i]);
			gs_json__string_n(j, hex, 2 * b->len);
			gs_free(hex);
		}
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		rd_pb__json(j, *(const ProtobufCMessage *const *)v);
		break;
	}
}

void rd_pb__json(struct gs_json *j, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	gs_json__begin_object(j);
	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		size_t n = field_count(m, fd);

		if (!n)
			continue;
		gs_json__key(j, fd->name);
		if (fd->label == PROTOBUF_C_LABEL_REPEATED)
			gs_json__begin_array(j);
		for (size_t k = 0; k < n; k++)
			json_value(j, fd, field_value(m, fd, k));
		if (fd->label == PROTOBUF_C_LABEL_REPEATED)
			gs_json__end_array(j);
	}
	gs_json__end_object(j);
}
