"""Statistics the back office is judged on: counts, the 1-3-5 shares (acknowledged within 1
minute, someone on site within 3 and 5), time to acknowledge, to arrive and to resolve (median,
p90) and resolution rate, per grid, village, town, county or day; as JSON or CSV."""

import csv
import io
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from operator import attrgetter
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from alert_api.context import AppContext
from alert_api.params import MAX_ID, NAME_PATTERN, aware
from alert_api.scope import NO_AREA, visible_area
from alert_api.viewer import Context, CurrentViewer, Viewer
from records.alerts import Alert
from records.base import utcnow
from records.queries import AlertFilter, alerts_query, area_subtree_ids
from records.types import AlertStatus, Severity
from records.watchlist_csv.encoding import encode

router = APIRouter(prefix="/api/stats", tags=["statistics"])

GroupBy = Literal["grid", "village", "town", "county", "day"]
MAX_DAYS = 366
URGENT = frozenset({Severity.HIGH, Severity.CRITICAL})
"""The severities the 1-3-5 circle promises a response to."""
ACK_WITHIN_S = 60.0
ON_SITE_WITHIN_S = (180.0, 300.0)


class GroupStats(BaseModel):
    """Numbers for one group (or all alerts of the window)."""

    key: str = Field(description="Area code or local date (YYYY-MM-DD); `all` for the totals.")
    label: str
    count: int
    by_status: dict[str, int]
    by_severity: dict[str, int]
    acknowledged: int = Field(description="Alerts acknowledged so far.")
    resolved: int = Field(description="Alerts resolved (whatever happened after).")
    false_alarms: int
    open: int = Field(description="Alerts still new, acknowledged or dispatched.")
    urgent: int = Field(
        description="High and critical alerts that were not false alarms: what the 1-3-5 "
        "shares are of."
    )
    ack_within_1m: float | None = Field(
        description="Share of the urgent alerts acknowledged within 1 minute of being raised."
    )
    on_site_within_3m: float | None = Field(
        description="Share of the urgent alerts with someone on site (已到场) within 3 minutes."
    )
    on_site_within_5m: float | None = Field(
        description="Share of the urgent alerts with someone on site within 5 minutes."
    )
    arrived: int = Field(description="Alerts someone was on site for.")
    ack_median_s: float | None = Field(description="Median time from raised to acknowledged.")
    ack_p90_s: float | None
    arrival_median_s: float | None = Field(description="Median time from raised to on site.")
    arrival_p90_s: float | None
    resolve_median_s: float | None = Field(description="Median time from raised to resolved.")
    resolve_p90_s: float | None
    resolution_rate: float | None = Field(
        description="resolved ÷ (count − false alarms); null when that is 0."
    )


class StatsOut(BaseModel):
    """Statistics over alerts raised in [since, until)."""

    since: datetime
    until: datetime
    group_by: GroupBy
    area: str | None = Field(
        description="The code of the area counted, with the areas below it (`area_id`); null: "
        "the viewer's whole scope."
    )
    totals: GroupStats
    groups: list[GroupStats]


@dataclass(frozen=True, slots=True)
class Row:
    """The columns statistics need of one alert."""

    area_id: int | None
    status: AlertStatus
    severity: Severity
    created_at: datetime
    acknowledged_at: datetime | None
    arrived_at: datetime | None
    resolved_at: datetime | None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0..1) with linear interpolation between closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return round(value, 3)


def _after(row: Row, at: datetime | None) -> float | None:
    """Seconds from the alert being raised to `at` (None: not yet)."""
    return (at - row.created_at).total_seconds() if at else None


def share(
    rows: Sequence[Row], within_s: float, at: Callable[[Row], datetime | None]
) -> float | None:
    """The share of `rows` whose time `at` came within `within_s` of being raised (None: no
    rows)."""
    if not rows:
        return None
    met = sum(
        1 for row in rows if (after := _after(row, at(row))) is not None and after <= within_s
    )
    return round(met / len(rows), 4)


def summarise(key: str, label: str, rows: Iterable[Row]) -> GroupStats:
    """The numbers of one group."""
    rows = list(rows)
    by_status: dict[str, int] = defaultdict(int)
    by_severity: dict[str, int] = defaultdict(int)
    ack: list[float] = []
    arrival: list[float] = []
    resolve: list[float] = []
    for row in rows:
        by_status[row.status.value] += 1
        by_severity[row.severity.value] += 1
        for times, at in (
            (ack, row.acknowledged_at),
            (arrival, row.arrived_at),
            (resolve, row.resolved_at),
        ):
            if (after := _after(row, at)) is not None:
                times.append(after)
    urgent = [
        row for row in rows if row.severity in URGENT and row.status is not AlertStatus.FALSE_ALARM
    ]
    false_alarms = by_status.get(AlertStatus.FALSE_ALARM.value, 0)
    real = len(rows) - false_alarms
    open_count = sum(
        by_status.get(s.value, 0)
        for s in (AlertStatus.NEW, AlertStatus.ACKNOWLEDGED, AlertStatus.DISPATCHED)
    )
    return GroupStats(
        key=key,
        label=label,
        count=len(rows),
        by_status=dict(by_status),
        by_severity=dict(by_severity),
        acknowledged=len(ack),
        resolved=len(resolve),
        false_alarms=false_alarms,
        open=open_count,
        urgent=len(urgent),
        ack_within_1m=share(urgent, ACK_WITHIN_S, attrgetter("acknowledged_at")),
        on_site_within_3m=share(urgent, ON_SITE_WITHIN_S[0], attrgetter("arrived_at")),
        on_site_within_5m=share(urgent, ON_SITE_WITHIN_S[1], attrgetter("arrived_at")),
        arrived=len(arrival),
        ack_median_s=percentile(ack, 0.5),
        ack_p90_s=percentile(ack, 0.9),
        arrival_median_s=percentile(arrival, 0.5),
        arrival_p90_s=percentile(arrival, 0.9),
        resolve_median_s=percentile(resolve, 0.5),
        resolve_p90_s=percentile(resolve, 0.9),
        resolution_rate=round(len(resolve) / real, 4) if real else None,
    )


def group_rows(
    context: AppContext, rows: list[Row], group_by: GroupBy, since: datetime, until: datetime
) -> list[GroupStats]:
    """The rows' statistics per area at a level, or per local day (every day of the window)."""
    groups: dict[str, list[Row]] = defaultdict(list)
    labels: dict[str, str] = {}
    if group_by == "day":
        first = since.astimezone(context.zone).date()
        last = (until - timedelta(microseconds=1)).astimezone(context.zone).date()
        day: date = first
        while day <= last:
            labels[day.isoformat()] = day.isoformat()
            day += timedelta(days=1)
        for row in rows:
            groups[row.created_at.astimezone(context.zone).date().isoformat()].append(row)
        return [summarise(key, label, groups[key]) for key, label in labels.items()]
    for row in rows:
        area = context.areas.ancestor(row.area_id, group_by)
        key = area.code if area else "-"
        labels[key] = area.name if area else "-"
        groups[key].append(row)
    return [summarise(key, labels[key], groups[key]) for key in sorted(groups)]


@dataclass(frozen=True, slots=True)
class StatsQuery:
    """What statistics to compute: the grouping, the window and the alerts counted."""

    group_by: GroupBy
    since: datetime | None
    until: datetime | None
    area_id: int | None
    severity: list[Severity]
    type_: list[str]


def stats_query(
    group_by: Annotated[GroupBy, Query(description="grid, village, town, county or day.")] = "day",
    since: Annotated[datetime | None, Query(description="Default: 7 days before `until`.")] = None,
    until: Annotated[datetime | None, Query(description="Default: now.")] = None,
    area_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="This area and below (one in the viewer's scope)."),
    ] = None,
    severity: Annotated[list[Severity], Query()] = [],  # noqa: B006
    type_: Annotated[list[Annotated[str, Query(pattern=NAME_PATTERN)]], Query(alias="type")] = [],  # noqa: B006
) -> StatsQuery:
    """The statistics' query parameters."""
    return StatsQuery(group_by, since, until, area_id, severity, type_)


Params = Annotated[StatsQuery, Depends(stats_query)]


def compute(context: AppContext, viewer: Viewer, params: StatsQuery) -> StatsOut:
    """Statistics of the alerts the viewer may see that were raised in the window (and in
    the area, if asked: 404 for one outside the viewer's scope, as for an alert)."""
    end = aware(params.until, context.zone) or utcnow()
    start = aware(params.since, context.zone) or end - timedelta(days=7)
    if start >= end:
        raise HTTPException(422, "since must be before until")
    if params.group_by == "day" and end - start > timedelta(days=MAX_DAYS):
        raise HTTPException(422, f"at most {MAX_DAYS} days per request")
    criteria = AlertFilter(severities=params.severity, types=params.type_, since=start, until=end)
    query = viewer.scope.restrict(alerts_query(criteria)).with_only_columns(
        Alert.area_id,
        Alert.status,
        Alert.severity,
        Alert.created_at,
        Alert.acknowledged_at,
        Alert.arrived_at,
        Alert.resolved_at,
    )
    area_code: str | None = None
    with context.reads() as session:
        if params.area_id is not None:
            area = visible_area(session, viewer.scope, params.area_id)
            area_code = area.code
            subtree = area_subtree_ids(session, {area.id})
            query = query.where(Alert.area_id.in_(sorted(subtree)))
        rows = [Row(*values) for values in session.execute(query)]
    return StatsOut(
        since=start,
        until=end,
        group_by=params.group_by,
        area=area_code,
        totals=summarise("all", "all", rows),
        groups=group_rows(context, rows, params.group_by, start, end),
    )


@router.get("", response_model=StatsOut, responses={404: {"description": NO_AREA}})
def get_stats(context: Context, viewer: CurrentViewer, params: Params) -> StatsOut:
    """Statistics of the alerts the viewer may see that were raised in the window."""
    return compute(context, viewer, params)


CSV_COLUMNS: tuple[tuple[str, str], ...] = (
    ("key", "编码"),
    ("label", "名称"),
    ("count", "告警数"),
    ("open", "未处理完"),
    ("false_alarms", "误报"),
    ("urgent", "紧急告警数"),
    ("ack_within_1m", "1分钟确认率"),
    ("on_site_within_3m", "3分钟到场率"),
    ("on_site_within_5m", "5分钟到场率"),
    ("ack_median_s", "确认用时中位数（秒）"),
    ("ack_p90_s", "确认用时P90（秒）"),
    ("arrived", "已到场数"),
    ("arrival_median_s", "到场用时中位数（秒）"),
    ("arrival_p90_s", "到场用时P90（秒）"),
    ("resolve_median_s", "处置用时中位数（秒）"),
    ("resolve_p90_s", "处置用时P90（秒）"),
    ("resolution_rate", "处置率"),
)
"""The CSV export's columns: the field and its Chinese header."""


@router.get(
    "/csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, 404: {"description": NO_AREA}},
)
def get_stats_csv(
    context: Context,
    viewer: CurrentViewer,
    params: Params,
    encoding: Literal["utf-8-sig", "gbk"] = "utf-8-sig",
    headers: Literal["en", "zh"] = "zh",
) -> Response:
    """The same statistics as a spreadsheet: a row per group, then the totals (`all`); shares
    as fractions, times in seconds, empty where there is nothing to measure; named after the
    grouping and the area, if one."""
    stats = compute(context, viewer, params)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([en if headers == "en" else zh for en, zh in CSV_COLUMNS])
    for group in [*stats.groups, stats.totals]:
        values = group.model_dump()
        writer.writerow(["" if values[name] is None else values[name] for name, _ in CSV_COLUMNS])
    charset = "gb18030" if encoding == "gbk" else "utf-8"
    area = f"-{stats.area}" if stats.area else ""
    name = f"stats{area}-{params.group_by}.csv"
    return Response(
        encode(buffer.getvalue(), encoding),
        media_type=f"text/csv; charset={charset}",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
