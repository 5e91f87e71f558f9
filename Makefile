# SPDX-License-Identifier: BSD-2-Clause
#
# gscope build.  Everything generated goes under $(OUTPUT); nothing generated
# is committed except bpf/vmlinux.h (see `make vmlinux`).
#
#   make                 build $(OUTPUT)/gscope
#   make deps            install missing Debian packages (idempotent, fast)
#   make demo            deps + build + write and inspect a sample trace
#   make check           deps + build + every test (unit, CLI goldens, BPF, fuzz)
#   make SANITIZE=address,undefined check    the same under ASan+UBSan
#   make fuzz FUZZ_SECONDS=N                 run the libFuzzer harnesses
#   make bench-format    write/read 10 million synthetic events
#   make install PREFIX=/usr/local DESTDIR=
#   V=1                  show the full commands

VERSION := 0.1.0
ARCH ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PROTOC_C ?= protoc-c
PREFIX ?= /usr/local
DESTDIR ?=
FUZZ_SECONDS ?= 60
DEVELOPER ?= 1

ifneq ($(SANITIZE),)
OUTPUT ?= build/san
SANFLAGS := -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
else
OUTPUT ?= build
SANFLAGS :=
endif
GEN := $(OUTPUT)/gen

WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes \
	-Wstrict-prototypes -Wold-style-definition -Wpointer-arith -Wvla \
	-Wwrite-strings -Wundef -Wno-unused-parameter \
	-Wno-missing-field-initializers -fno-common
ifeq ($(DEVELOPER),1)
WARNINGS += -Werror
endif

OPT ?= -O2
BASE_CFLAGS := -std=gnu11 -g $(OPT) -D_GNU_SOURCE -DGSCOPE_VERSION='"$(VERSION)"' \
	-I. -I$(GEN) $(SANFLAGS) -MMD -MP
CFLAGS_ALL := $(BASE_CFLAGS) $(WARNINGS) $(CFLAGS)
LDLIBS := -lbpf -lelf -lz -lzstd -llz4 -lprotobuf-c -lpthread -lm -ldl
LDFLAGS_ALL := $(SANFLAGS) $(LDFLAGS)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# ---------------------------------------------------------------- sources
PROTO := format/gscope.proto
PB_C := $(GEN)/format/gscope.pb-c.c
PB_H := $(GEN)/format/gscope.pb-c.h
LIB_DIRS := base format runtime analyze render collect
LIB_SRCS := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(OUTPUT)/%.o) $(OUTPUT)/gen/format/gscope.pb-c.o
CLI_SRCS := $(wildcard cli/*.c)
CLI_OBJS := $(CLI_SRCS:%.c=$(OUTPUT)/%.o)
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(BPF_SRCS:bpf/%.bpf.c=$(OUTPUT)/bpf/%.bpf.o)
SKELS := $(BPF_SRCS:bpf/%.bpf.c=$(GEN)/bpf/%.skel.h)
LIB := $(OUTPUT)/libgscope.a
BIN := $(OUTPUT)/gscope

TESTLIB_SRCS := $(wildcard tests/lib/*.c)
TESTLIB_OBJS := $(TESTLIB_SRCS:%.c=$(OUTPUT)/%.o)
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(OUTPUT)/%.o)
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOLS := $(TOOL_SRCS:tests/tools/%.c=$(OUTPUT)/tests/%)
BENCH_SRCS := $(wildcard bench/*.c)

.PHONY: all deps demo check test unit golden bpf-test fuzz fuzz-build \
	bench-format install uninstall clean vmlinux tools

all: $(BIN)

deps:
	$(Q)sh scripts/deps.sh

# ---------------------------------------------------------------- codegen
$(PB_C) $(PB_H) &: $(PROTO)
	$(call msg,PROTOC,$<)
	$(Q)mkdir -p $(GEN)
	$(Q)$(PROTOC_C) --c_out=$(GEN) $<

$(OUTPUT)/gen/format/gscope.pb-c.o: $(PB_C) $(PB_H)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) -Wall $(CFLAGS) -c $< -o $@

$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c bpf/vmlinux.h $(wildcard bpf/*.h)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf -Wall \
		-Werror -c $< -o $@
	$(Q)llvm-strip -g $@

$(GEN)/bpf/%.skel.h: $(OUTPUT)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp
	$(Q)mv $@.tmp $@

# Everything that may include the generated headers waits for them.
$(LIB_OBJS) $(CLI_OBJS) $(UNIT_OBJS) $(TESTLIB_OBJS) $(TOOL_SRCS:%.c=$(OUTPUT)/%.o) \
	$(BENCH_SRCS:%.c=$(OUTPUT)/%.o): | $(PB_H) $(SKELS)

$(OUTPUT)/%.o: %.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(BIN): $(CLI_OBJS) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $(CLI_OBJS) $(LIB) $(LDLIBS)

$(OUTPUT)/tests/%: $(OUTPUT)/tests/tools/%.o $(TESTLIB_OBJS) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $< $(TESTLIB_OBJS) $(LIB) $(LDLIBS)

$(OUTPUT)/bench/%: $(OUTPUT)/bench/%.o $(TESTLIB_OBJS) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $< $(TESTLIB_OBJS) $(LIB) $(LDLIBS)

$(OUTPUT)/tests/unit-tests: $(UNIT_OBJS) $(TESTLIB_OBJS) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $(UNIT_OBJS) $(TESTLIB_OBJS) $(LIB) -lcriterion $(LDLIBS)

tools: $(TOOLS)

# ---------------------------------------------------------------- tests
# `make check` prints one summary line last: "N passed, N failed".
check: deps
	$(Q)$(MAKE) --no-print-directory -j2 all tools $(OUTPUT)/tests/unit-tests fuzz-build
	$(Q)OUTPUT=$(OUTPUT) FUZZ_SECONDS=$(or $(CHECK_FUZZ_SECONDS),30) \
		sh tests/run-all.sh

test: check

# (criterion's own allocations are not gscope's leaks: tests/lsan.supp)
unit: $(OUTPUT)/tests/unit-tests $(TOOLS) $(BIN)
	$(Q)OUTPUT=$(OUTPUT) LSAN_OPTIONS="suppressions=$(CURDIR)/tests/lsan.supp$${LSAN_OPTIONS:+:$$LSAN_OPTIONS}" \
		$(OUTPUT)/tests/unit-tests

golden: $(BIN) $(TOOLS)
	$(Q)OUTPUT=$(OUTPUT) sh tests/golden/run.sh

# ---------------------------------------------------------------- fuzz
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_OUT := build/fuzz
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_OUT)/%)
FUZZ_LIB_SRCS := $(wildcard base/*.c format/*.c runtime/*.c) tests/lib/gocursor.c
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -I. -I$(FUZZ_OUT)/gen \
	-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

$(FUZZ_OUT)/gen/format/gscope.pb-c.c: $(PROTO)
	$(Q)mkdir -p $(FUZZ_OUT)/gen
	$(Q)$(PROTOC_C) --c_out=$(FUZZ_OUT)/gen $<

$(FUZZ_OUT)/%: tests/fuzz/%.c $(FUZZ_LIB_SRCS) $(FUZZ_OUT)/gen/format/gscope.pb-c.c \
		$(wildcard base/*.h format/*.h runtime/*.h tests/fuzz/*.h) tests/lib/gocursor.h
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_SRCS) \
		$(FUZZ_OUT)/gen/format/gscope.pb-c.c -lzstd -llz4 -lz -lprotobuf-c -lpthread -lm

fuzz-build: $(FUZZ_BINS)

fuzz: deps
	$(Q)$(MAKE) --no-print-directory fuzz-build tools
	$(Q)OUTPUT=$(OUTPUT) FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh

# ---------------------------------------------------------------- bench
bench-format: deps
	$(Q)$(MAKE) --no-print-directory OUTPUT=build/bench-obj OPT="-O2 -march=native" \
		build/bench-obj/bench/bench_format
	$(Q)mkdir -p build/bench
	$(Q)build/bench-obj/bench/bench_format -n 10000000 -o build/bench/format.gst

# ---------------------------------------------------------------- demo
demo: deps
	$(Q)$(MAKE) --no-print-directory all tools
	$(Q)OUTPUT=$(OUTPUT) bash scripts/demo.sh

# ---------------------------------------------------------------- misc
install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/gscope

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/gscope

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > bpf/vmlinux.h.tmp
	mv bpf/vmlinux.h.tmp bpf/vmlinux.h

clean:
	rm -rf build

.DELETE_ON_ERROR:
.SECONDARY:

-include $(shell find $(OUTPUT) -name '*.d' 2>/dev/null)
