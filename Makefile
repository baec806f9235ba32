# Two commands on a fresh Debian machine: `make run` and `make test`.
# Both install whatever is missing first (Debian packages, the venv, message
# catalogs, development keys) and are safe to repeat.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .make
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# xmlsec1: SAML signatures; fonts-hosny-amiri: Arabic in PDFs; fonts-dejavu-core:
# the captcha image; poppler-utils and zbar-tools: the tests read certificates
# back (pdfsig checks their signatures); openssl: development keys; chromium: the
# browser tests; pcscd and vsmartcard-vpcd: the card reader stack with its virtual
# reader; swig, libpcsclite-dev and gcc: building pyscard; libnss3-tools: certutil,
# the trust store pdfsig reads; softhsm2: a PKCS#11 token for the document-signing test;
# postgresql and haproxy: the multi-server test's database and load balancer; libpq-dev:
# building psycopg2, RelStorage's PostgreSQL driver; wrk: the benchmarks' load.
DEBIAN_PACKAGES := xmlsec1 fonts-hosny-amiri fonts-dejavu-core poppler-utils zbar-tools openssl chromium \
  pcscd vsmartcard-vpcd swig libpcsclite-dev gcc libnss3-tools softhsm2 postgresql haproxy libpq-dev wrk
# axe-core, from the npm registry, is injected into pages by the browser tests.
AXE := $(STAMPS)/axe/node_modules/axe-core/axe.min.js
PO_FILES := $(wildcard occi_site/locale/*/LC_MESSAGES/*.po pki_idp/locale/*/LC_MESSAGES/*.po payment_sandbox/locale/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)

# The processes of the Procfile that `make run` starts (honcho stops them all together): the
# portal with the virtual card reader stack (a private pcscd, the emulated cards, the card
# agent), or with CARD_READER=physical the portal and a card agent on the machine's own pcscd.
RUN_PROCESSES := web pcscd card agent
ifeq ($(CARD_READER),physical)
RUN_PROCESSES := web reader-agent
endif

.PHONY: run test lint install system-packages catalogs update-catalogs bench clean

run: install var/pki/sp.crt var/dev-cards/national-ca.pem var/documents/signing.p12
	@# A reader configuration left by an earlier run names stale vpcd ports.
	rm -f var/card-reader/readers/vpcd
	$(BIN)/honcho start $(RUN_PROCESSES)

# Two pytest-xdist workers, one a core of CI's two, each taking whole modules (a module's
# stack and accounts are set up once); each worker runs its own card reader stack and browser.
test: install $(AXE) lint
	$(BIN)/python -m pytest -n 2 --dist loadscope

# ruff, configured in pyproject.toml: the linter and the formatter's check.
lint: $(STAMPS)/venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

install: system-packages $(STAMPS)/venv catalogs

system-packages:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq -o DPkg::Lock::Timeout=600 && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends $$missing; \
	fi

$(AXE):
	command -v npm >/dev/null || { $(SUDO) apt-get update -qq -o DPkg::Lock::Timeout=600 && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq -o DPkg::Lock::Timeout=600 npm; }
	npm install --silent --no-audit --no-fund --prefix $(STAMPS)/axe axe-core@4

$(STAMPS)/venv: setup.cfg pyproject.toml
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel
	$(BIN)/pip install -q -e '.[test]'
	mkdir -p $(STAMPS) && touch $@

catalogs: $(MO_FILES)

%.mo: %.po $(STAMPS)/venv
	$(BIN)/pybabel compile -i $< -o $@

update-catalogs: $(STAMPS)/venv
	$(BIN)/pybabel extract -F babel.cfg --no-location -o occi_site/locale/occi_site.pot .
	$(BIN)/pybabel update -D occi_site -i occi_site/locale/occi_site.pot -d occi_site/locale

var/pki/sp.crt:
	mkdir -p var/pki
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj '/CN=occi-portal-dev-sp' \
	  -keyout var/pki/sp.key -out var/pki/sp.crt 2>/dev/null

# The development national CA and a card for each test person.
var/dev-cards/national-ca.pem: | $(STAMPS)/venv
	$(BIN)/occi-dev-card issue var/dev-cards

# The development chamber document CA and the key that signs certificates and receipts.
var/documents/signing.p12: | $(STAMPS)/venv
	$(BIN)/python -m occi_site.documents.development var/documents

bench: install
	$(BIN)/python bench/certificate_render.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/cluster.py

clean:
	rm -rf $(VENV) $(STAMPS) $(MO_FILES)
