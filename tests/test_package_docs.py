"""The packages whose docstrings list their modules list each module that exists and none that
does not (rules/__init__.py once named a module removed long before)."""

import importlib
import pkgutil
import re

import pytest


@pytest.mark.parametrize("package", ["rules", "records"])
def test_the_module_list_is_the_package(package: str) -> None:
    module = importlib.import_module(package)
    listed = set(re.findall(r"`([a-z_]+)`", module.__doc__ or ""))
    present = {info.name for info in pkgutil.iter_modules(module.__path__)} - {"migrations"}
    assert listed - present == set(), "listed but not modules"
    assert present - listed == set(), "modules not listed"
