# cutoverd — top-level build.  `make help` lists the targets.
PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR    ?= $(PREFIX)/bin
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR   ?= $(PREFIX)/lib/systemd/system
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
VERSION   := 0.1.0

CC        ?= cc
PKGS      := libmariadb libevent jansson libsystemd inih
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)
WARN      := -Wall -Wextra -Werror -Wshadow -Wformat -Wformat-security -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS    ?= -O2 -g
LDFLAGS   ?=
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) -D_GNU_SOURCE -DCUTOVER_VERSION='"$(VERSION)"' \
             -pthread -Ilib -Idaemon -Idaemon/cutover $(PKG_CFLAGS)
LDLIBS    = $(PKG_LIBS) -lm -pthread

LIB_SRC    := $(wildcard lib/*.c)
DAEMON_SRC := $(filter-out daemon/main.c,$(wildcard daemon/*.c daemon/cutover/*.c))
CTL_SRC    := $(wildcard ctl/*.c)
TEST_SRC   := $(filter-out tests/check_main.c,$(wildcard tests/check_*.c))
# cutoverctl is unit-tested too: everything but its main()
CTL_LIB_SRC := $(filter-out ctl/cutoverctl.c,$(wildcard ctl/*.c))
IT_SRC     := $(filter-out tests/it_lib.c,$(wildcard tests/it_*.c))
HDRS       := $(wildcard lib/*.h daemon/*.h daemon/cutover/*.h ctl/*.h tests/*.h)

B := build
# Quiet by default; `make V=1` prints every command.
Q := $(if $(filter 1,$(V)),,@)
SAN := $(B)/san

.PHONY: all check unit unit-san integration integration-san install uninstall clean deps sandbox sandbox-stop \
        demo bench fuzz help man-check units-check metrics-check completion-check deb deb-check ports-check sandbox-check etcd-check

all: $(B)/cutoverd $(B)/cutoverctl $(B)/cutover-load

$(B)/%.o: %.c $(HDRS) | $(B)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B):
	@mkdir -p $(B)

$(B)/cutoverd: $(B)/daemon/main.o $(DAEMON_SRC:%.c=$(B)/%.o) $(LIB_SRC:%.c=$(B)/%.o)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/cutoverctl: $(CTL_SRC:%.c=$(B)/%.o) $(LIB_SRC:%.c=$(B)/%.o)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The write-load client used by the integration tests, the demo and the benchmarks.
$(B)/cutover-load: $(B)/tests/load/cutover-load.o $(LIB_SRC:%.c=$(B)/%.o)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# daemon/etcd.c against a real etcd (tests/etcd-check.sh)
$(B)/etcd-drive: $(B)/tests/etcd_drive.o $(B)/daemon/etcd.o $(LIB_SRC:%.c=$(B)/%.o)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit-test runner: every tests/check_<module>.c exports Suite *<module>_suite(void).
$(B)/tests/suites.h: $(TEST_SRC) | $(B)
	@mkdir -p $(B)/tests
	@for f in $(TEST_SRC); do n=$$(basename $$f .c); n=$${n#check_}; echo "SUITE($$n)"; done > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp

$(B)/tests/check_main.o: tests/check_main.c $(B)/tests/suites.h $(HDRS)
	$(Q)$(CC) $(ALL_CFLAGS) -I$(B)/tests -c $< -o $@

$(B)/unit-tests: $(B)/tests/check_main.o $(TEST_SRC:%.c=$(B)/%.o) $(DAEMON_SRC:%.c=$(B)/%.o) $(LIB_SRC:%.c=$(B)/%.o) $(CTL_LIB_SRC:%.c=$(B)/%.o)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS)

# The same unit tests, built with AddressSanitizer and UndefinedBehaviorSanitizer.
$(SAN)/unit-tests: $(TEST_SRC) tests/check_main.c $(DAEMON_SRC) $(LIB_SRC) $(CTL_LIB_SRC) $(B)/tests/suites.h $(HDRS)
	@mkdir -p $(SAN)
	@$(if $(Q),echo "  CC+LD   $@ (ASan+UBSan)")
	$(Q)$(CC) $(ALL_CFLAGS) -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
	  -I$(B)/tests -o $@ tests/check_main.c $(TEST_SRC) $(DAEMON_SRC) $(LIB_SRC) $(CTL_LIB_SRC) $(LDLIBS) $(CHECK_LIBS)

# Integration tests: real mariadbd and haproxy, started and stopped by the suite itself.
$(B)/it-tests: $(IT_SRC:%.c=$(B)/%.o) $(B)/tests/it_lib.o $(LIB_SRC:%.c=$(B)/%.o)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS)

unit: $(B)/unit-tests
	$(B)/unit-tests

unit-san: $(SAN)/unit-tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 CK_FORK=no $(SAN)/unit-tests

integration: all $(B)/it-tests
	CUTOVER_BUILD=$(CURDIR)/$(B) $(B)/it-tests

# The integration suites against a cutoverd built with ASan+UBSan (leaks too): its reports go to
# each suite's cutoverd log, and the run fails when one holds any.  Not in `make check` (it
# doubles the time); CK_RUN_SUITE picks suites as for `integration`.
INTEG_SAN := $(B)-asan
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
integration-san:
	$(MAKE) B=$(INTEG_SAN) CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" \
		$(INTEG_SAN)/cutoverd $(INTEG_SAN)/cutoverctl $(INTEG_SAN)/cutover-load $(INTEG_SAN)/it-tests
	rm -f /tmp/it-san-*.cutoverd.log
	ASAN_OPTIONS=fast_unwind_on_malloc=0 UBSAN_OPTIONS=print_stacktrace=1 IT_DIR_PREFIX=/tmp/it-san- \
		CUTOVER_BUILD=$(CURDIR)/$(INTEG_SAN) $(INTEG_SAN)/it-tests
	@if grep -l 'AddressSanitizer\|LeakSanitizer\|runtime error' /tmp/it-san-*.cutoverd.log 2>/dev/null; then \
		echo "integration-san: sanitizer reports in the cutoverd logs above"; exit 1; fi
	@echo "integration-san: no sanitizer report"

units-check:
	tests/units-check.sh

man-check:
	tests/man-check.sh

metrics-check:
	tests/metrics-check.sh

completion-check: all
	tests/completion-check.sh

# The Debian package (packaging/deb/): built from a staged tree with dpkg-deb, into build/deb/.
deb:
	packaging/deb/build.sh

# Built, checked with lintian, installed in a Debian 12 root (debootstrap, cached) and run there.
deb-check:
	tests/deb-check.sh

sandbox-check: all
	CUTOVER_BUILD=$(CURDIR)/$(B) tests/sandbox-check.sh

etcd-check: $(B)/etcd-drive
	CUTOVER_BUILD=$(CURDIR)/$(B) tests/etcd-check.sh

ports-check: all $(B)/it-tests
	CUTOVER_BUILD=$(CURDIR)/$(B) tests/ports-check.sh

check: all unit unit-san man-check units-check metrics-check completion-check deb-check sandbox-check etcd-check integration ports-check

deps:
	@tests/deps.sh

sandbox: all
	tests/sandbox/sandbox.sh start

# Stops the demo's cutoverd too, and keeps the logs and the journal in sandbox.last/.
sandbox-stop:
	tests/sandbox/sandbox.sh stop

demo:
	tests/demo.sh

bench: all
	bench/run.sh

fuzz:
	fuzz/run.sh

install: $(B)/cutoverd $(B)/cutoverctl
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/cutoverd \
	  $(DESTDIR)$(COMPLETIONDIR)
	install -m 0755 $(B)/cutoverd $(DESTDIR)$(SBINDIR)/cutoverd
	install -m 0755 $(B)/cutoverctl $(DESTDIR)$(BINDIR)/cutoverctl
	install -m 0644 man/cutoverctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/cutoverd.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/cutoverd-api.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 0644 man/cutoverd-ha.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 0644 man/cutoverd.8 $(DESTDIR)$(MANDIR)/man8/
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/cutoverd.service > $(DESTDIR)$(UNITDIR)/cutoverd.service
	install -m 0644 systemd/cutoverd.socket $(DESTDIR)$(UNITDIR)/cutoverd.socket
	install -m 0644 completion/cutoverctl.bash $(DESTDIR)$(COMPLETIONDIR)/cutoverctl
	install -m 0640 conf/cutoverd.conf.example $(DESTDIR)$(SYSCONFDIR)/cutoverd/cutoverd.conf.example

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/cutoverd $(DESTDIR)$(BINDIR)/cutoverctl \
	  $(DESTDIR)$(MANDIR)/man1/cutoverctl.1 $(DESTDIR)$(MANDIR)/man5/cutoverd.conf.5 \
	  $(DESTDIR)$(MANDIR)/man7/cutoverd-api.7 $(DESTDIR)$(MANDIR)/man7/cutoverd-ha.7 \
	  $(DESTDIR)$(MANDIR)/man8/cutoverd.8 \
	  $(DESTDIR)$(UNITDIR)/cutoverd.service $(DESTDIR)$(UNITDIR)/cutoverd.socket \
	  $(DESTDIR)$(COMPLETIONDIR)/cutoverctl $(DESTDIR)$(SYSCONFDIR)/cutoverd/cutoverd.conf.example

clean:
	rm -rf $(B)

help:
	@echo "targets: all check unit unit-san integration integration-san install uninstall clean deps sandbox sandbox-stop demo bench fuzz deb"
