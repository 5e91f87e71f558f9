/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libcurl, loaded on first use.  Linking it pulls in ~25 shared libraries
 * (TLS, Kerberos, LDAP, ...) whose loading costs every gscope run several
 * milliseconds; only `record --go-trace` needs HTTP, so it dlopen()s
 * libcurl.so.4 when it does.
 */
#ifndef COL_CURL_H
#define COL_CURL_H

#include <curl/curl.h>

struct col_curl {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *h);
	const char *(*easy_strerror)(CURLcode rc);
};

/* The loaded functions, or NULL (error logged) when libcurl is missing. */
const struct col_curl *col_curl__get(void);

#endif
