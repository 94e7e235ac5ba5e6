"""CSV import and export of watch lists and the records around them, in UTF-8 or GBK.

Kinds (one file each): `areas`, `sites`, `staff`, `persons` (the watch list, with households and
the cameras/sensors covering them), `guardians` and `devices` (Zigbee2MQTT and Home Assistant
sensors). See docs/rules.md for the columns.
"""

from records.watchlist_csv.exporter import export_csv
from records.watchlist_csv.importer import import_csv
from records.watchlist_csv.registry import KINDS, column_label
from records.watchlist_csv.report import ImportReport, RowError

__all__ = ["KINDS", "ImportReport", "RowError", "column_label", "export_csv", "import_csv"]
