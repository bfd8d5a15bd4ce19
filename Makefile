# The two commands: `make run` starts the platform, `make test` runs every test.
# Both bootstrap .venv with python3 -m venv and pip; nothing else needs installing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROJECTS := shared gateway services/appraisal services/welfare services/eldercare services/renewal platformctl
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck check bench-gateway bench-welfare bench-eldercare bench-load fuzz-long test-replicas clean-data

$(STAMP): constraints.txt requirements-dev.txt $(addsuffix /pyproject.toml,$(PROJECTS))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt \
		--config-settings editable_mode=compat $(addprefix -e ,$(PROJECTS)) -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m platformctl run

# the suite in TEST_WORKERS processes side by side (pytest-xdist), a file's tests in one of
# them, the longest first (see conftest.py); each worker has a database and a platform of its
# own. 0: one process, in file order.
TEST_WORKERS ?= 2

test: $(STAMP)
	$(BIN)/python -m platformctl test -n $(TEST_WORKERS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Test folders repeat module names (conftest.py, test_register_api.py), so mypy checks each
# folder on its own; the shared cache (.mypy_cache) keeps the runs after the first one fast.
TYPECHECK_FOLDERS := shared/tests gateway/tests $(sort $(wildcard services/*/tests)) "tests conftest.py" benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy
	@set -e; for folder in $(TYPECHECK_FOLDERS); do echo "mypy $$folder"; $(BIN)/mypy $$folder; done

check: lint typecheck

bench-gateway: $(STAMP)
	$(BIN)/python benchmarks/gateway.py

bench-welfare: $(STAMP)
	$(BIN)/python benchmarks/welfare_recalc.py

bench-eldercare: $(STAMP)
	$(BIN)/python benchmarks/eldercare_month.py

bench-load: $(STAMP)
	$(BIN)/python benchmarks/load.py

# Schemathesis over the merged OpenAPI with many more examples than `make test` uses.
fuzz-long: $(STAMP)
	FUZZ_MAX_EXAMPLES=500 $(BIN)/python -m platformctl test tests/test_fuzz_openapi.py

# Two gateways and two replicas of every service on one database and the machine's Redis.
test-replicas: $(STAMP)
	$(BIN)/python -m platformctl test tests/test_replicas.py

clean-data:
	rm -rf .data
