"""Reading alerts and the scopes that filter them (what the alert API lists and shows)."""

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from records.alerts import Alert, AlertPerson
from records.people import Area, Guardianship, Staff
from records.types import AlertStatus, Severity, StaffRole


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Which alerts to list; empty collections mean no restriction. `area_ids` and
    `person_ids` together scope a viewer (an alert matches if it is in either)."""

    statuses: Collection[AlertStatus] = ()
    severities: Collection[Severity] = ()
    types: Collection[str] = ()
    area_ids: Collection[int] = ()
    person_ids: Collection[int] = ()
    site: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None
    """Keyset pagination: only alerts with a smaller id (newest first)."""
    limit: int = field(default=100)


def get_alert(session: Session, alert_id: int) -> Alert | None:
    """One alert with its persons, events (timeline) and transitions (audit trail)."""
    return session.scalars(
        select(Alert)
        .where(Alert.id == alert_id)
        .options(
            selectinload(Alert.persons),
            selectinload(Alert.events),
            selectinload(Alert.transitions),
        )
    ).one_or_none()


def alerts_query(criteria: AlertFilter) -> Select[Alert]:
    """The SELECT behind `list_alerts`, for callers that add to it (counts, statistics)."""
    query = select(Alert)
    if criteria.statuses:
        query = query.where(Alert.status.in_(list(criteria.statuses)))
    if criteria.severities:
        query = query.where(Alert.severity.in_(list(criteria.severities)))
    if criteria.types:
        query = query.where(Alert.type.in_(list(criteria.types)))
    if criteria.area_ids or criteria.person_ids:
        about_wards = select(AlertPerson.alert_id).where(
            AlertPerson.person_id.in_(list(criteria.person_ids))
        )
        query = query.where(Alert.area_id.in_(list(criteria.area_ids)) | Alert.id.in_(about_wards))
    if criteria.site:
        query = query.where(Alert.site == criteria.site)
    if criteria.since:
        query = query.where(Alert.created_at >= criteria.since)
    if criteria.until:
        query = query.where(Alert.created_at < criteria.until)
    if criteria.before_id is not None:
        query = query.where(Alert.id < criteria.before_id)
    return query


def list_alerts(session: Session, criteria: AlertFilter) -> list[Alert]:
    """Alerts matching `criteria`, newest first, with their persons loaded."""
    query = (
        alerts_query(criteria)
        .options(selectinload(Alert.persons))
        .order_by(Alert.id.desc())
        .limit(criteria.limit)
    )
    return list(session.scalars(query))


def area_subtree_ids(session: Session, area_ids: Collection[int]) -> set[int]:
    """The areas and every area below them (a town's villages and grids): a staff scope."""
    found = set(area_ids)
    frontier = set(area_ids)
    while frontier:
        children = set(session.scalars(select(Area.id).where(Area.parent_id.in_(frontier))))
        frontier = children - found
        found |= frontier
    return found


def ward_ids(session: Session, guardian_id: int) -> set[int]:
    """Ids of the persons a guardian looks after: a guardian's scope."""
    return set(
        session.scalars(
            select(Guardianship.person_id).where(Guardianship.guardian_id == guardian_id)
        )
    )


def nearest_staff(
    session: Session, area_ids: Collection[int], roles: Collection[StaffRole]
) -> dict[StaffRole, list[Staff]]:
    """Active staff of each role at the nearest area that has any, from each of `area_ids`
    upwards (closest first, by name; none: an empty list)."""
    chains = [area_chain(session, area_id) for area_id in sorted(set(area_ids))]
    wanted = {a for chain in chains for a in chain}
    staff = session.scalars(
        select(Staff)
        .where(Staff.area_id.in_(sorted(wanted)), Staff.role.in_(list(roles)), Staff.active)
        .order_by(Staff.name, Staff.id)
    ).all()
    found: dict[StaffRole, list[Staff]] = {role: [] for role in roles}
    for role in roles:
        for chain in chains:
            nearest = next(
                (
                    people
                    for a in chain
                    if (people := [s for s in staff if s.role is role and s.area_id == a])
                ),
                [],
            )
            found[role] += [s for s in nearest if s not in found[role]]
    return found


def area_chain(session: Session, area_id: int) -> list[int]:
    """The area and those above it, nearest first."""
    chain, current = [], session.get(Area, area_id)
    while current is not None:
        chain.append(current.id)
        current = current.parent
    return chain


def staff_covering(
    session: Session, area_ids: Collection[int], roles: Collection[StaffRole]
) -> list[Staff]:
    """Active staff of `roles` serving any of `area_ids` or an area above them, nearest first
    (fewest levels up from one of them), then by name."""
    distance: dict[int, int] = {}
    for area_id in set(area_ids):
        for steps, above in enumerate(area_chain(session, area_id)):
            distance[above] = min(steps, distance.get(above, steps))
    staff = session.scalars(
        select(Staff)
        .options(selectinload(Staff.area))
        .where(Staff.area_id.in_(sorted(distance)), Staff.role.in_(list(roles)), Staff.active)
    ).all()
    return sorted(staff, key=lambda s: (distance[s.area_id], s.name, s.id))
