# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
BIND ?= 127.0.0.1:8000

.PHONY: run test lint bench bench-quick clean

$(BIN)/helpdesk: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

run: $(BIN)/helpdesk
	$(BIN)/helpdesk init-db
	$(BIN)/helpdesk seed-demo
	@echo "Mail is written as .eml files to $${HELPDESK_INSTANCE_PATH:-$(CURDIR)/instance}/mail/ (unless HELPDESK_SMTP_URL is set)"
	$(BIN)/helpdesk serve --bind $(BIND)

test: $(BIN)/helpdesk
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(BIN)/helpdesk
	$(BIN)/ruff check .

bench: $(BIN)/helpdesk
	$(BIN)/python -m bench

bench-quick: $(BIN)/helpdesk
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) instance .pytest_cache
