"""Who to call about an alert, at a glance: the persons' ledger (age, living alone,
conditions) with their guardians, and the nearest grid worker and duty office."""

from collections.abc import Collection, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from records.people import Person
from records.queries import nearest_staff
from records.types import StaffRole

CALLED_STAFF = (StaffRole.GRID_WORKER, StaffRole.DUTY_OFFICER)
"""The staff a page offers to call: the grid worker, then the duty office."""


class Contact(BaseModel):
    """Someone to call (a `tel:` link on the pages)."""

    name: str
    phone: str
    role: str = Field(description="`guardian`, `grid_worker` or `duty_officer`.")
    relation: str = Field("", description="A guardian's relation to the person (女儿…).")


def age(person: Person, zone: ZoneInfo, now: datetime) -> int | None:
    """The person's age this year, from the birth year (None: not recorded)."""
    return now.astimezone(zone).year - person.birth_year if person.birth_year else None


def guardians_of(person: Person) -> list[Contact]:
    """The person's guardians (guardianships and guardians loaded), by name."""
    return sorted(
        (
            Contact(
                name=g.guardian.name, phone=g.guardian.phone, role="guardian", relation=g.relation
            )
            for g in person.guardianships
        ),
        key=lambda c: (c.name, c.phone),
    )


def staff_contacts(session: Session, area_ids: Collection[int]) -> list[Contact]:
    """The nearest grid workers and duty offices of these areas that have a phone."""
    found = nearest_staff(session, area_ids, CALLED_STAFF)
    return [
        Contact(name=s.name, phone=s.phone, role=role.value)
        for role in CALLED_STAFF
        for s in found[role]
        if s.phone
    ]


def area_ids_of(persons: Sequence[Person], alert_area: int | None) -> set[int]:
    """The areas whose staff serve an alert: its area, else its persons' grids."""
    return {alert_area} if alert_area is not None else {p.household.area_id for p in persons}
