// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness: arbitrary bytes through the pprof reader (gzip or raw
 * profile.proto), then every lookup a consumer would make on the result.
 * Seeds: the *.sched.pprof files of the shared corpus, gzipped and raw.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "runtime/rt_pprof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* keep gzip bombs within the fuzzer's memory limit */
	struct rt_pprof_opts o = { .max_inflated = 8 << 20 };
	struct rt_pprof *p;
	size_t bytes = 0;
	int64_t sum;

	if (rt_pprof__read_opts(data, size, "fuzz", &o, &p))
		return 0;
	for (size_t i = 0; i < p->nsample_types; i++) {
		bytes += strlen(p->sample_types[i].type);
		(void)rt_pprof__sum(p, i, &sum);
	}
	for (size_t i = 0; i < p->nsamples; i++) {
		const struct rt_pprof_sample *s = &p->samples[i];

		for (uint32_t k = 0; k < s->nlocations; k++) {
			const struct rt_pprof_location *l =
				rt_pprof__location(p, s->location_ids[k]);

			if (!l)
				__builtin_trap(); /* the reader checked every id */
			(void)rt_pprof__mapping(p, l->mapping_id);
			for (uint32_t j = 0; j < l->nlines; j++)
				bytes += strlen(l->lines[j].function->name) +
					 strlen(l->lines[j].function->filename);
		}
		for (size_t k = 0; k < p->nsample_types; k++)
			bytes += (size_t)s->values[k] & 1;
		for (uint32_t k = 0; k < s->nlabels; k++)
			bytes += strlen(s->labels[k].key) + strlen(s->labels[k].str) +
				 strlen(s->labels[k].num_unit);
	}
	for (size_t i = 0; i < p->nfunctions; i++)
		if (rt_pprof__function(p, p->functions[i].id) != &p->functions[i])
			__builtin_trap();
	for (size_t i = 0; i < p->ncomments; i++)
		bytes += strlen(p->comments[i]);
	bytes += strlen(p->default_sample_type) + strlen(p->period_type.unit);
	(void)rt_pprof__sample_type(p, "delay", NULL);
	rt_pprof__free(p);
	return (int)(bytes & 0);
}
