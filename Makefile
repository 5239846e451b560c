# muxgate — GNU make, pkg-config, no recursion.
PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DOCDIR   ?= $(PREFIX)/share/doc/muxgate
UNITDIR  ?= $(PREFIX)/lib/systemd/system
# The account sshd runs muxgate as, written into the generated contrib/
# files (sshd Match, sudoers, tmpfiles.d, systemd units).
GATEWAY_USER ?= gateway
# The account sshd runs `muxgate keys` as (AuthorizedKeysCommandUser).
KEYS_USER ?= muxgate-keys
PKG_CONFIG ?= pkg-config
VERSION  := 0.1.0

PKGS := yaml-0.1 libsodium json-c audit
# Loaded with dlopen() where it is used, so that every other muxgate
# process starts without it: libssh by muxgate serve only
# (gateway/sshlib.h).  Its headers are needed, its library is not linked.
DLPKGS := libssh
TEST_PKGS := cmocka

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wpointer-arith \
            -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
HARDEN   := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) -MMD -MP -I. \
             -DMUXGATE_VERSION='"$(VERSION)"' $(PKG_CFLAGS) $(CFLAGS)
LDHARDEN := -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack

# make SANITIZE=1: AddressSanitizer and UndefinedBehaviorSanitizer, any
# finding fatal, with the run-time options of tests/asan/options.c built
# in.  tests/run-asan (make check-asan) builds this way in build/asan/.
SANITIZE ?=
ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer
ALL_CFLAGS += $(SAN_FLAGS)
LDHARDEN += $(SAN_FLAGS)
SAN_OBJS := tests/asan/options.o
endif

PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) $(DLPKGS) 2>/dev/null)
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

# util/: what the policy library and the gateway both need; it includes
# neither of them.
UTIL_SRCS := util/num.c util/utf8.c util/fdio.c util/b64.c
POLICY_SRCS := policy/load.c policy/schema.c policy/decide.c policy/match.c \
               policy/key.c policy/safepath.c policy/errors.c \
               policy/access.c policy/index.c policy/tree.c \
               policy/prompt.c
GATEWAY_LIB_SRCS := gateway/log.c gateway/xmalloc.c gateway/str.c \
               gateway/tokenize.c gateway/target.c gateway/tmux.c \
               gateway/output.c gateway/identity.c gateway/spawn.c \
               gateway/record.c gateway/slots.c gateway/relay.c \
               gateway/audit.c gateway/quote.c gateway/dirs.c \
               gateway/lineedit.c gateway/logindefs.c \
               gateway/trail.c gateway/seal.c \
               gateway/recdir.c gateway/recinfo.c gateway/recevent.c gateway/utc.c \
               gateway/keyindex.c gateway/state.c gateway/state-file.c \
               gateway/terminate.c gateway/grant.c gateway/grant-store.c \
               gateway/secretmask.c gateway/ttl.c gateway/termfilter.c \
               gateway/sudorules.c
GATEWAY_SRCS := gateway/main.c gateway/shell.c gateway/cmd.c gateway/access.c \
               gateway/cmd-ls.c gateway/cmd-hosts.c gateway/cmd-new.c \
               gateway/cmd-attach.c gateway/cmd-kill.c gateway/cmd-whoami.c \
               gateway/cmd-help.c gateway/cmd-exit.c gateway/cmd-watch.c \
               gateway/cmd-terminate.c gateway/cmd-request.c \
               gateway/cmd-grants.c gateway/cmd-approve.c gateway/cmd-deny.c \
               gateway/cmd-revoke.c gateway/grantcmd.c \
               gateway/check.c gateway/check-setup.c gateway/transport.c gateway/transport-local.c \
               gateway/transport-ssh.c \
               gateway/session.c gateway/view.c gateway/menu.c gateway/attach.c \
               gateway/serve.c gateway/serve-auth.c gateway/serve-channel.c \
               gateway/sshlib.c \
               gateway/replay.c gateway/prune.c gateway/reap.c gateway/verify.c \
               gateway/keygen.c gateway/recordings.c gateway/keys.c

UTIL_OBJS   := $(UTIL_SRCS:.c=.o)
POLICY_OBJS := $(POLICY_SRCS:.c=.o)
GWLIB_OBJS  := $(GATEWAY_LIB_SRCS:.c=.o)
GATEWAY_OBJS := $(GATEWAY_SRCS:.c=.o)

UNIT_TESTS := tests/unit/test_policy tests/unit/test_decide tests/unit/test_key \
              tests/unit/test_tokenize tests/unit/test_target tests/unit/test_tmux \
              tests/unit/test_output tests/unit/test_safepath tests/unit/test_identity \
              tests/unit/test_record tests/unit/test_slots tests/unit/test_quote \
              tests/unit/test_lineedit tests/unit/test_logindefs \
              tests/unit/test_cmd tests/unit/test_log tests/unit/test_trail tests/unit/test_num \
              tests/unit/test_utf8 tests/unit/test_seal \
              tests/unit/test_recdir tests/unit/test_recinfo tests/unit/test_recevent \
              tests/unit/test_utc \
              tests/unit/test_keyindex tests/unit/test_state \
              tests/unit/test_grant tests/unit/test_secretmask tests/unit/test_ttl \
              tests/unit/test_termfilter tests/unit/test_limits tests/unit/test_b64 \
              tests/unit/test_relay tests/unit/test_sudorules \
              tests/unit/test_spawn

# The contrib/ files that name the binary or the gateway account are
# made from their .in templates for this BINDIR and GATEWAY_USER;
# contrib/.subst holds the values they were made with, so that a make
# with other values makes them again.
CONTRIB_GEN := contrib/sshd_config.d/muxgate.conf contrib/sudoers.d/muxgate \
               contrib/tmpfiles.d/muxgate.conf contrib/audit/muxgate.rules \
               contrib/systemd/muxgate.service \
               contrib/systemd/muxgate-prune.service \
               contrib/systemd/muxgate-reap.service \
               contrib/sshd_config.d/muxgate-keys.conf \
               contrib/systemd/muxgate-keys-index.service
.PHONY: all check check-asan unit e2e install uninstall clean deps bench demo valgrind FORCE
all: muxgate $(CONTRIB_GEN)

SUBST := BINDIR=$(BINDIR) DOCDIR=$(DOCDIR) GATEWAY_USER=$(GATEWAY_USER) \
    KEYS_USER=$(KEYS_USER)

contrib/.subst: FORCE
	@case '$(GATEWAY_USER)' in \
	    ''|-*|*[!a-z0-9_.-]*) echo "muxgate: bad GATEWAY_USER '$(GATEWAY_USER)'" >&2; exit 1;; esac
	@case '$(KEYS_USER)' in \
	    ''|-*|*[!a-z0-9_.-]*) echo "muxgate: bad KEYS_USER '$(KEYS_USER)'" >&2; exit 1;; esac
	@case '$(BINDIR)$(DOCDIR)' in \
	    *[!A-Za-z0-9_./+-]*) echo "muxgate: BINDIR and DOCDIR may not contain blanks or shell characters" >&2; exit 1;; esac
	@echo '$(SUBST)' | cmp -s - $@ || echo '$(SUBST)' > $@

$(CONTRIB_GEN): %: %.in contrib/.subst
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
	    -e 's|@GATEWAY_USER@|$(GATEWAY_USER)|g' \
	    -e 's|@KEYS_USER@|$(KEYS_USER)|g' $< > $@.tmp
	mv $@.tmp $@

deps:
	@contrib/install-deps --check || contrib/install-deps

muxgate: $(GATEWAY_OBJS) $(GWLIB_OBJS) $(POLICY_OBJS) $(UTIL_OBJS) $(SAN_OBJS)
	$(CC) $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

%.o: %.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The request path (commands, sessions, transports, attach) with the
# transport faked at the spawn boundary: tests/unit/fake_spawn.c stands
# in for gateway/spawn.c.
REQUEST_OBJS := gateway/cmd.o gateway/access.o gateway/cmd-ls.o gateway/cmd-hosts.o \
               gateway/cmd-new.o gateway/cmd-attach.o gateway/cmd-kill.o \
               gateway/cmd-whoami.o gateway/cmd-help.o gateway/cmd-exit.o \
               gateway/cmd-watch.o gateway/cmd-terminate.o gateway/session.o \
               gateway/cmd-request.o gateway/cmd-grants.o gateway/cmd-approve.o \
               gateway/cmd-deny.o gateway/cmd-revoke.o gateway/grantcmd.o \
               gateway/view.o \
               gateway/transport.o gateway/transport-local.o \
               gateway/transport-ssh.o gateway/attach.o
tests/unit/test_cmd: tests/unit/test_cmd.o tests/unit/unit.o \
               tests/unit/fake_spawn.o $(REQUEST_OBJS) \
               $(filter-out gateway/spawn.o,$(GWLIB_OBJS)) $(POLICY_OBJS) \
               $(UTIL_OBJS) $(SAN_OBJS)
	$(CC) $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lutil $(shell $(PKG_CONFIG) --libs $(TEST_PKGS))

tests/unit/test_%: tests/unit/test_%.o tests/unit/unit.o $(GWLIB_OBJS) $(POLICY_OBJS) \
    $(UTIL_OBJS) $(SAN_OBJS)
	$(CC) $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(shell $(PKG_CONFIG) --libs $(TEST_PKGS))

# tests/run-check: the end-to-end suite against the sanitized build as
# soon as it is built, and beside it, at the lowest priority, the plain
# unit tests, the same under valgrind (errors and leaks fail), the
# sanitized unit tests and the fuzzers' smoke.  `make e2e` runs the
# end-to-end suite against the plain binary.
check: deps
	@tests/run-check $(UNIT_TESTS)

unit: muxgate $(UNIT_TESTS)
	@tests/run-unit $(UNIT_TESTS)

valgrind: $(UNIT_TESTS)
	@VALGRIND=1 tests/run-unit $(UNIT_TESTS)

e2e: muxgate
	@tests/run-e2e

# The unit and end-to-end suites again, built with AddressSanitizer and
# UndefinedBehaviorSanitizer in build/asan/ (tests/run-asan).
check-asan: deps
	@tests/run-asan $(UNIT_TESTS)

# The benchmarks' writer of grants (tests/bench/grants_gen.c): the
# gateway's own state and grant store, so that its entries are muxgate's.
tests/bench/grants_gen: tests/bench/grants_gen.o $(GWLIB_OBJS) $(POLICY_OBJS) \
    $(UTIL_OBJS)
	$(CC) $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

# The relay, plain and sealed, with an attach allowed by a grant, watching
# and unfiltered, with the sealing and terminal filter throughputs beside
# it (tests/bench/run runs tests/bench/seal-speed and termfilter-speed);
# the fleet fan-out, the SSH server, `muxgate recordings` over 10,000 of
# them, key lookups, how loading a policy grows with its identities, and
# `grants` and `check --can` over 10,000 grants.  tests/bench/all runs
# them all (a failure does not stop the others) and writes every figure
# against its baseline and target to tests/bench/RESULTS.md;
# BENCH_QUICK=1 for small sizes.
bench: muxgate tests/bench/grants_gen
	@tests/bench/all

demo: deps
	$(MAKE) muxgate
	@contrib/demo

# The files `make install` installs, for `make uninstall`.
INSTALLED := $(BINDIR)/muxgate $(MANDIR)/man8/muxgate.8 \
    $(MANDIR)/man5/gateway.yaml.5 \
    $(addprefix $(DOCDIR)/,gateway.yaml.example threat-model.md \
        recordings.md audit-events.md recording-format.md \
        contrib/sshd_config.d/muxgate.conf \
        contrib/sshd_config.d/muxgate-keys.conf \
        contrib/sudoers.d/muxgate contrib/tmpfiles.d/muxgate.conf \
        contrib/audit/muxgate.rules contrib/audit/search-recipes.md) \
    $(addprefix $(UNITDIR)/,muxgate.service muxgate-prune.service \
        muxgate-prune.timer muxgate-reap.service muxgate-reap.timer \
        muxgate-keys-index.service muxgate-keys-index.path)
DOC_DIRS := $(addprefix $(DOCDIR)/contrib/,sshd_config.d sudoers.d \
    tmpfiles.d audit) $(DOCDIR)/contrib $(DOCDIR)

install: muxgate $(CONTRIB_GEN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(UNITDIR) $(addprefix $(DESTDIR),$(DOC_DIRS))
	install -m 0755 muxgate $(DESTDIR)$(BINDIR)/muxgate
	@# CAP_AUDIT_WRITE only, so a non-root gateway account can write audit
	@# records; children get no capability (see docs/audit-events.md).
	@# A capability given to a file staged under DESTDIR does not survive
	@# packaging (tar, dpkg-deb and rpm drop it): the package must set it
	@# when it is installed.
	@if [ -n '$(DESTDIR)' ]; then \
	    echo "muxgate: DESTDIR is set: no capability given to the staged binary."; \
	    echo "muxgate: the package must run, once installed (e.g. in postinst):"; \
	    echo "    setcap cap_audit_write+ep $(BINDIR)/muxgate"; \
	elif command -v setcap >/dev/null 2>&1; then \
	    setcap cap_audit_write+ep $(BINDIR)/muxgate || \
	    echo "muxgate: warning: setcap cap_audit_write+ep failed" >&2; \
	else echo "muxgate: warning: setcap not found (package libcap2-bin)" >&2; fi
	install -m 0644 docs/muxgate.8 $(DESTDIR)$(MANDIR)/man8/muxgate.8
	install -m 0644 docs/gateway.yaml.5 $(DESTDIR)$(MANDIR)/man5/gateway.yaml.5
	install -m 0644 gateway.yaml.example docs/threat-model.md docs/recordings.md \
	    docs/audit-events.md docs/recording-format.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 contrib/sshd_config.d/muxgate.conf \
	    contrib/sshd_config.d/muxgate-keys.conf $(DESTDIR)$(DOCDIR)/contrib/sshd_config.d/
	install -m 0644 contrib/sudoers.d/muxgate $(DESTDIR)$(DOCDIR)/contrib/sudoers.d/
	install -m 0644 contrib/tmpfiles.d/muxgate.conf $(DESTDIR)$(DOCDIR)/contrib/tmpfiles.d/
	install -m 0644 contrib/audit/muxgate.rules contrib/audit/search-recipes.md $(DESTDIR)$(DOCDIR)/contrib/audit/
	install -m 0644 contrib/systemd/muxgate.service contrib/systemd/muxgate-prune.service \
	    contrib/systemd/muxgate-prune.timer contrib/systemd/muxgate-reap.service \
	    contrib/systemd/muxgate-reap.timer contrib/systemd/muxgate-keys-index.service \
	    contrib/systemd/muxgate-keys-index.path $(DESTDIR)$(UNITDIR)/

# Exactly what install installed, and the documentation directories it
# made if they are left empty; shared directories (bin, man8) stay.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	@for d in $(addprefix $(DESTDIR),$(DOC_DIRS)); do \
	    if [ -d "$$d" ]; then rmdir --ignore-fail-on-non-empty "$$d" || exit 1; fi; \
	done

# Only the build's own directories: contrib/*.d are directories, not
# dependency files.
clean:
	rm -f muxgate $(UNIT_TESTS) gateway/*.o gateway/*.d policy/*.o policy/*.d \
	    util/*.o util/*.d tests/unit/*.o tests/unit/*.d \
	    tests/bench/grants_gen tests/bench/*.o tests/bench/*.d $(CONTRIB_GEN) $(CONTRIB_GEN:=.tmp) contrib/.subst
	rm -rf $(FUZZ_OUT)

include tests/fuzz/fuzz.mk

-include $(wildcard $(UTIL_OBJS:.o=.d) $(POLICY_OBJS:.o=.d) $(GWLIB_OBJS:.o=.d) $(GATEWAY_OBJS:.o=.d) $(UNIT_TESTS:=.d) tests/bench/grants_gen.d)
