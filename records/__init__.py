"""Shouwang's SQL records, shared by rules, the alert API, the notifier and the camera gateway.

Modules: `base` (declarative base, column types), `types` (enums), the tables — `people` (watch
lists, staff, areas, coverage, the watch lists' change log), `alerts`, `users`, `notifications`
(jobs and deliveries; `notice_state`: where a job stands), `cameras` and `devices` (device
tables), `models` (all of them) — then `db` (engines, sessions, transient errors), `settings`,
`migrate` (Alembic), `lifecycle` (alert state changes), `queries` (reading alerts), `feed`
(entries of the alert-change and notification streams), `outbox` (publishing them after commit),
`channel_order` (a person's notification channels with their waits), `timers` (Redis timers,
among them the escalation timers acknowledgement stops), `device_registry` (the sensor bridge's
device table, the unassigned list and its audited assignments), `watchlist_csv` (import/export),
`refusals` (why a watch-list row was refused, by language) and `cli`.
"""
