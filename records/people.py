"""Watch-list tables: the administrative hierarchy, sites, households, persons, guardians,
staff, and which cameras, zones and sensors cover whom."""

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from records.base import Base, UtcDateTime, str_enum, utcnow
from records.types import AreaLevel, Category, SourceKind, StaffRole


class Area(Base):
    """A county, town, village or grid (网格), with its parent one level up."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[AreaLevel] = mapped_column(str_enum(AreaLevel))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)

    parent: Mapped["Area | None"] = relationship(remote_side=[id])


class Site(Base):
    """A Shouwang installation (the `site` of the wire contract) and the area it serves."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)

    area: Mapped[Area | None] = relationship()


class Household(Base):
    """A household (户) at an address, in a grid."""

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)

    area: Mapped[Area] = relationship()
    persons: Mapped[list["Person"]] = relationship(back_populates="household")


class Person(Base):
    """A watch-list person: an elder or a child, with what the rules and the carers need."""

    __tablename__ = "persons"
    __table_args__ = (CheckConstraint("risk_level BETWEEN 1 AND 4", name="risk_level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[Category] = mapped_column(str_enum(Category))
    birth_year: Mapped[int | None]
    conditions: Mapped[list[str]] = mapped_column(default=list)
    risk_level: Mapped[int] = mapped_column(default=1)
    lives_alone: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    household: Mapped[Household] = relationship(back_populates="persons")
    guardianships: Mapped[list["Guardianship"]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )


class Guardian(Base):
    """A family member or neighbour who looks after one or more persons; one row per phone."""

    __tablename__ = "guardians"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    channels: Mapped[list[str]] = mapped_column(default=list)
    """Where notifications go: `webpush` and/or apprise URLs (dingtalk://, wecom://, …)."""

    guardianships: Mapped[list["Guardianship"]] = relationship(
        back_populates="guardian", cascade="all, delete-orphan"
    )


class Guardianship(Base):
    """That a guardian looks after a person, and how they are related."""

    __tablename__ = "guardianships"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True
    )
    guardian_id: Mapped[int] = mapped_column(
        ForeignKey("guardians.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    relation: Mapped[str] = mapped_column(String(50), default="")

    person: Mapped[Person] = relationship(back_populates="guardianships")
    guardian: Mapped[Guardian] = relationship(back_populates="guardianships")


class Staff(Base):
    """A grid worker (serves a grid), duty officer or police contact (serves a town/county)."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32), default="")
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    channels: Mapped[list[str]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)

    area: Mapped[Area] = relationship()


class Coverage(Base):
    """A camera (or one zone of it), sensor or edge that watches a household or a person."""

    __tablename__ = "coverage"
    __table_args__ = (
        CheckConstraint(
            "(household_id IS NULL) <> (person_id IS NULL)", name="household_xor_person"
        ),
        Index("ix_coverage_lookup", "site", "source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    source_kind: Mapped[SourceKind] = mapped_column(str_enum(SourceKind))
    source: Mapped[str] = mapped_column(String(64))
    zone: Mapped[str | None] = mapped_column(String(64))
    """Only events in this zone count; null means the whole camera."""
    household_id: Mapped[int | None] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), index=True
    )


class WatchlistChange(Base):
    """The audit trail of the watch lists: who wrote what, when, from a CSV upload or a
    browser form (the form's row, column by column; a file's name and counts)."""

    __tablename__ = "watchlist_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    actor_id: Mapped[int | None]
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    """`form` or `csv`."""
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The form's row by column name, or the file's `name`."""
