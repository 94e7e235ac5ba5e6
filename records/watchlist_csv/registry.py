"""The CSV kinds by name."""

from records.refusals import Language
from records.watchlist_csv.areas import AreasCsv
from records.watchlist_csv.cameras import CamerasCsv
from records.watchlist_csv.devices import DevicesCsv
from records.watchlist_csv.guardians import GuardiansCsv
from records.watchlist_csv.kinds import CsvKind
from records.watchlist_csv.persons import PersonsCsv
from records.watchlist_csv.sites import SitesCsv
from records.watchlist_csv.staff import StaffCsv

KINDS: dict[str, type[CsvKind]] = {
    kind.name: kind
    for kind in (AreasCsv, SitesCsv, StaffCsv, PersonsCsv, GuardiansCsv, CamerasCsv, DevicesCsv)
}
"""In the order a new deployment imports them (later kinds refer to earlier ones)."""


def column_label(kind: str, column: str, language: Language) -> str:
    """How a column of `kind` is named to people in `language` (its Chinese header in zh)."""
    if language == "en":
        return column
    return next((c.zh for c in KINDS[kind].columns if c.name == column), column)
