"""Statistics the back office is judged on: counts, time to acknowledge and to resolve (median,
p90) and resolution rate, per grid, village, town, county or day."""

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from alert_api.context import AppContext
from alert_api.params import MAX_ID, NAME_PATTERN, aware
from alert_api.viewer import Context, CurrentViewer
from records.alerts import Alert
from records.base import utcnow
from records.queries import AlertFilter, alerts_query, area_subtree_ids
from records.types import AlertStatus, Severity

router = APIRouter(prefix="/api/stats", tags=["statistics"])

GroupBy = Literal["grid", "village", "town", "county", "day"]
MAX_DAYS = 366


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
    ack_median_s: float | None = Field(description="Median time from raised to acknowledged.")
    ack_p90_s: float | None
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


def summarise(key: str, label: str, rows: Iterable[Row]) -> GroupStats:
    """The numbers of one group."""
    rows = list(rows)
    by_status: dict[str, int] = defaultdict(int)
    by_severity: dict[str, int] = defaultdict(int)
    ack: list[float] = []
    resolve: list[float] = []
    for row in rows:
        by_status[row.status.value] += 1
        by_severity[row.severity.value] += 1
        if row.acknowledged_at:
            ack.append((row.acknowledged_at - row.created_at).total_seconds())
        if row.resolved_at:
            resolve.append((row.resolved_at - row.created_at).total_seconds())
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
        ack_median_s=percentile(ack, 0.5),
        ack_p90_s=percentile(ack, 0.9),
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


@router.get("", response_model=StatsOut)
def get_stats(
    context: Context,
    viewer: CurrentViewer,
    group_by: Annotated[GroupBy, Query(description="grid, village, town, county or day.")] = "day",
    since: Annotated[datetime | None, Query(description="Default: 7 days before `until`.")] = None,
    until: Annotated[datetime | None, Query(description="Default: now.")] = None,
    area_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="This area and below.")
    ] = None,
    severity: Annotated[list[Severity], Query()] = [],  # noqa: B006
    type_: Annotated[list[Annotated[str, Query(pattern=NAME_PATTERN)]], Query(alias="type")] = [],  # noqa: B006
) -> StatsOut:
    """Statistics of the alerts the viewer may see that were raised in the window."""
    end = aware(until, context.zone) or utcnow()
    start = aware(since, context.zone) or end - timedelta(days=7)
    if start >= end:
        raise HTTPException(422, "since must be before until")
    if group_by == "day" and end - start > timedelta(days=MAX_DAYS):
        raise HTTPException(422, f"at most {MAX_DAYS} days per request")
    criteria = AlertFilter(severities=severity, types=type_, since=start, until=end)
    query = viewer.scope.restrict(alerts_query(criteria)).with_only_columns(
        Alert.area_id,
        Alert.status,
        Alert.severity,
        Alert.created_at,
        Alert.acknowledged_at,
        Alert.resolved_at,
    )
    with context.reads() as session:
        if area_id is not None:
            query = query.where(Alert.area_id.in_(sorted(area_subtree_ids(session, {area_id}))))
        rows = [Row(*values) for values in session.execute(query)]
    return StatsOut(
        since=start,
        until=end,
        group_by=group_by,
        totals=summarise("all", "all", rows),
        groups=group_rows(context, rows, group_by, start, end),
    )
