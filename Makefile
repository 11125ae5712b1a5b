# The two quick-start commands: `make build` and `make test`. Both install what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ARGS ?=

.PHONY: build test check serve deps test-deps clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

deps: $(VENV)/.installed
	./scripts/install-system-deps

test-deps: $(VENV)/.installed
	./scripts/install-system-deps --test
	$(MAKE) -s tests/js/node_modules/.installed tests/editor/node_modules/.installed

tests/js/node_modules/.installed: tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund --silent
	touch $@

# the YAML language server, for tests/test_editor.py (schemas/ as editors read them)
tests/editor/node_modules/.installed: tests/editor/package.json tests/editor/package-lock.json
	cd tests/editor && npm ci --no-audit --no-fund --silent
	touch $@

build: deps
	$(PY) build.py build $(ARGS)

check: deps
	$(PY) build.py check

serve: deps
	$(PY) build.py serve $(ARGS)

test: test-deps
	$(PY) -m pytest -q $(ARGS)

clean:
	rm -rf outputs $(VENV)
