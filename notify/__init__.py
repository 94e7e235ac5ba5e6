"""The notification dispatcher: the rules engine's notification jobs to people's phones.

A pipeline of stages, Alertmanager style:

- intake (`consumer`): a worker of the `notifier` consumer group on the notifications stream
  (`shouwang.streams`); each job is planned (`plan`: the job and one delivery per target,
  `targets`, recorded once per `job_id`) and acknowledged after commit; poison jobs go to the
  dead-letter stream;
- send (`sender`, `deliveries`): due deliveries are leased from the delivery log, held for
  quiet hours (`quiet`) unless critical, sent through their channel, and recorded; failures
  worth retrying come due again after exponential back-off (`retry`); later steps of the
  recipient's channel order wait their turn, fall back when the earlier ones fail, and are
  withdrawn once the alert is answered (`order`);
- channels (`channel`: the contract; `webpush`, `robots` for DingTalk, WeCom and Feishu,
  `aliyun` and `tencent` for SMS and voice calls to `phones` with `templates`,
  `apprise_channel` for the rest): one `send` each, whose `Result` says whether a failure is
  worth retrying.

`worker.Notifier` runs the stages in one loop; `service` and `cli` start it, with its
`settings` and `metrics`.
"""
