"""The rules stage: events stream → watch lists and rules → alerts, cooldown, escalation.

Modules, in the order an entry meets them (docs/architecture.md has the glossary): `consumer`
(the worker on the events stream's consumer group), `partitioned` (a worker over partitions,
leased), `engine` (deciding a batch, firing timers), `signals` (stream entries), `coverage` (who
a source watches), `definitions` (the YAML rule set), `windows` (time windows), `matching`,
`alerting` (create or group, snapshots, ends), `clears` (a sensor's clear reading ends its
episode), `book` (the alerts a transaction changes, written in bulk), `sql`, `recipients`,
`notifications` (jobs), `escalation`, `response` (the response circle: family responses),
`holds` (conditions that must last), `ends` (ends decided first), `derived` (conditions derived
over time), `absence` and `sensor_health` (alerts on what does not happen), `silences` (their
timers), `cache`, `metrics`, `config`, `service` and `cli`.
"""
