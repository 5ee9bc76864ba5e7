# The two commands a newcomer needs (see README):
#   make demo   - virtualenv + install + migrate + demo data + runserver on SQLite (no services)
#   make test   - virtualenv if needed + the test suite on SQLite (no services)
# Everything else here is a convenience for contributors.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
DEMO_ORDERS ?= 20000
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres
MYSQL_URL ?= mysql://root@127.0.0.1:3306/mysql
REDIS_URL_TEST ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=

.PHONY: venv venv-mysql vendor demo test test-postgres test-mariadb test-browser test-slow lint typecheck migrations-check check \
	clean bench bench-mariadb bench-tools replica replica-stop bouncer bouncer-stop

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

venv: $(BIN)/.installed

# mysqlclient (the `mysql` extra) builds from source: Debian's default-libmysqlclient-dev and
# pkg-config first. Only the MariaDB pass needs it.
$(BIN)/.installed-mysql: pyproject.toml $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e ".[dev,mysql]"
	touch $@

venv-mysql: $(BIN)/.installed-mysql

demo: venv
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo_data --orders $(DEMO_ORDERS)
	@echo ""
	@echo "  prismiq_django demo: http://$(HOST):$(PORT)/  (log in, then the dashboards)"
	@echo "  login:               demo / demo  (the login page at /accounts/login/)"
	@echo "  query builder:       http://$(HOST):$(PORT)/analytics/query/"
	@echo "  API (Swagger UI):    http://$(HOST):$(PORT)/api/analytics/docs/  (after logging in)"
	@echo "  admin:               http://$(HOST):$(PORT)/admin/"
	@echo ""
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# SQLite + locmem cache, whatever DATABASE_URL / REDIS_URL the shell has.
test: venv
	env -u DATABASE_URL -u REDIS_URL -u PRISMIQ_REQUIRE_SERVICES $(BIN)/python -m pytest $(PYTEST_ARGS)

# The same suite on real PostgreSQL + Redis; fails (does not skip) when either is unreachable.
test-postgres: venv
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_URL_TEST) PRISMIQ_REQUIRE_SERVICES=1 \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

# The same suite on real MySQL/MariaDB + Redis (mysqlclient, the `mysql` extra); fails (does not
# skip) when either is unreachable. The URL names the server: the tests create their own database.
test-mariadb: venv-mysql
	DATABASE_URL=$(MYSQL_URL) REDIS_URL=$(REDIS_URL_TEST) PRISMIQ_REQUIRE_SERVICES=1 \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

# The browser tests (tests/browser/): Debian's Chromium (/usr/bin/chromium, never a downloaded
# browser) driven by Playwright against a live server on PostgreSQL + Redis. Deselected in the
# passes above. Screenshots land in docs/screenshots/.
test-browser: venv
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_URL_TEST) PRISMIQ_REQUIRE_SERVICES=1 PRISMIQ_BROWSER_TESTS=1 \
		$(BIN)/python -m pytest --ds=tests.browser.settings tests/browser $(PYTEST_ARGS)

# The long property runs (tests marked slow: 10,000 generated queries over tenant-scoped tables)
# on PostgreSQL + Redis; deselected in every other pass. They print their counts (-s).
test-slow: venv
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_URL_TEST) PRISMIQ_REQUIRE_SERVICES=1 PRISMIQ_SLOW_TESTS=1 \
		$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

# Browser libraries from npm (versions pinned in package.json, tarballs in package-lock.json),
# copied with their licences into prismiq_django/static/prismiq_django/vendor/ (committed).
vendor:
	npm ci --no-audit --no-fund
	$(PYTHON) scripts/vendor_static.py

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

migrations-check: venv
	mkdir -p var
	$(BIN)/python manage.py makemigrations --check --dry-run

check: test test-postgres test-mariadb lint typecheck migrations-check

# The end-to-end benchmark (benchmarks/README.md); BENCH_ARGS="--orders 250000 ..." to change it.
# bench-tools installs wrk, the load generator it prefers (Debian/Ubuntu; as root, or SUDO=sudo).
BENCH_ARGS ?=
SUDO ?=
bench-tools:
	command -v wrk >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y wrk; }

bench: venv
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# The same workloads on the local MariaDB, ratios to mysqlclient (benchmarks/README.md).
bench-mariadb: venv-mysql
	$(BIN)/python benchmarks/mariadb.py $(BENCH_ARGS)

# A streaming replica of the local PostgreSQL on 127.0.0.1:5433 (scripts/pg-replica; REPLICA_DIR,
# REPLICA_PORT to change where): created with pg_basebackup -R, started, waited for until it streams.
replica:
	scripts/pg-replica start

replica-stop:
	scripts/pg-replica stop

# PgBouncer (Debian's pgbouncer) in transaction pooling mode on 127.0.0.1:6432 in front of the
# local PostgreSQL, one server connection per database (scripts/pg-bouncer; BOUNCER_PORT, BOUNCER_DIR).
bouncer:
	scripts/pg-bouncer start

bouncer-stop:
	scripts/pg-bouncer stop

# Analytics on the replica (or through PgBouncer), app models on the primary, 2 gunicorn workers
# sharing Redis (tests marked scaleout; deselected everywhere else). Starts the replica and PgBouncer.
test-scaleout: venv replica bouncer
	REDIS_URL=$(REDIS_URL_TEST) PRISMIQ_SCALEOUT=1 $(BIN)/python -m pytest tests/scaleout -m scaleout $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis *.egg-info
