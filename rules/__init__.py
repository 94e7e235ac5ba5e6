"""The rules stage: events stream → watch lists and rules → alerts, cooldown, escalation.

Modules: `config` (settings), `definitions` (the YAML rule set), `windows` (time windows),
`signals` (stream entries), `coverage` (who a source watches), `matching`, `recipients`,
`alerting` (create or group, snapshots, ends), `escalation`, `pending` (conditions that must
last), `engine` (one decision per entry), `consumer` (the Redis consumer group), `cli`.
"""
