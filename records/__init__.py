"""Shouwang's SQL records: watch lists, staff, areas and alerts, shared by rules and the API.

Modules: `types` (enums), `people` and `alerts` (tables), `db` (engines and sessions),
`migrate` (Alembic), `lifecycle` (alert state changes), `queries` (reading alerts), `feed`
(entries of the alert-change and notification streams), `outbox` (publishing them after commit),
`timers` (Redis timers, among them the escalation timers acknowledgement stops),
`watchlist_csv` (import/export).
"""
