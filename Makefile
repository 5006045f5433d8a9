# Entry points: `make run` starts the app for one person, `make serve` for a class (with logins),
# `make test` runs the suite (`make test-fast`: its quick tier).
# Both create .venv on first use and reinstall when a requirements file changes.
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: run serve test test-fast bench demo-checkpoints

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

# A laptop: this machine only, no login.
run: $(VENV)/.installed
	$(VENV)/bin/streamlit run app.py --server.address 127.0.0.1

# A class server: every interface, and everyone logs in with an account from the roster
# (python -m genlab class add NAME [--teacher]). PORT=8501 by default. PROCS=N (N > 1): N app
# processes behind nginx on PORT, sharing the runs and the roster (deploy/class_server.py).
PORT ?= 8501
PROCS ?= 1
serve: $(VENV)/.installed
ifeq ($(PROCS),1)
	GENLAB_CLASS=1 $(VENV)/bin/streamlit run app.py --server.address 0.0.0.0 --server.port $(PORT)
else
	$(PY) deploy/class_server.py --processes $(PROCS) --port $(PORT)
endif

test: $(VENV)/.installed-dev
	$(PY) -m pytest -q -n 2 --dist loadgroup

# The edit-test loop: everything but the tests marked slow, two at a time (pytest-xdist).
test-fast: $(VENV)/.installed-dev
	$(PY) -m pytest -q -m "not slow" -n 2 --dist loadgroup

bench: $(VENV)/.installed-dev
	$(PY) benchmarks/train_speed.py
	$(PY) benchmarks/ui_latency.py
	$(PY) benchmarks/lab_rate.py

# Retrain the demo runs that ship in checkpoints/ (about 15 minutes on a 2-core CPU).
demo-checkpoints: $(VENV)/.installed
	$(PY) -m genlab.teaching.demos --out checkpoints
