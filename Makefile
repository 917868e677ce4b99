# make run   - the kiosk on simulated devices with a local central platform
# make test  - the whole test suite
# make bench - the benchmarks of DESIGN.md section 8
# make deb   - the Debian package, in dist/
# Both install what they need first: the Debian packages (as root), .venv and the compiled
# catalogs (kiosk/locale/*/LC_MESSAGES/kiosk.mo, from their .po; not in git).

PYTHON ?= python3
VENV   := .venv
STAMP  := $(VENV)/.installed
PO     := $(wildcard kiosk/locale/*/LC_MESSAGES/*.po)
MO     := $(PO:.po=.mo)
PINYIN := kiosk/core/input/pinyin.sqlite

.PHONY: setup run test bench clean look deb

setup: $(STAMP) $(MO) $(PINYIN)

$(STAMP): pyproject.toml setup.py scripts/system-packages.sh
	scripts/system-packages.sh
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

# the UI reads the .mo with the standard library and refuses one older than its .po
kiosk/locale/%/LC_MESSAGES/kiosk.mo: kiosk/locale/%/LC_MESSAGES/kiosk.po $(STAMP)
	$(VENV)/bin/python -m kiosk.i18n compile $*
kiosk/locale/%/LC_MESSAGES/console.mo: kiosk/locale/%/LC_MESSAGES/console.po $(STAMP)
	$(VENV)/bin/python -m kiosk.i18n compile $*
kiosk/locale/%/LC_MESSAGES/cli.mo: kiosk/locale/%/LC_MESSAGES/cli.po $(STAMP)
	$(VENV)/bin/python -m kiosk.i18n compile $*

# the keyboard's pinyin index, derived from jieba's dictionary, pypinyin, ngender's given-name
# characters and Faker's common given names (not in git); built beside and renamed into place, so
# an interrupted build leaves no half index; rebuilt when the code that writes it changes (a new FORMAT is refused by the kiosk)
$(PINYIN): $(STAMP) kiosk/core/input/pinyin.py
	$(VENV)/bin/python -m kiosk.core.input.pinyin build --out $@

run: setup
	scripts/run-kiosk.sh

# the Kivy window's tests in one process, beside the rest on up to four (scripts/run-tests.sh)
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; [ $$n -lt 2 ] && n=2; echo $$n)

test: setup
	TEST_WORKERS=$(TEST_WORKERS) scripts/run-tests.sh

bench: setup
	$(VENV)/bin/python bench/run_all.py

# the Debian package: dist/kiosk_VERSION_ARCH.deb (scripts/build-deb.sh; docs/deploy.md)
deb: setup
	scripts/build-deb.sh

clean:
	rm -rf $(VENV) var tests/artifacts $(MO) $(PINYIN)

# a picture of the kiosk's screen when it runs on the virtual display of `make run`
look: setup
	$(VENV)/bin/python -c "from PIL import ImageGrab; ImageGrab.grab(xdisplay='$${DISPLAY:-:77}').save('var/screen.png')" && echo "saved var/screen.png"
