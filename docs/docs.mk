# make docs, included by the top-level Makefile:
#   docs/api.html      the API reference suppliers read (lighttpd serves it at
#                      /api/docs), rendered from docs/openapi.yaml by the
#                      renderer pinned in tools/node (tools/node/build-docs.js)
#   docs/api-docs.png  its first screen (Getting started), the screenshot in the
#                      README, taken in headless Chromium
#   docs/api-docs-operation.png
#                      one operation (get-sales) as a deep link opens it
# All are committed; tests/test_api_docs.py fails when docs/api.html is not
# what this would make from the YAML of the moment.

docs:
	@sh tools/install-deps.sh test
	$(call say,GEN,docs/api.html)node tools/node/build-docs.js docs/openapi.yaml docs/api.html
	$(call say,GEN,docs/api-docs.png docs/api-docs-operation.png)node tools/node/api-docs-browser.js \
		"file://$(CURDIR)/docs/api.html" docs/api-docs.png docs/api-docs-operation.png >/dev/null

.PHONY: docs
