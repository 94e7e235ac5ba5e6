"""What a user may see: every alert (admin), the alerts of some areas (staff), or the alerts
about some persons (a guardian's wards)."""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import HTTPException, status
from sqlalchemy import ColumnElement, Select, false, select, true
from sqlalchemy.orm import QueryableAttribute, Session

from records.alerts import Alert, AlertPerson
from records.people import Area, Staff
from records.queries import area_subtree_ids, ward_ids
from records.users import STAFF_ROLES, User, UserRole

Query = TypeVar("Query", bound=Select[Any])
NO_AREA = "`area_id` is no area in the viewer's scope."


@dataclass(frozen=True, slots=True)
class Scope:
    """A viewer's scope. Empty (no areas, no persons, not `everything`) sees nothing."""

    everything: bool = False
    area_ids: frozenset[int] = frozenset()
    person_ids: frozenset[int] = frozenset()

    def sees(self, area_id: int | None, person_ids: Collection[int]) -> bool:
        """Whether an alert in `area_id` about `person_ids` is visible."""
        if self.everything:
            return True
        in_area = area_id is not None and area_id in self.area_ids
        return in_area or not self.person_ids.isdisjoint(person_ids)

    def sees_area(self, area_id: int | None) -> bool:
        """Whether records of `area_id` (households, persons, staff) are visible."""
        return self.everything or (area_id is not None and area_id in self.area_ids)

    def alert_condition(self) -> ColumnElement[bool]:
        """SQL condition selecting the visible alerts."""
        if self.everything:
            return true()
        conditions: list[ColumnElement[bool]] = []
        if self.area_ids:
            conditions.append(Alert.area_id.in_(sorted(self.area_ids)))
        if self.person_ids:
            about = select(AlertPerson.alert_id).where(
                AlertPerson.person_id.in_(sorted(self.person_ids))
            )
            conditions.append(Alert.id.in_(about))
        if not conditions:
            return false()
        return conditions[0] if len(conditions) == 1 else conditions[0] | conditions[1]

    def restrict(self, query: Query) -> Query:
        """`query` limited to the visible alerts."""
        return query if self.everything else query.where(self.alert_condition())

    def area_condition(self, column: QueryableAttribute[Any]) -> ColumnElement[bool]:
        """SQL condition on an area id column (watch-list records)."""
        if self.everything:
            return true()
        return column.in_(sorted(self.area_ids)) if self.area_ids else false()


def scope_of(session: Session, user: User) -> Scope:
    """The scope of `user`: admins everything, staff their area and below, guardians their
    wards; a staff role whose staff record is inactive sees nothing."""
    if user.role is UserRole.ADMIN:
        return Scope(everything=True)
    if user.role is UserRole.GUARDIAN:
        if user.guardian_id is None:
            return Scope()
        return Scope(person_ids=frozenset(ward_ids(session, user.guardian_id)))
    if user.role in STAFF_ROLES and user.staff_id is not None:
        staff = session.get(Staff, user.staff_id)
        if staff is not None and staff.active:
            return Scope(area_ids=frozenset(area_subtree_ids(session, {staff.area_id})))
    return Scope()


def visible_area(session: Session, scope: Scope, area_id: int) -> Area:
    """The area `area_id` if `scope` sees it, else 404 `no area <id>` (as for an alert: never
    revealing whether it exists)."""
    area = session.get(Area, area_id)
    if area is None or not scope.sees_area(area.id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no area {area_id}")
    return area
