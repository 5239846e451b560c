# tests/fuzz/fuzz.mk — the libFuzzer harnesses (tests/fuzz/README.md),
# included by the Makefile.  The code they share is compiled once, with
# the coverage instrumentation and the sanitizers, into an archive; each
# harness is its own file linked against it.
#
#   make fuzz                        every harness, FUZZ_SECONDS (60) each
#   make fuzz FUZZERS="seal pubkey"  only those
#   make fuzz-build                  build them, run nothing
#   make fuzz-smoke                  all, FUZZ_SMOKE_SECONDS (3) each
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 3
FUZZ_ALL     := tokenize tmux_list policy target seal recinfo keyindex \
                state grant secretmask termfilter authinfo pubkey \
                recording replay policyvals
FUZZERS      ?= $(FUZZ_ALL)

FUZZ_OUT    := tests/fuzz/build
FUZZ_OBJDIR := $(FUZZ_OUT)/obj
FUZZ_SAN    := address,undefined -fno-sanitize-recover=all
# The build's warnings, as errors, but for clang's -Wformat-nonliteral
# (-Wformat=2), which log.c's vprintf of a checked format trips.
FUZZ_CFLAGS  = -std=c11 -D_GNU_SOURCE $(filter-out -Wformat=2,$(WARN)) -Wformat -g -O1 -MMD -MP -I. \
               -DMUXGATE_VERSION='"$(VERSION)"' $(PKG_CFLAGS)
# What the harnesses reach; an archive, so that each links only what it
# uses.
FUZZ_GW_SRCS := gateway/log.c gateway/xmalloc.c gateway/str.c \
               gateway/tokenize.c gateway/target.c gateway/tmux.c \
               gateway/output.c gateway/seal.c gateway/recinfo.c \
               gateway/recevent.c gateway/utc.c gateway/keyindex.c \
               gateway/quote.c gateway/dirs.c gateway/state.c \
               gateway/state-file.c gateway/grant.c gateway/secretmask.c \
               gateway/termfilter.c gateway/identity.c gateway/audit.c
FUZZ_LIB_OBJS := $(addprefix $(FUZZ_OBJDIR)/,\
               $(UTIL_SRCS:.c=.o) $(POLICY_SRCS:.c=.o) $(FUZZ_GW_SRCS:.c=.o))
FUZZ_LIB  := $(FUZZ_OBJDIR)/libmuxgate-fuzz.a
FUZZ_BINS := $(addprefix $(FUZZ_OUT)/fuzz_,$(FUZZ_ALL))

.PHONY: fuzz fuzz-build fuzz-smoke

$(FUZZ_OBJDIR)/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MT $@ -MF $@.d -fsanitize=fuzzer,$(FUZZ_SAN) \
	    -o $@ $< $(FUZZ_LIB) $(PKG_LIBS)

fuzz-build: $(FUZZ_BINS)

# What `make check` runs: every harness for a few seconds.
fuzz-smoke: $(FUZZ_BINS)
	@FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) tests/fuzz/run $(FUZZ_ALL)

fuzz: $(addprefix $(FUZZ_OUT)/fuzz_,$(FUZZERS))
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run $(FUZZERS)

-include $(wildcard $(FUZZ_OBJDIR)/*/*.d $(FUZZ_OUT)/*.d)
