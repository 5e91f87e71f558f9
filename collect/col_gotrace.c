// SPDX-License-Identifier: BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>


#include "base/gs_err.h"
#include "collect/col_curl.h"
#include "collect/col_gotrace.h"

char *col_gotrace__url(const char *url, uint64_t duration_ns)
{
	const char *path = strstr(url, "/debug/pprof/trace") ? "" : "/debug/pprof/trace";
	size_t n = strlen(url) + strlen(path) + 64;
	char secs[32], *s = gs_malloc(n);
	size_t ulen = strlen(url);

	if (!s)
		return NULL;
	if (duration_ns % 1000000000u == 0)
		snprintf(secs, sizeof(secs), "%llu",
			 (unsigned long long)(duration_ns / 1000000000u));
	else
		snprintf(secs, sizeof(secs), "%.3f", (double)duration_ns / 1e9);
	/* drop a trailing slash before appending the path */
	if (*path && ulen && url[ulen - 1] == '/')
		ulen--;
	snprintf(s, n, "%.*s%s%sseconds=%s", (int)ulen, url, path,
		 strchr(url, '?') ? "&" : "?", secs);
	return s;
}

struct sink {
	struct gs_buf *body;
	bool too_big;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct sink *s = ctx;
	size_t n = size * nmemb;

	if (s->body->len + n > COL_GOTRACE_MAX_BODY) {
		s->too_big = true;
		return 0;
	}
	return gs_buf__append(s->body, p, n) ? 0 : n;
}

static int curl_error(const struct col_curl *cu, const char *url, CURLcode rc,
		      const char *detail)
{
	int err;

	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		err = -ECONNREFUSED;
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		err = -EHOSTUNREACH;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		err = -ETIMEDOUT;
		break;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		err = -GS_E_USAGE;
		break;
	default:
		err = -EIO;
		break;
	}
	return gs_errf(err, "%s: %s%s%s", url, cu->easy_strerror(rc),
		       *detail ? ": " : "", detail);
}

/* First bytes of a body, printable, for messages. */
static void snippet(const struct gs_buf *b, char *out, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < b->len && k + 1 < n && i < 60; i++) {
		unsigned char ch = b->data[i];

		if (ch == '\n' || ch == '\r')
			break;
		out[k++] = isprint(ch) ? (char)ch : '?';
	}
	out[k] = 0;
}

int col_gotrace__fetch(const char *url, uint64_t duration_ns, struct gs_buf *body)
{
	char errbuf[CURL_ERROR_SIZE] = "", snip[64];
	struct sink s = { .body = body };
	const struct col_curl *cu = col_curl__get();
	char *full;
	long status = 0, timeout;
	CURLcode rc;
	CURL *h;
	int err = 0, v;

	if (!cu)
		return -ENOENT;
	full = col_gotrace__url(url, duration_ns);
	if (!full)
		return -ENOMEM;
	h = cu->easy_init();
	if (!h) {
		gs_free(full);
		return -ENOMEM;
	}
	/* the server holds the response for the whole duration */
	timeout = (long)(duration_ns / 1000000000u) + 60;
	cu->easy_setopt(h, CURLOPT_URL, full);
	cu->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	cu->easy_setopt(h, CURLOPT_WRITEDATA, &s);
	cu->easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	cu->easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	cu->easy_setopt(h, CURLOPT_TIMEOUT, timeout);
	cu->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	cu->easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	cu->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(h, CURLOPT_USERAGENT, "gscope/" GSCOPE_VERSION);
	rc = cu->easy_perform(h);
	cu->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	cu->easy_cleanup(h);
	if (s.too_big) {
		err = gs_errf(-GS_E_LIMIT, "%s: response larger than %llu bytes", full,
			      (unsigned long long)COL_GOTRACE_MAX_BODY);
	} else if (rc != CURLE_OK) {
		err = curl_error(cu, full, rc, errbuf);
	} else if (status != 200) {
		snippet(body, snip, sizeof(snip));
		err = gs_errf(-EPROTO, "%s: HTTP %ld%s%s%s", full, status,
			      *snip ? " (\"" : "", snip, *snip ? "\")" : "");
	} else if (body->len < 16 || memcmp(body->data, "go 1.", 5)) {
		snippet(body, snip, sizeof(snip));
		err = gs_errf(-GS_E_FORMAT,
			      "%s: the response is not a Go execution trace (%zu bytes, starting \"%s\")",
			      full, body->len, snip);
	} else {
		err = rt_gotrace__version(body->data, body->len, &v);
	}
	gs_free(full);
	return err;
}
