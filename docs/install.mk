# make install / make uninstall, included by the top-level Makefile (which
# sets SUPPLIERS, ENDPOINTS and PREFIX).
#
#   make install PREFIX=/usr/local DESTDIR=
#
#   $(PREFIX)/lib/menzzo/cgi-bin/   files, health, <supplier>/{get-sales,acknowledge-sale,ship-sale}
#   $(PREFIX)/bin/menzzo-admin
#   $(PREFIX)/share/man/man1/menzzo-admin.1
#   $(PREFIX)/share/menzzo/         lighttpd.conf, tools/lighttpd-env.sh, apache/ samples
#
# lighttpd.conf runs tools/lighttpd-env.sh relative to the directory lighttpd
# starts in, so the two keep their relative places under share/menzzo/.

DESTDIR    ?=
INSTALL    ?= install
BINDIR      = $(PREFIX)/bin
CGIDIR      = $(PREFIX)/lib/menzzo/cgi-bin
MAN1DIR     = $(PREFIX)/share/man/man1
SHAREDIR    = $(PREFIX)/share/menzzo
APACHE_SAMPLES := docs/apache/menzzo-vhost.conf docs/apache/htaccess docs/apache/menzzo-fcgid.conf

install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MAN1DIR) \
	    $(DESTDIR)$(SHAREDIR)/tools $(DESTDIR)$(SHAREDIR)/apache \
	    $(foreach s,$(SUPPLIERS),$(DESTDIR)$(CGIDIR)/$(s))
	$(foreach s,$(SUPPLIERS),$(INSTALL) -m 0755 $(addprefix cgi-bin/$(s)/,$(ENDPOINTS)) $(DESTDIR)$(CGIDIR)/$(s)/ && ) true
	$(INSTALL) -m 0755 cgi-bin/files cgi-bin/health $(DESTDIR)$(CGIDIR)/
	$(INSTALL) -m 0755 bin/menzzo-admin $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 0644 docs/menzzo-admin.1 $(DESTDIR)$(MAN1DIR)/
	$(INSTALL) -m 0644 lighttpd.conf $(DESTDIR)$(SHAREDIR)/
	$(INSTALL) -m 0755 tools/lighttpd-env.sh $(DESTDIR)$(SHAREDIR)/tools/
	$(INSTALL) -m 0644 $(APACHE_SAMPLES) $(DESTDIR)$(SHAREDIR)/apache/

uninstall:
	rm -f $(foreach s,$(SUPPLIERS),$(addprefix $(DESTDIR)$(CGIDIR)/$(s)/,$(ENDPOINTS))) \
	    $(DESTDIR)$(CGIDIR)/files $(DESTDIR)$(CGIDIR)/health \
	    $(DESTDIR)$(BINDIR)/menzzo-admin $(DESTDIR)$(MAN1DIR)/menzzo-admin.1 \
	    $(DESTDIR)$(SHAREDIR)/lighttpd.conf $(DESTDIR)$(SHAREDIR)/tools/lighttpd-env.sh \
	    $(addprefix $(DESTDIR)$(SHAREDIR)/apache/,$(notdir $(APACHE_SAMPLES)))
	-rmdir $(foreach s,$(SUPPLIERS),$(DESTDIR)$(CGIDIR)/$(s)) $(DESTDIR)$(CGIDIR) \
	    $(DESTDIR)$(PREFIX)/lib/menzzo $(DESTDIR)$(SHAREDIR)/tools $(DESTDIR)$(SHAREDIR)/apache \
	    $(DESTDIR)$(SHAREDIR) 2>/dev/null

.PHONY: install uninstall
