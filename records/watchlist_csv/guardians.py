"""`guardians` CSV: who looks after each watch-list person, and how to reach them."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from records.people import Guardian, Guardianship, Person
from records.watchlist_csv import cells
from records.watchlist_csv.cells import Cells
from records.watchlist_csv.kinds import Column, CsvKind, joined


@dataclass(frozen=True, slots=True)
class GuardianRow:
    person_code: str
    name: str
    phone: str
    relation: str
    channels: list[str]


class GuardiansCsv(CsvKind):
    """One row per (person, guardian). A guardian is one record per phone number, however
    many persons they look after; an empty `channels` cell keeps the channels they have."""

    name = "guardians"
    columns = (
        Column("person_code", "人员编号", ("被监护人编号",), required=True),
        Column("name", "监护人姓名", ("姓名", "监护人"), required=True),
        Column("phone", "电话", ("手机", "联系电话", "监护人电话"), required=True),
        Column("relation", "关系", ("与被监护人关系",)),
        Column("channels", "通知渠道", ()),
    )

    def load(self) -> None:
        self.persons: dict[str, int] = {
            code: id_ for code, id_ in self.session.execute(select(Person.code, Person.id))
        }
        self.pairs: dict[tuple[str, str], int] = {}
        self.names: dict[str, tuple[str, int]] = {}

    def check(self, row: Cells) -> GuardianRow | None:
        person = row.get("person_code", cells.code)
        name = row.get("name", cells.text, required=True)
        phone = row.get("phone", cells.phone)
        relation = row.get("relation", cells.text, max_len=50)
        channels = row.get("channels", cells.channels)
        if person and person not in self.persons:
            row.fail("person_code", "no_person")
        if person and phone and (person, phone) in self.pairs:
            row.fail("phone", "guardian_twice", person=person, line=self.pairs[(person, phone)])
        if phone and name and phone in self.names and self.names[phone][0] != name:
            earlier, line = self.names[phone]
            row.fail("name", "phone_owner", phone=phone, name=earlier, line=line)
        if row.errors:
            return None
        self.pairs[(person, phone)] = row.line
        self.names.setdefault(phone, (name, row.line))
        return GuardianRow(person, name, phone, relation, channels)

    def apply(self, items: list[GuardianRow]) -> tuple[int, int]:
        phones = {item.phone for item in items}
        guardians = {
            g.phone: g
            for g in self.session.scalars(select(Guardian).where(Guardian.phone.in_(phones)))
        }
        for item in items:
            guardian = guardians.get(item.phone)
            if guardian is None:
                guardian = guardians[item.phone] = Guardian(phone=item.phone, channels=[])
                self.session.add(guardian)
            guardian.name = item.name
            if item.channels:
                guardian.channels = item.channels
        self.session.flush()
        links = {
            (g.person_id, g.guardian_id): g
            for g in self.session.scalars(
                select(Guardianship).where(
                    Guardianship.guardian_id.in_([g.id for g in guardians.values()])
                )
            )
        }
        created = updated = 0
        for item in items:
            key = (self.persons[item.person_code], guardians[item.phone].id)
            link = links.get(key)
            if link is None:
                link = links[key] = Guardianship(person_id=key[0], guardian_id=key[1])
                self.session.add(link)
                created += 1
            else:
                updated += 1
            link.relation = item.relation
        return created, updated

    def export(self) -> Iterable[dict[str, str]]:
        query = (
            select(Person.code, Guardian, Guardianship.relation)
            .join(Guardianship, Guardianship.person_id == Person.id)
            .join(Guardian, Guardian.id == Guardianship.guardian_id)
            .order_by(Person.code, Guardian.phone)
        )
        for person_code, guardian, relation in self.session.execute(query):
            yield {
                "person_code": person_code,
                "name": guardian.name,
                "phone": guardian.phone,
                "relation": relation,
                "channels": joined(guardian.channels),
            }
