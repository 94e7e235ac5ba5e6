"""Every top-level package is under the layering contracts that `make lint` checks with
import-linter, and in every list of packages (setuptools, mypy): a new package fails here until
it is placed (docs/architecture.md, "Adding a package")."""

from fnmatch import fnmatch

from tests.helpers.packages import pyproject, top_level_packages

HOW = "see docs/architecture.md, 'Adding a package'"


def _contract(config: dict, contract_id: str) -> dict:
    (contract,) = (c for c in config["contracts"] if c["id"] == contract_id)
    return contract


def test_every_package_is_analysed_and_in_exactly_one_layer() -> None:
    linter = pyproject()["tool"]["importlinter"]
    assert sorted(linter["root_packages"]) == top_level_packages(), HOW
    layers = [
        {name.strip() for name in layer.replace(":", "|").split("|")}
        for layer in _contract(linter, "layers")["layers"]
    ]
    for package in top_level_packages():
        found = [layer for layer in layers if package in layer]
        assert len(found) == 1, f"{package} must be in one layer of the 'layers' contract; {HOW}"


def test_the_kernel_and_application_sit_at_the_ends_and_services_are_independent() -> None:
    layers = _contract(pyproject()["tool"]["importlinter"], "layers")["layers"]
    assert layers[0] == "shouwang_cli" and layers[-2:] == ["records", "shouwang"]
    assert ":" not in layers[1], "services must not import each other"


def test_services_outside_the_kernel_only_contract_are_exactly_those_using_records() -> None:
    linter = pyproject()["tool"]["importlinter"]
    services = {name.strip() for name in _contract(linter, "layers")["layers"][1].split("|")}
    kernel_only = set(_contract(linter, "kernel-only")["source_modules"])
    assert kernel_only <= services
    protected = _contract(linter, "public-surface")
    assert set(protected["protected_modules"]) == services, HOW
    assert set(protected["allowed_importers"]) == services, HOW
    # What may use records is a decision written down with its reason, per package.
    assert services - kernel_only == {"rules", "alert_api", "notify", "cameras"}, HOW


def test_every_package_is_installed_and_type_checked() -> None:
    config = pyproject()["tool"]
    include = config["setuptools"]["packages"]["find"]["include"]
    for package in top_level_packages():
        assert any(fnmatch(package, pattern) for pattern in include), f"{package}: setuptools"
        assert package in config["mypy"]["packages"], f"{package}: mypy packages"
