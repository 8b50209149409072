# make docs, included by the top-level Makefile:
#   docs/api.html      the API reference suppliers read (lighttpd serves it at
#                      /api/docs), rendered from docs/openapi.yaml by the
#                      renderer pinned in tools/node (tools/node/build-docs.js)
#   docs/api-docs.png  its screenshot in the README, taken in headless Chromium
# Both are committed; tests/test_api_docs.py fails when docs/api.html is not
# what this would make from the YAML of the moment.

docs:
	@sh tools/install-deps.sh test
	$(call say,GEN,docs/api.html)node tools/node/build-docs.js docs/openapi.yaml docs/api.html
	$(call say,GEN,docs/api-docs.png)node tools/node/api-docs-browser.js "file://$(CURDIR)/docs/api.html" docs/api-docs.png >/dev/null

.PHONY: docs
