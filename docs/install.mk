# make install / make uninstall, included by the top-level Makefile (which
# sets PROGRAMS, from the route table, APACHE_SAMPLES and PREFIX).
#
#   make install PREFIX=/usr/local DESTDIR=
#
#   $(PREFIX)/lib/menzzo/cgi-bin/   a program per route (files, health, <supplier>/get-sales, ...)
#                                   and the routes file that lighttpd-env.sh reads
#   $(PREFIX)/bin/menzzo-admin
#   $(PREFIX)/share/man/man1/menzzo-admin.1
#   $(PREFIX)/share/menzzo/         lighttpd.conf, tools/lighttpd-env.sh, www/errors/ (the JSON
#                                   bodies of lighttpd's own errors), docs/api.html (/api/docs),
#                                   apache/ samples
#
# lighttpd.conf runs tools/lighttpd-env.sh and finds www/errors/ and
# docs/api.html relative to the directory lighttpd starts in, so they keep
# their relative places under share/menzzo/.  The executables are installed
# stripped (INSTALL_STRIP= keeps their symbols).

DESTDIR    ?=
INSTALL    ?= install
INSTALL_STRIP ?= -s
BINDIR      = $(PREFIX)/bin
CGIDIR      = $(PREFIX)/lib/menzzo/cgi-bin
MAN1DIR     = $(PREFIX)/share/man/man1
SHAREDIR    = $(PREFIX)/share/menzzo
ERROR_PAGES    := $(wildcard www/errors/status-*.html)

PROGRAM_DIRS = $(sort $(filter-out .,$(patsubst %/,%,$(dir $(PROGRAMS)))))

install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MAN1DIR) $(DESTDIR)$(CGIDIR) \
	    $(DESTDIR)$(SHAREDIR)/tools $(DESTDIR)$(SHAREDIR)/apache \
	    $(DESTDIR)$(SHAREDIR)/www/errors $(DESTDIR)$(SHAREDIR)/docs \
	    $(addprefix $(DESTDIR)$(CGIDIR)/,$(PROGRAM_DIRS))
	$(foreach p,$(PROGRAMS),$(INSTALL) $(INSTALL_STRIP) -m 0755 cgi-bin/$(p) $(DESTDIR)$(CGIDIR)/$(p) && ) true
	$(INSTALL) -m 0644 cgi-bin/routes $(DESTDIR)$(CGIDIR)/
	$(INSTALL) $(INSTALL_STRIP) -m 0755 bin/menzzo-admin $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 0644 docs/menzzo-admin.1 $(DESTDIR)$(MAN1DIR)/
	$(INSTALL) -m 0644 lighttpd.conf $(DESTDIR)$(SHAREDIR)/
	$(INSTALL) -m 0755 tools/lighttpd-env.sh $(DESTDIR)$(SHAREDIR)/tools/
	$(INSTALL) -m 0644 $(ERROR_PAGES) $(DESTDIR)$(SHAREDIR)/www/errors/
	$(INSTALL) -m 0644 docs/api.html $(DESTDIR)$(SHAREDIR)/docs/
	$(INSTALL) -m 0644 $(APACHE_SAMPLES) $(DESTDIR)$(SHAREDIR)/apache/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(CGIDIR)/,$(PROGRAMS) routes) \
	    $(DESTDIR)$(BINDIR)/menzzo-admin $(DESTDIR)$(MAN1DIR)/menzzo-admin.1 \
	    $(DESTDIR)$(SHAREDIR)/lighttpd.conf $(DESTDIR)$(SHAREDIR)/tools/lighttpd-env.sh \
	    $(addprefix $(DESTDIR)$(SHAREDIR)/apache/,$(notdir $(APACHE_SAMPLES))) \
	    $(addprefix $(DESTDIR)$(SHAREDIR)/www/errors/,$(notdir $(ERROR_PAGES))) \
	    $(DESTDIR)$(SHAREDIR)/docs/api.html
	-rmdir $(addprefix $(DESTDIR)$(CGIDIR)/,$(PROGRAM_DIRS)) $(DESTDIR)$(CGIDIR) \
	    $(DESTDIR)$(PREFIX)/lib/menzzo $(DESTDIR)$(SHAREDIR)/tools $(DESTDIR)$(SHAREDIR)/apache \
	    $(DESTDIR)$(SHAREDIR)/www/errors $(DESTDIR)$(SHAREDIR)/www $(DESTDIR)$(SHAREDIR)/docs \
	    $(DESTDIR)$(SHAREDIR) 2>/dev/null

.PHONY: install uninstall
