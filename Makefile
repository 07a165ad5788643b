# Linli: two commands. `make demo` serves the demo; `make test` runs the whole suite.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export XDG_RUNTIME_DIR ?= /tmp/runtime-$(shell id -u)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test install lint typecheck checks pytest browser-deps clean

$(STAMP): pyproject.toml
	@test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/linli demo

# Debian's Chromium and a CJK font for the browser tests and the PDF ledgers; Pango for
# WeasyPrint (the PDFs); gettext for the translations.
browser-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qiE "wqy|noto sans cjk|noto serif cjk" || missing="$$missing fonts-wqy-microhei"; \
	command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check linli tests scripts conftest.py
	$(BIN)/ruff format --check linli tests scripts conftest.py

typecheck: $(STAMP)
	$(BIN)/mypy linli

checks: $(STAMP)
	DJANGO_SETTINGS_MODULE=linli.config.settings.test $(BIN)/linli compilemessages -v 0 --ignore='.venv/*'
	DJANGO_SETTINGS_MODULE=linli.config.settings.test $(BIN)/linli check --fail-level WARNING
	DJANGO_SETTINGS_MODULE=linli.config.settings.test $(BIN)/linli makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=linli.config.settings.production SECRET_KEY=ci-only-dummy-secret-$$(head -c 32 /dev/urandom | base64 | tr -dc A-Za-z0-9) \
	  ALLOWED_HOSTS=linli.example.org $(BIN)/linli check --deploy --fail-level WARNING

pytest: $(STAMP) browser-deps
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

test: $(STAMP) browser-deps lint typecheck checks pytest

clean:
	rm -rf $(VENV) var build *.egg-info
