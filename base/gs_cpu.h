/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CPU features for the few loops that have a variant for them.
 *
 * glibc has read the CPU's features once, at startup, for its own string
 * functions: asking it costs a load.  __builtin_cpu_supports() would make
 * libgcc read them again in every process, with CPUID, which a virtual
 * machine traps (about 0.1 ms per process here); it stays the fallback
 * for C libraries without <sys/platform/x86.h> (glibc < 2.33).
 */
#ifndef GS_BASE_CPU_H
#define GS_BASE_CPU_H

#include <stdbool.h>

enum gs_cpu_feature {
	GS_CPU_SSE42,   /* crc32 */
	GS_CPU_BMI1,    /* blsr, tzcnt */
	/* AVX-512 F, BW, DQ, VBMI2 and BMI2: varint columns a block at a time */
	GS_CPU_AVX512_VBMI2,
};

#if defined(__x86_64__) && defined(__has_include)
#if __has_include(<sys/platform/x86.h>)
#include <sys/platform/x86.h>
#define GS_CPU_GLIBC 1
#endif
#endif

static inline bool gs_cpu_has(enum gs_cpu_feature f)
{
#if defined(GS_CPU_GLIBC)
	switch (f) {
	case GS_CPU_SSE42:
		return CPU_FEATURE_ACTIVE(SSE4_2);
	case GS_CPU_BMI1:
		return CPU_FEATURE_ACTIVE(BMI1);
	case GS_CPU_AVX512_VBMI2:
		return CPU_FEATURE_ACTIVE(AVX512F) && CPU_FEATURE_ACTIVE(AVX512BW) &&
		       CPU_FEATURE_ACTIVE(AVX512DQ) && CPU_FEATURE_ACTIVE(AVX512_VBMI2) &&
		       CPU_FEATURE_ACTIVE(BMI2);
	}
	return false;
#elif defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	switch (f) {
	case GS_CPU_SSE42:
		return __builtin_cpu_supports("sse4.2");
	case GS_CPU_BMI1:
		return __builtin_cpu_supports("bmi");
	case GS_CPU_AVX512_VBMI2:
		return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
		       __builtin_cpu_supports("avx512dq") &&
		       __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("bmi2");
	}
	return false;
#else
	(void)f;
	return false;
#endif
}

#endif
