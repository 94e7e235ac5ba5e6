"""The rules stage: events stream → watch lists and rules → alerts, cooldown, escalation.

Modules, in the order an entry meets them (docs/architecture.md has the glossary): `consumer`
(the worker on the events stream's consumer group), `engine` (deciding a batch, firing timers),
`signals` (stream entries), `coverage` (who a source watches), `definitions` (the YAML rule
set), `windows` (time windows), `matching`, `alerting` (create or group, snapshots, ends),
`book` (the alerts a transaction changes, written in bulk), `sql`, `recipients`,
`notifications` (jobs), `escalation`, `holds` (conditions that must last), `ends` (ends decided
first), `cache`, `metrics`, `config`, `service` and `cli`.
"""
