# Two entry points: `make run` starts the app, `make test` runs the suite (`make test-fast`: its quick tier).
# Both create .venv on first use and reinstall when a requirements file changes.
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: run test test-fast bench demo-checkpoints

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	$(VENV)/bin/streamlit run app.py

test: $(VENV)/.installed-dev
	$(PY) -m pytest -q

# The edit-test loop: everything but the tests marked slow (under a minute on 2 cores).
test-fast: $(VENV)/.installed-dev
	$(PY) -m pytest -q -m "not slow"

bench: $(VENV)/.installed-dev
	$(PY) benchmarks/train_speed.py
	$(PY) benchmarks/ui_latency.py
	$(PY) benchmarks/lab_rate.py

# Retrain the demo runs that ship in checkpoints/ (about 15 minutes on a 2-core CPU).
demo-checkpoints: $(VENV)/.installed
	$(PY) -m genlab.teaching.demos --out checkpoints
