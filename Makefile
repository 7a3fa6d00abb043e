# Two commands an admin needs: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export NURTURE_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: demo test lint schema clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/nurture demo

# The dashboard tests drive Debian's Chromium; install it only if absent. Without it they skip, saying why.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
		|| echo "chromium could not be installed: the dashboard browser tests will be skipped"

test: $(STAMP) browser
	$(BIN)/ruff check connector webhooks tests benchmarks
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check connector webhooks tests benchmarks

schema: $(STAMP)
	$(BIN)/nurture schema --out schemas

clean:
	rm -rf $(VENV) build *.egg-info
