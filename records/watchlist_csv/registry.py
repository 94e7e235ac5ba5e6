"""The CSV kinds by name."""

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
