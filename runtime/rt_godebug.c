// SPDX-License-Identifier: BSD-2-Clause
/*
 * GODEBUG schedtrace/scheddetail/gctrace line parser.  Every line is first
 * matched against a "commit" prefix ("SCHED <n>ms:", "gc <n> @",
 * "  P<n>:", "  M<n>:", "  G<n>:"); a line without one is not GODEBUG
 * output (0), a line with one must parse completely or is malformed
 * (-GS_E_FORMAT).  The grammar follows runtime/proc.go schedtrace() and
 * runtime/mgc.go gcMarkTermination() of Go 1.19 .. 1.23.
 */
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "base/gs_err.h"
#include "runtime/rt_godebug.h"

struct cur {
	const char *p, *end;
};

static bool at_end(const struct cur *c)
{
	return c->p == c->end;
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Match the literal s and advance past it. */
static bool lit(struct cur *c, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n))
		return false;
	c->p += n;
	return true;
}

/* One or more decimal digits, no overflow. */
static bool u64_dec(struct cur *c, uint64_t *v)
{
	const char *p = c->p;
	uint64_t x = 0;

	if (p == c->end || !is_digit(*p))
		return false;
	for (; p < c->end && is_digit(*p); p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	c->p = p;
	*v = x;
	return true;
}

static bool u32_dec(struct cur *c, uint32_t *v)
{
	uint64_t x;

	if (!u64_dec(c, &x) || x > UINT32_MAX)
		return false;
	*v = (uint32_t)x;
	return true;
}

static bool i64_dec(struct cur *c, int64_t *v)
{
	struct cur t = *c;
	bool neg = lit(&t, "-");
	uint64_t x;

	if (!u64_dec(&t, &x))
		return false;
	if (neg ? x > (uint64_t)INT64_MAX + 1 : x > (uint64_t)INT64_MAX)
		return false;
	*v = neg ? (int64_t)(0 - x) : (int64_t)x;
	*c = t;
	return true;
}

/* An M, P or G id: a number, "-1" (Go 1.19) or "nil" (Go 1.21+) = -1. */
static bool id_val(struct cur *c, int64_t *v)
{
	if (lit(c, "nil")) {
		*v = -1;
		return true;
	}
	return i64_dec(c, v) && *v >= -1;
}

/* "true"/"false" (bool, atomic.Bool) or "1"/"0" (Go 1.19 uint32 flags). */
static bool bool_val(struct cur *c, bool *v)
{
	if (lit(c, "true") || lit(c, "1")) {
		*v = true;
		return true;
	}
	if (lit(c, "false") || lit(c, "0")) {
		*v = false;
		return true;
	}
	return false;
}

/*
 * A decimal "I[.F]" times 10^scale, exactly: "0.062" with scale 6 is
 * 62000.  Fraction digits beyond scale must be zeros.
 */
static bool dec_fixed(struct cur *c, unsigned int scale, uint64_t *v)
{
	static const uint64_t p10[] = {
		1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
		100000000, 1000000000,
	};
	struct cur t = *c;
	uint64_t ip, x;
	unsigned int i;

	if (scale >= sizeof(p10) / sizeof(p10[0]) || !u64_dec(&t, &ip) ||
	    ip > UINT64_MAX / p10[scale])
		return false;
	x = ip * p10[scale];
	if (lit(&t, ".")) {
		if (at_end(&t) || !is_digit(*t.p))
			return false;
		for (i = 0; t.p < t.end && is_digit(*t.p); i++, t.p++) {
			uint64_t d = (uint64_t)(*t.p - '0');

			if (i >= scale) {
				if (d)
					return false;
				continue;
			}
			d *= p10[scale - 1 - i];
			if (x > UINT64_MAX - d)
				return false;
			x += d;
		}
	}
	*v = x;
	*c = t;
	return true;
}

/* "<n> MB" sizes: n << 20 bytes. */
static bool mb_val(struct cur *c, uint64_t *v)
{
	uint64_t x;

	if (!u64_dec(c, &x) || x > (UINT64_MAX >> 20))
		return false;
	*v = x << 20;
	return true;
}

/* Last occurrence of s in [p, end), or NULL. */
static const char *find_last(const char *p, const char *end, const char *s)
{
	size_t n = strlen(s);
	const char *q;

	if ((size_t)(end - p) < n)
		return NULL;
	for (q = end - n;; q--) {
		if (!memcmp(q, s, n))
			return q;
		if (q == p)
			return NULL;
	}
}

/* ----------------------------------------------------- key=value fields */

enum vtype { V_U32, V_I32, V_I32N, V_U64, V_I64, V_ID, V_BOOL };

struct field {
	const char *key;
	enum vtype type;
	size_t off;
};

static bool parse_value(struct cur *v, enum vtype type, void *dst)
{
	int64_t i;
	bool ok;

	switch (type) {
	case V_U32:
		ok = u32_dec(v, dst);
		break;
	case V_I32:
	case V_I32N:
		ok = i64_dec(v, &i) && i <= INT32_MAX &&
		     i >= (type == V_I32N ? 0 : INT32_MIN);
		if (ok)
			*(int32_t *)dst = (int32_t)i;
		break;
	case V_U64:
		ok = u64_dec(v, dst);
		break;
	case V_I64:
		ok = i64_dec(v, dst);
		break;
	case V_ID:
		ok = id_val(v, dst);
		break;
	case V_BOOL:
		ok = bool_val(v, dst);
		break;
	default:
		ok = false;
	}
	return ok && at_end(v);
}

/* "[a b c]" or "[ a b c ]" into list; c is at '['. */
static bool parse_list(struct cur *c, uint32_t *list, uint32_t *n)
{
	uint32_t k = 0;

	c->p++;
	for (;;) {
		while (!at_end(c) && *c->p == ' ')
			c->p++;
		if (lit(c, "]"))
			break;
		if (k == RT_GODEBUG_MAX_P || !u32_dec(c, &list[k]))
			return false;
		k++;
		if (at_end(c) || (*c->p != ' ' && *c->p != ']'))
			return false;
	}
	*n = k;
	return k > 0;
}

/*
 * Space-separated key=value fields up to the end of the line, stored into
 * obj by the table; *seen gets bit i for table entry i (duplicates are
 * malformed).  Unknown keys are skipped, including bracketed values.  A
 * bare "[...]" token is the per-P list, accepted only when list != NULL.
 */
static bool parse_fields(struct cur *c, const struct field *tab, size_t ntab,
			 void *obj, uint32_t *seen, uint32_t *list,
			 uint32_t *nlist, bool *has_list)
{
	*seen = 0;
	while (!at_end(c)) {
		const char *key, *vend;
		struct cur v;
		size_t klen, i;

		if (*c->p != ' ')
			return false;
		while (!at_end(c) && *c->p == ' ')
			c->p++;
		if (at_end(c))
			break;
		if (*c->p == '[') {
			if (!list || *has_list || !parse_list(c, list, nlist))
				return false;
			*has_list = true;
			continue;
		}
		key = c->p;
		while (!at_end(c) && ((*c->p >= 'a' && *c->p <= 'z') ||
				      is_digit(*c->p) || *c->p == '_'))
			c->p++;
		klen = (size_t)(c->p - key);
		if (!klen || !lit(c, "="))
			return false;
		if (!at_end(c) && *c->p == '[') {
			vend = memchr(c->p, ']', (size_t)(c->end - c->p));
			if (!vend)
				return false;
			vend++;
		} else {
			vend = memchr(c->p, ' ', (size_t)(c->end - c->p));
			if (!vend)
				vend = c->end;
		}
		v.p = c->p;
		v.end = vend;
		c->p = vend;
		for (i = 0; i < ntab; i++)
			if (strlen(tab[i].key) == klen &&
			    !memcmp(tab[i].key, key, klen))
				break;
		if (i == ntab)
			continue; /* a field of a newer runtime */
		if (*seen & (1u << i) ||
		    !parse_value(&v, tab[i].type, (char *)obj + tab[i].off))
			return false;
		*seen |= 1u << i;
	}
	return true;
}

/* ---------------------------------------------------------------- SCHED */

#define SF(k, t) { #k, t, offsetof(struct rt_godebug_sched, k) }
static const struct field sched_fields[] = {
	SF(gomaxprocs, V_U32),	 SF(idleprocs, V_U32),
	SF(threads, V_U32),	 SF(spinningthreads, V_U32),
	SF(idlethreads, V_U32),	 SF(runqueue, V_U32),
	SF(needspinning, V_I32N), SF(gcwaiting, V_BOOL),
	SF(nmidlelocked, V_I32), SF(stopwait, V_I32),
	SF(sysmonwait, V_BOOL),
};
#undef SF
#define SCHED_REQUIRED 0x3fu   /* the first six */
#define SCHED_NEEDSPIN (1u << 6)
#define SCHED_DETAIL 0x780u    /* gcwaiting .. sysmonwait */

static int parse_sched(struct cur *c, struct rt_godebug_sched *s)
{
	uint32_t seen;
	bool has_list = false;

	s->nprocs = 0;
	if (!parse_fields(c, sched_fields,
			  sizeof(sched_fields) / sizeof(sched_fields[0]), s,
			  &seen, s->p_runq, &s->nprocs, &has_list))
		return -GS_E_FORMAT;
	if ((seen & SCHED_REQUIRED) != SCHED_REQUIRED)
		return -GS_E_FORMAT;
	if (!(seen & SCHED_NEEDSPIN))
		s->needspinning = -1;
	s->detail = (seen & SCHED_DETAIL) != 0;
	if (s->detail ? (seen & SCHED_DETAIL) != SCHED_DETAIL || has_list :
			!has_list)
		return -GS_E_FORMAT;
	if (!s->detail) {
		s->gcwaiting = s->sysmonwait = false;
		s->nmidlelocked = s->stopwait = 0;
	}
	return 1;
}

/* ------------------------------------------------------------- P, M, G */

#define PF(k, t) { #k, t, offsetof(struct rt_godebug_p, k) }
static const struct field p_fields[] = {
	PF(status, V_U32),	 PF(schedtick, V_U64), PF(syscalltick, V_U64),
	PF(m, V_ID),		 PF(runqsize, V_U32),  PF(gfreecnt, V_I64),
	PF(timerslen, V_I64),
};
#undef PF
#define P_REQUIRED 0x7fu

static int parse_p(struct cur *c, struct rt_godebug_p *pp)
{
	uint32_t seen;

	if (!parse_fields(c, p_fields, sizeof(p_fields) / sizeof(p_fields[0]),
			  pp, &seen, NULL, NULL, NULL) ||
	    seen != P_REQUIRED)
		return -GS_E_FORMAT;
	return 1;
}

/* preemptoff= is a free string: it ends at the last " locks=". */
static int parse_m(struct cur *c, struct rt_godebug_m *m)
{
	const char *locks;

	if (!lit(c, " p=") || !id_val(c, &m->p) || !lit(c, " curg=") ||
	    !id_val(c, &m->curg) || !lit(c, " mallocing=") ||
	    !i64_dec(c, &m->mallocing) || !lit(c, " throwing=") ||
	    !i64_dec(c, &m->throwing) || !lit(c, " preemptoff="))
		return -GS_E_FORMAT;
	locks = find_last(c->p, c->end, " locks=");
	if (!locks)
		return -GS_E_FORMAT;
	m->preemptoff = c->p;
	m->preemptoff_len = (size_t)(locks - c->p);
	c->p = locks;
	if (!lit(c, " locks=") || !i64_dec(c, &m->locks) ||
	    !lit(c, " dying=") || !i64_dec(c, &m->dying) ||
	    !lit(c, " spinning=") || !bool_val(c, &m->spinning) ||
	    !lit(c, " blocked=") || !bool_val(c, &m->blocked) ||
	    !lit(c, " lockedg=") || !id_val(c, &m->lockedg) || !at_end(c))
		return -GS_E_FORMAT;
	return 1;
}

/* status=<n>(<waitreason>) m=..: the reason may hold spaces and parens. */
static int parse_g(struct cur *c, struct rt_godebug_g *g)
{
	const char *close;

	if (!lit(c, " status=") || !u32_dec(c, &g->status) || !lit(c, "("))
		return -GS_E_FORMAT;
	close = find_last(c->p, c->end, ") m=");
	if (!close)
		return -GS_E_FORMAT;
	g->waitreason = c->p;
	g->waitreason_len = (size_t)(close - c->p);
	c->p = close;
	if (!lit(c, ") m=") || !id_val(c, &g->m) || !lit(c, " lockedm=") ||
	    !id_val(c, &g->lockedm) || !at_end(c))
		return -GS_E_FORMAT;
	return 1;
}

/* ------------------------------------------------------------------ gc */

static bool ms_val(struct cur *c, uint64_t *ns)
{
	return dec_fixed(c, 6, ns);
}

/*
 * gc N @S.SSSs P%: c1+c2+c3 ms clock, u1+a/b/c+u3 ms cpu, h0->h1->h2 MB,
 * G MB goal[, S MB stacks, G MB globals], P P[ (forced)]
 */
static int parse_gc(struct cur *c, struct rt_godebug_gc *g)
{
	uint64_t n;

	if (!dec_fixed(c, 9, &g->wall_ts_ns) || !lit(c, "s ") ||
	    !u32_dec(c, &g->cpu_percent) || !lit(c, "%: ") ||
	    !ms_val(c, &g->clock_sweep_term_ns) || !lit(c, "+") ||
	    !ms_val(c, &g->clock_mark_ns) || !lit(c, "+") ||
	    !ms_val(c, &g->clock_mark_term_ns) || !lit(c, " ms clock, ") ||
	    !ms_val(c, &g->cpu_sweep_term_ns) || !lit(c, "+") ||
	    !ms_val(c, &g->cpu_assist_ns) || !lit(c, "/") ||
	    !ms_val(c, &g->cpu_background_ns) || !lit(c, "/") ||
	    !ms_val(c, &g->cpu_idle_ns) || !lit(c, "+") ||
	    !ms_val(c, &g->cpu_mark_term_ns) || !lit(c, " ms cpu, ") ||
	    !mb_val(c, &g->heap_live_start) || !lit(c, "->") ||
	    !mb_val(c, &g->heap_live_end) || !lit(c, "->") ||
	    !mb_val(c, &g->heap_marked) || !lit(c, " MB, ") ||
	    !mb_val(c, &g->heap_goal) || !lit(c, " MB goal, ") ||
	    !u64_dec(c, &n))
		return -GS_E_FORMAT;
	g->has_stacks_globals = lit(c, " MB stacks, ");
	if (g->has_stacks_globals) {
		if (n > (UINT64_MAX >> 20))
			return -GS_E_FORMAT;
		g->stacks_bytes = n << 20;
		if (!mb_val(c, &g->globals_bytes) || !lit(c, " MB globals, ") ||
		    !u64_dec(c, &n))
			return -GS_E_FORMAT;
	} else {
		g->stacks_bytes = g->globals_bytes = 0;
	}
	if (n > UINT32_MAX || !lit(c, " P"))
		return -GS_E_FORMAT;
	g->gomaxprocs = (uint32_t)n;
	g->forced = lit(c, " (forced)");
	return at_end(c) ? 1 : -GS_E_FORMAT;
}

/* ------------------------------------------------------------- entry */

/*
 * The commit point of a line kind: head, one or more digits, tail.  0 if
 * the line does not start so; 1 with the number in *n and c past tail;
 * -GS_E_FORMAT if the number overflows.
 */
static int commit(struct cur *c, const char *head, const char *tail,
		  uint64_t *n)
{
	struct cur t = *c;
	const char *digits;

	if (!lit(&t, head))
		return 0;
	digits = t.p;
	while (!at_end(&t) && is_digit(*t.p))
		t.p++;
	if (t.p == digits || !lit(&t, tail))
		return 0;
	c->p = digits;
	if (!u64_dec(c, n))
		return -GS_E_FORMAT;
	*c = t;
	return 1;
}

int rt_godebug__parse_line(const char *line, size_t len,
			   struct rt_godebug_rec *out)
{
	struct cur c;
	uint64_t n;
	int ret;

	out->kind = RT_GODEBUG_NONE;
	if (!len)
		return 0;
	c.p = line;
	c.end = line + len;
	if (c.end[-1] == '\n')
		c.end--;
	if (c.end > c.p && c.end[-1] == '\r')
		c.end--;

	if ((ret = commit(&c, "SCHED ", "ms:", &n))) {
		if (ret < 0)
			return ret;
		out->sched.uptime_ms = n;
		ret = parse_sched(&c, &out->sched);
		out->kind = RT_GODEBUG_SCHED;
	} else if ((ret = commit(&c, "gc ", " @", &n))) {
		if (ret < 0 || n > UINT32_MAX)
			return -GS_E_FORMAT;
		out->gc.seq = (uint32_t)n;
		ret = parse_gc(&c, &out->gc);
		out->kind = RT_GODEBUG_GC;
	} else if ((size_t)(c.end - c.p) == 9 && !memcmp(c.p, "GC forced", 9)) {
		out->kind = RT_GODEBUG_GC_FORCED;
		return 1;
	} else if ((ret = commit(&c, "  P", ":", &n))) {
		if (ret < 0 || n >= RT_GODEBUG_MAX_P)
			return -GS_E_FORMAT;
		out->p.id = (uint32_t)n;
		ret = parse_p(&c, &out->p);
		out->kind = RT_GODEBUG_SCHED_P;
	} else if ((ret = commit(&c, "  M", ":", &n))) {
		if (ret < 0 || n > INT64_MAX)
			return -GS_E_FORMAT;
		out->m.id = (int64_t)n;
		ret = parse_m(&c, &out->m);
		out->kind = RT_GODEBUG_SCHED_M;
	} else if ((ret = commit(&c, "  G", ":", &n))) {
		if (ret < 0)
			return ret;
		out->g.goid = n;
		ret = parse_g(&c, &out->g);
		out->kind = RT_GODEBUG_SCHED_G;
	} else {
		return 0;
	}
	if (ret < 0)
		out->kind = RT_GODEBUG_NONE;
	return ret;
}

/*
 * s (len bytes, no newline yet) is consistent with head, then digits,
 * then tail.  Past a complete tail anything may follow.
 */
static bool partial_match(const char *s, size_t len, const char *head,
			  const char *tail)
{
	size_t hl = strlen(head), tl = strlen(tail), i, k;

	if (len <= hl)
		return !memcmp(s, head, len);
	if (memcmp(s, head, hl))
		return false;
	for (i = hl; i < len && is_digit(s[i]); i++)
		;
	if (i == len)
		return true;
	if (i == hl)
		return false; /* no digits */
	k = len - i < tl ? len - i : tl;
	return !memcmp(s + i, tail, k);
}

bool rt_godebug__may_be_prefix(const char *s, size_t len)
{
	if (!len)
		return true;
	return partial_match(s, len, "SCHED ", "ms:") ||
	       partial_match(s, len, "gc ", " @") ||
	       partial_match(s, len, "  P", ":") ||
	       partial_match(s, len, "  M", ":") ||
	       partial_match(s, len, "  G", ":") ||
	       (len <= 9 && !memcmp(s, "GC forced", len));
}
