// SPDX-License-Identifier: BSD-2-Clause
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>

#include "base/gs_err.h"
#include "collect/col_curl.h"

static struct col_curl fns;
static bool loaded;

const struct col_curl *col_curl__get(void)
{
	void *h;

	if (loaded)
		return &fns;
	h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		gs_errf(-ENOENT, "cannot load libcurl: %s (install libcurl4)", dlerror());
		return NULL;
	}
	*(void **)&fns.easy_init = dlsym(h, "curl_easy_init");
	*(void **)&fns.easy_setopt = dlsym(h, "curl_easy_setopt");
	*(void **)&fns.easy_perform = dlsym(h, "curl_easy_perform");
	*(void **)&fns.easy_getinfo = dlsym(h, "curl_easy_getinfo");
	*(void **)&fns.easy_cleanup = dlsym(h, "curl_easy_cleanup");
	*(void **)&fns.easy_strerror = dlsym(h, "curl_easy_strerror");
	if (!fns.easy_init || !fns.easy_setopt || !fns.easy_perform ||
	    !fns.easy_getinfo || !fns.easy_cleanup || !fns.easy_strerror) {
		gs_errf(-ENOENT, "libcurl.so.4 lacks the easy interface");
		dlclose(h);
		return NULL;
	}
	loaded = true;
	return &fns;
}
