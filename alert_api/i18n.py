"""Interface text in Chinese (the default) and English, for the pages and their scripts."""

from collections.abc import Callable, Mapping
from typing import cast

from records.refusals import Language
from records.types import SEVERITY_WORDS, Severity

LANGUAGES: tuple[Language, ...] = ("zh", "en")
LANG_COOKIE = "shouwang_lang"
"""The cookie the language switch sets."""


def chosen_language(cookies: Mapping[str, str], default: Language) -> Language:
    """The language the switch's cookie chose, else `default`."""
    chosen = cookies.get(LANG_COOKIE)
    return cast(Language, chosen) if chosen in LANGUAGES else default


TEXTS: dict[str, dict[Language, str]] = {
    "app": {"zh": "守望", "en": "Shouwang"},
    "app_long": {"zh": "守望 · 村居安全预警", "en": "Shouwang · village safety alerts"},
    "nav.dashboard": {"zh": "告警", "en": "Alerts"},
    "nav.watchlist": {"zh": "名单", "en": "Watch lists"},
    "nav.users": {"zh": "用户", "en": "Users"},
    "nav.stats": {"zh": "统计", "en": "Statistics"},
    "nav.mobile": {"zh": "手机页", "en": "Phone page"},
    "nav.logout": {"zh": "退出", "en": "Sign out"},
    "lang.switch": {"zh": "English", "en": "中文"},
    "login.title": {"zh": "登录", "en": "Sign in"},
    "login.login": {"zh": "手机号或账号", "en": "Phone number or login"},
    "login.phone": {"zh": "手机号", "en": "Phone number"},
    "login.password": {"zh": "密码", "en": "Password"},
    "login.submit": {"zh": "登录", "en": "Sign in"},
    "login.failed": {"zh": "手机号、账号或密码错误", "en": "Wrong phone number, login or password"},
    "login.limited": {
        "zh": "失败次数过多，请稍后再试",
        "en": "Too many failed attempts; try again later",
    },
    "login.csrf": {"zh": "页面已过期，请重试", "en": "The page expired; please try again"},
    "join.title": {"zh": "加入守望", "en": "Join Shouwang"},
    "join.intro": {
        "zh": "设置密码后，您可以用手机号登录，查看家人的告警。",
        "en": "Set a password, then sign in with your phone number to see your family's alerts.",
    },
    "join.password2": {"zh": "再次输入密码", "en": "Password again"},
    "join.mismatch": {"zh": "两次输入的密码不一致", "en": "The passwords differ"},
    "join.invalid": {
        "zh": "邀请链接无效或已过期",
        "en": "This invite link is invalid or has expired",
    },
    "join.submit": {"zh": "设置密码并登录", "en": "Set password and sign in"},
    "filters": {"zh": "筛选", "en": "Filters"},
    "filter.status": {"zh": "状态", "en": "Status"},
    "filter.severity": {"zh": "级别", "en": "Severity"},
    "filter.type": {"zh": "类型", "en": "Type"},
    "filter.area": {"zh": "区域", "en": "Area"},
    "filter.since": {"zh": "起始日期", "en": "Since"},
    "filter.open": {"zh": "未处理完", "en": "Open"},
    "filter.all": {"zh": "全部", "en": "All"},
    "filter.apply": {"zh": "应用", "en": "Apply"},
    "live": {"zh": "实时", "en": "Live"},
    "live.offline": {"zh": "连接中断，正在重连…", "en": "Disconnected, reconnecting…"},
    "sound.on": {"zh": "声音提醒：开", "en": "Sound: on"},
    "sound.off": {"zh": "声音提醒：关", "en": "Sound: off"},
    "alarm.title": {"zh": "【{n} 条危急告警待确认】", "en": "[{n} critical alerts to acknowledge]"},
    "alerts.empty": {"zh": "暂无告警", "en": "No alerts"},
    "alerts.more": {"zh": "加载更多", "en": "Load more"},
    "alert.raised": {"zh": "发生时间", "en": "Raised"},
    "alert.place": {"zh": "地点", "en": "Place"},
    "alert.source": {"zh": "设备", "en": "Source"},
    "alert.count": {"zh": "事件数", "en": "Events"},
    "alert.persons": {"zh": "相关人员", "en": "Persons"},
    "alert.timeline": {"zh": "事件时间线", "en": "Timeline"},
    "alert.audit": {"zh": "处置记录", "en": "Audit trail"},
    "alert.note": {"zh": "备注", "en": "Note"},
    "alert.note_required": {
        "zh": "处置完成和误报需要填写备注",
        "en": "Resolving and false alarms need a note",
    },
    "alert.taken": {
        "zh": "已被他人处理：该告警现为「{status}」，无法再「{action}」。",
        "en": "Already handled by someone else: the alert is now {status}, so “{action}” "
        "can no longer be done.",
    },
    "alert.changed": {
        "zh": "该告警刚被他人更新，现为「{status}」，请核对后再提交。",
        "en": "Someone else has just changed this alert; it is now {status}. Check, then "
        "try again.",
    },
    "alert.note_kept": {
        "zh": "您填写的内容仍在框内，可复制保存。",
        "en": "What you typed is still in the box to copy.",
    },
    "alert.error": {"zh": "操作失败", "en": "That did not work"},
    "alert.no_snapshot": {"zh": "无截图", "en": "No snapshot"},
    "alert.details": {"zh": "详情", "en": "Details"},
    "alert.back": {"zh": "返回告警列表", "en": "Back to alerts"},
    "alert.family_response": {"zh": "家属已响应", "en": "Family responded"},
    "audit.family_response": {"zh": "家属响应：我来处理", "en": "Family response: I'm on it"},
    "alert.arrive": {"zh": "已到场", "en": "I'm on site"},
    "alert.arrived": {"zh": "已到场", "en": "On site"},
    "alert.arrive_note": {"zh": "位置说明（可选）", "en": "Where (optional)"},
    "alert.arrive_done": {"zh": "已记录到场", "en": "Arrival recorded"},
    "alert.arrive_acknowledged": {
        "zh": "已记录到场，告警已确认",
        "en": "Arrival recorded; alert acknowledged",
    },
    "alert.arrive_before": {"zh": "您已记录过到场", "en": "You marked arrival before"},
    "alert.arrival_missed": {"zh": "超时无人到场", "en": "Nobody on site in time"},
    "audit.arrival": {"zh": "已到场", "en": "Arrived on site"},
    "audit.urge": {"zh": "督办", "en": "Urged on"},
    "notice.queued": {"zh": "派单通知排队中", "en": "Dispatch notice queued for"},
    "notice.sent": {"zh": "已通知", "en": "Told"},
    "notice.failed": {"zh": "派单通知未送达", "en": "Dispatch notice failed for"},
    "notice.untold": {"zh": "未通知", "en": "Not told"},
    "reason.no_channel": {
        "zh": "名单中没有可用的通知渠道：请在名单中补全",
        "en": "no channel to reach them: add one in the watch list",
    },
    "reason.invalid_channel": {
        "zh": "通知渠道填写有误：请在名单中改正",
        "en": "a channel of theirs is written wrong: correct it in the watch list",
    },
    "reason.no_subscription": {
        "zh": "未开启手机推送：请其在手机页开启提醒",
        "en": "push not turned on: ask them to turn on alerts on the phone page",
    },
    "reason.subscription_gone": {
        "zh": "手机推送已失效：请其在手机页重新开启提醒",
        "en": "push expired: ask them to turn on alerts again on the phone page",
    },
    "reason.push_refused": {
        "zh": "推送服务拒收：请其在手机页重新开启提醒",
        "en": "the push service refused it: ask them to turn on alerts again on the phone page",
    },
    "reason.no_mobile": {
        "zh": "无大陆手机号：请在名单中补全",
        "en": "no mainland mobile number: add it in the watch list",
    },
    "reason.not_set_up": {
        "zh": "短信或语音电话未配置：请管理员配置",
        "en": "SMS or voice calls are not set up: ask the administrator",
    },
    "reason.invalid_number": {
        "zh": "号码无效：请在名单中核对手机号",
        "en": "invalid number: check the mobile number in the watch list",
    },
    "reason.no_balance": {
        "zh": "短信或语音余额不足：请管理员充值",
        "en": "no SMS or voice balance left: ask the administrator to top up",
    },
    "reason.daily_limit": {
        "zh": "今日发送已达上限：请直接电话联系",
        "en": "daily sending limit reached: phone them directly",
    },
    "reason.template_rejected": {
        "zh": "模板或签名未通过审核：请管理员检查",
        "en": "template or signature not approved: ask the administrator",
    },
    "reason.account": {
        "zh": "短信或语音账号配置有误：请管理员检查密钥",
        "en": "SMS or voice account misconfigured: ask the administrator to check the keys",
    },
    "reason.robot_refused": {
        "zh": "群机器人拒收：请检查机器人地址和密钥",
        "en": "the group robot refused it: check its URL and secret",
    },
    "reason.throttled": {
        "zh": "发送过于频繁，多次重试未成功：请直接电话联系",
        "en": "sent too often, retries gave up: phone them directly",
    },
    "reason.unavailable": {
        "zh": "服务暂时不可用，多次重试未成功：请直接电话联系",
        "en": "the service was unavailable, retries gave up: phone them directly",
    },
    "reason.refused": {
        "zh": "服务商拒绝发送：请管理员查看原因",
        "en": "the vendor refused it: ask the administrator",
    },
    "reason.withdrawn": {
        "zh": "告警已处理，不再发送",
        "en": "not sent: the alert was answered first",
    },
    "reason.internal": {
        "zh": "系统内部错误：请联系管理员",
        "en": "internal error: tell the administrator",
    },
    "untold.inactive": {"zh": "账号已停用", "en": "account deactivated"},
    "untold.redispatched": {"zh": "已改派", "en": "re-dispatched"},
    "channel.sms": {"zh": "短信", "en": "SMS"},
    "channel.voice": {"zh": "语音电话", "en": "voice call"},
    "channel.webpush": {"zh": "手机推送", "en": "push"},
    "channel.dingtalk": {"zh": "钉钉群", "en": "DingTalk group"},
    "channel.wecombot": {"zh": "企业微信群", "en": "WeCom group"},
    "channel.feishu": {"zh": "飞书群", "en": "Feishu group"},
    "channel.other": {"zh": "其他渠道", "en": "other channel"},
    "receipt.delivered": {"zh": "已送达", "en": "delivered"},
    "receipt.undelivered": {"zh": "未送达", "en": "not delivered"},
    "receipt.answered": {"zh": "已接听", "en": "answered"},
    "receipt.unanswered": {"zh": "未接听", "en": "not answered"},
    "alert.years": {"zh": "岁", "en": " years"},
    "alert.lives_alone": {"zh": "独居", "en": "lives alone"},
    "alert.call": {"zh": "一键拨打", "en": "Call"},
    "g.call": {"zh": "紧急联系", "en": "Call for help"},
    "g.call_120": {"zh": "拨打 120 急救", "en": "Call 120 (ambulance)"},
    "g.todo": {"zh": "您可以这样做", "en": "What to do"},
    "todo.fall": {
        "zh": "先打电话问老人是否受伤；联系不上就请邻居或网格员上门。"
        "有外伤、意识不清时拨打120，不要强行扶起。",
        "en": "Call her to ask if she is hurt; if she does not answer, ask a neighbour or the "
        "grid worker to go. If she is injured or confused, call 120 and do not lift her.",
    },
    "todo.person_down": {
        "zh": "有人倒地未起：马上打电话确认；联系不上请邻居或网格员上门，必要时拨打120。",
        "en": "Someone is down: call at once; if nobody answers, ask a neighbour or the grid "
        "worker to go, and call 120 if needed.",
    },
    "todo.sos_button": {
        "zh": "老人按了求助按钮：马上回电；联系不上请网格员上门，需要急救时拨打120。",
        "en": "The SOS button was pressed: call back at once; if nobody answers, ask the grid "
        "worker to go, and call 120 for an ambulance.",
    },
    "todo.smoke": {
        "zh": "检测到烟雾：马上打电话提醒离开房间；有明火时拨打119，并请邻居协助。",
        "en": "Smoke: call to tell them to leave the room; if there is fire, call 119 and ask "
        "a neighbour to help.",
    },
    "todo.unattended_child": {
        "zh": "孩子独自在危险区域：请附近的家人或邻居马上把孩子带离，并联系网格员。",
        "en": "A child is alone near danger: ask family or a neighbour nearby to fetch the "
        "child now, and call the grid worker.",
    },
    "todo.default": {
        "zh": "先打电话确认家人是否安好；联系不上请邻居或网格员上门查看。",
        "en": "Call to check they are well; if nobody answers, ask a neighbour or the grid "
        "worker to look in.",
    },
    "alert.urge": {"zh": "督办", "en": "Urge on"},
    "alert.urge_note": {"zh": "督办意见（必填）", "en": "What to do, by when (required)"},
    "alert.urge_done": {
        "zh": "已督办，处置人员会收到通知",
        "en": "Urged: the staff on it are told",
    },
    "alert.urged": {"zh": "已督办", "en": "Urged"},
    "alert.due": {"zh": "处置时限", "en": "Due"},
    "alert.overdue": {"zh": "已超时", "en": "Overdue"},
    "alert.first": {"zh": "首次", "en": "First"},
    "alert.latest": {"zh": "最新", "en": "Latest"},
    "alert.show_all": {"zh": "显示全部 {n} 条", "en": "Show all {n}"},
    "alert.confidence": {"zh": "置信度", "en": "confidence"},
    "alert.snapshot": {"zh": "截图", "en": "Snapshot"},
    "alert.clip": {"zh": "事发前后录像", "en": "Video of before and after"},
    "alert.done": {"zh": "操作成功，当前状态：{status}", "en": "Done; the alert is now: {status}"},
    "alert.events_n": {"zh": "共 {n} 次", "en": "{n} events"},
    "alert.zone": {"zh": "区域", "en": "zone"},
    "phase.start": {"zh": "开始", "en": "started"},
    "phase.update": {"zh": "持续", "en": "continues"},
    "phase.end": {"zh": "结束", "en": "ended"},
    "actor.rules": {"zh": "系统", "en": "System"},
    "audit.raised": {"zh": "按规则自动生成告警", "en": "Raised automatically by a rule"},
    "audit.reopened": {
        "zh": "同一情况加重，已自动重新打开",
        "en": "The same case got worse: reopened automatically",
    },
    "camera.starting": {"zh": "启动中", "en": "starting"},
    "camera.online": {"zh": "在线", "en": "online"},
    "camera.offline": {"zh": "离线", "en": "offline"},
    "alert.confirm": {"zh": "确定", "en": "Confirm"},
    "alert.dispatch_pick": {
        "zh": "派给谁？（辖区人员，近的在前）",
        "en": "Dispatch to… (staff of the area, nearest first)",
    },
    "alert.dispatch_to_label": {"zh": "派单对象", "en": "Dispatch to"},
    "alert.dispatch_to": {"zh": "派给 {name}", "en": "Dispatched to {name}"},
    "alert.cancel": {"zh": "取消", "en": "Cancel"},
    "action.acknowledged": {"zh": "确认", "en": "Acknowledge"},
    "action.dispatched": {"zh": "派单", "en": "Dispatch"},
    "action.redispatch": {"zh": "改派", "en": "Re-dispatch"},
    "action.resolved": {"zh": "处置完成", "en": "Resolve"},
    "action.followed_up": {"zh": "已回访", "en": "Followed up"},
    "action.archived": {"zh": "归档", "en": "Archive"},
    "action.false_alarm": {"zh": "误报", "en": "False alarm"},
    "status.new": {"zh": "新告警", "en": "New"},
    "status.acknowledged": {"zh": "已确认", "en": "Acknowledged"},
    "status.dispatched": {"zh": "已派单", "en": "Dispatched"},
    "status.resolved": {"zh": "已处置", "en": "Resolved"},
    "status.followed_up": {"zh": "已回访", "en": "Followed up"},
    "status.archived": {"zh": "已归档", "en": "Archived"},
    "status.false_alarm": {"zh": "误报", "en": "False alarm"},
    "type.fall": {"zh": "跌倒", "en": "Fall"},
    "type.person_down": {"zh": "有人倒地", "en": "Person down"},
    "type.loitering": {"zh": "徘徊", "en": "Loitering"},
    "type.unattended_child": {"zh": "儿童无人看护", "en": "Unattended child"},
    "type.unattended_elder": {"zh": "老人无人照看", "en": "Unattended elder"},
    "type.inactivity": {"zh": "长时间无活动", "en": "Inactivity"},
    "type.zone_intrusion": {"zh": "区域闯入", "en": "Zone intrusion"},
    "type.camera_offline": {"zh": "摄像头离线", "en": "Camera offline"},
    "type.camera_online": {"zh": "摄像头恢复在线", "en": "Camera back online"},
    "type.offline": {"zh": "边缘设备离线", "en": "Edge offline"},
    "type.intrusion": {"zh": "入侵", "en": "Intrusion"},
    "type.tripwire": {"zh": "越线", "en": "Line crossing"},
    "type.region_entrance": {"zh": "进入区域", "en": "Region entrance"},
    "type.region_exit": {"zh": "离开区域", "en": "Region exit"},
    "type.crowd": {"zh": "人员聚集", "en": "Crowd"},
    "type.motion": {"zh": "移动侦测", "en": "Motion"},
    "type.object_left": {"zh": "物品遗留", "en": "Object left"},
    "type.object_removed": {"zh": "物品移除", "en": "Object removed"},
    "type.video_tamper": {"zh": "遮挡/破坏", "en": "Tamper"},
    "type.camera_fault": {"zh": "设备故障", "en": "Device fault"},
    "type.camera_alarm": {"zh": "摄像机报警", "en": "Camera alarm"},
    "origin.analyser": {"zh": "守望分析", "en": "Shouwang analysis"},
    "origin.camera": {"zh": "摄像机自带分析", "en": "Camera's own analytics"},
    "type.sos_button": {"zh": "一键求助", "en": "SOS button"},
    "type.smoke": {"zh": "烟雾", "en": "Smoke"},
    "type.water_level": {"zh": "水位", "en": "Water level"},
    "type.water_leak": {"zh": "漏水", "en": "Water leak"},
    "type.door_contact": {"zh": "门磁", "en": "Door"},
    "type.temperature": {"zh": "温度", "en": "Temperature"},
    "type.no_activity": {"zh": "无活动", "en": "No activity"},
    "type.sensor_offline": {"zh": "传感器离线", "en": "Sensor offline"},
    "type.battery_low": {"zh": "电池电量低", "en": "Battery low"},
    "category.elder": {"zh": "老人", "en": "Elder"},
    "category.child": {"zh": "儿童", "en": "Child"},
    "stats.title": {"zh": "统计（近7天）", "en": "Statistics (7 days)"},
    "stats.count": {"zh": "告警数", "en": "Alerts"},
    "stats.open": {"zh": "未处理完", "en": "Open"},
    "stats.ack_median": {"zh": "确认用时中位数", "en": "Median time to acknowledge"},
    "stats.ack_p90": {"zh": "确认用时P90", "en": "P90 time to acknowledge"},
    "stats.resolve_median": {"zh": "处置用时中位数", "en": "Median time to resolve"},
    "stats.resolve_p90": {"zh": "处置用时P90", "en": "P90 time to resolve"},
    "stats.rate": {"zh": "处置率", "en": "Resolution rate"},
    "stats.ack_1m": {"zh": "1分钟确认率", "en": "Acknowledged within 1 min"},
    "stats.site_3m": {"zh": "3分钟到场率", "en": "On site within 3 min"},
    "stats.site_5m": {"zh": "5分钟到场率", "en": "On site within 5 min"},
    "stats.arrival_median": {"zh": "到场用时中位数", "en": "Median time to arrive"},
    "stats.csv": {"zh": "导出 CSV", "en": "Export CSV"},
    "stats.per_day": {"zh": "每日告警数", "en": "Alerts per day"},
    "stats.group": {"zh": "按区域", "en": "By area"},
    "stats.grid": {"zh": "网格", "en": "Grid"},
    "stats.village": {"zh": "村", "en": "Village"},
    "stats.town": {"zh": "镇街", "en": "Town"},
    "stats.day": {"zh": "日期", "en": "Day"},
    "stats.group_by": {"zh": "分组", "en": "Group by"},
    "stats.until": {"zh": "截止日期", "en": "Until"},
    "stats.urgent": {"zh": "紧急告警数", "en": "Urgent alerts"},
    "stats.total": {"zh": "合计", "en": "Total"},
    "stats.period": {"zh": "统计时段", "en": "Period"},
    "stats.urgent_note": {
        "zh": "1-3-5 比例按高、危急级别且非误报的告警计算；日期默认近7天。",
        "en": "The 1-3-5 shares are of high and critical alerts that were not false alarms; "
        "the period defaults to the last 7 days.",
    },
    "stats.invalid": {"zh": "起始日期须早于截止日期", "en": "The start must be before the end"},
    "health.title": {"zh": "设备状态", "en": "Device health"},
    "health.empty": {"zh": "暂无边缘设备上报", "en": "No edge agents reporting"},
    "health.online": {"zh": "在线", "en": "Online"},
    "health.offline": {"zh": "离线", "en": "Offline"},
    "wl.persons": {"zh": "重点人员", "en": "Persons"},
    "wl.households": {"zh": "家庭", "en": "Households"},
    "wl.guardians": {"zh": "监护人", "en": "Guardians"},
    "wl.coverage": {"zh": "摄像头与区域", "en": "Cameras and zones"},
    "wl.import": {"zh": "导入/导出", "en": "Import / export"},
    "wl.code": {"zh": "编号", "en": "Code"},
    "wl.name": {"zh": "姓名", "en": "Name"},
    "wl.category": {"zh": "类别", "en": "Category"},
    "wl.birth_year": {"zh": "出生年份", "en": "Born"},
    "wl.risk": {"zh": "风险等级", "en": "Risk"},
    "wl.alone": {"zh": "独居", "en": "Lives alone"},
    "wl.conditions": {"zh": "健康状况", "en": "Conditions"},
    "wl.address": {"zh": "地址", "en": "Address"},
    "wl.area": {"zh": "网格", "en": "Grid"},
    "wl.sources": {"zh": "覆盖设备", "en": "Covered by"},
    "wl.phone": {"zh": "电话", "en": "Phone"},
    "wl.relation": {"zh": "关系", "en": "Relation"},
    "wl.wards": {"zh": "被监护人", "en": "Wards"},
    "wl.joined": {"zh": "已加入", "en": "Joined"},
    "wl.invite": {"zh": "生成邀请链接", "en": "Invite link"},
    "wl.invite_made": {"zh": "邀请链接（一次有效）：", "en": "Invite link (works once):"},
    "wl.search": {"zh": "搜索", "en": "Search"},
    "wl.search_clear": {"zh": "清除搜索", "en": "Clear"},
    "wl.search_persons": {
        "zh": "姓名、地址或监护人电话",
        "en": "Name, address or guardian's phone",
    },
    "wl.search_households": {"zh": "地址或家庭成员姓名", "en": "Address or a member's name"},
    "wl.search_guardians": {"zh": "姓名、手机号或被监护人", "en": "Name, phone or ward"},
    "kind.areas": {"zh": "区域", "en": "Areas"},
    "kind.sites": {"zh": "站点", "en": "Sites"},
    "kind.staff": {"zh": "工作人员", "en": "Staff"},
    "kind.persons": {"zh": "重点人员", "en": "Persons"},
    "kind.guardians": {"zh": "监护人", "en": "Guardians"},
    "kind.devices": {"zh": "传感器设备", "en": "Sensor devices"},
    "kind.cameras": {"zh": "摄像机", "en": "Cameras"},
    "edit.new": {"zh": "新增", "en": "New"},
    "edit.change": {"zh": "修改", "en": "Change"},
    "edit.add_person": {"zh": "新增重点人员", "en": "Add a person"},
    "edit.add_guardian": {"zh": "新增监护人", "en": "Add a guardian"},
    "edit.add_staff": {"zh": "新增工作人员", "en": "Add staff"},
    "edit.kind.persons": {
        "zh": "重点人员（含家庭和覆盖设备）",
        "en": "Person (household, coverage)",
    },
    "edit.kind.guardians": {"zh": "监护人", "en": "Guardian"},
    "edit.kind.staff": {"zh": "工作人员", "en": "Staff"},
    "edit.hint": {
        "zh": "与导入 CSV 的检查相同；空白格保持原样或使用默认值。每次保存都记入变更记录。",
        "en": "Checked as a CSV import's row; each save is recorded in the change log.",
    },
    "edit.save": {"zh": "保存", "en": "Save"},
    "edit.created": {"zh": "已新增", "en": "Added"},
    "edit.updated": {"zh": "已保存", "en": "Saved"},
    "edit.refused": {
        "zh": "有内容不符合要求，未保存",
        "en": "Some cells were refused: nothing saved",
    },
    "wl.copy": {"zh": "复制链接", "en": "Copy link"},
    "wl.copied": {"zh": "已复制，可粘贴到微信发给家属", "en": "Copied: paste it into a message"},
    "wl.qr": {"zh": "邀请二维码", "en": "Invite QR code"},
    "wl.qr_hint": {"zh": "或请家属用手机扫码：", "en": "Or let the guardian scan it:"},
    "wl.site": {"zh": "站点", "en": "Site"},
    "wl.source": {"zh": "设备", "en": "Source"},
    "wl.zone": {"zh": "区域", "en": "Zone"},
    "wl.covers": {"zh": "覆盖对象", "en": "Covers"},
    "wl.camera_state": {"zh": "状态", "en": "State"},
    "wl.active": {"zh": "在册", "en": "Active"},
    "wl.yes": {"zh": "是", "en": "yes"},
    "wl.no": {"zh": "否", "en": "no"},
    "wl.empty": {"zh": "暂无记录", "en": "Nothing here"},
    "wl.devices": {"zh": "传感器设备", "en": "Sensor devices"},
    "kind.door_contact": {"zh": "门磁", "en": "Door contact"},
    "kind.motion": {"zh": "人体感应", "en": "Motion"},
    "kind.sos_button": {"zh": "一键求助", "en": "SOS button"},
    "kind.smoke": {"zh": "烟感", "en": "Smoke"},
    "kind.water_leak": {"zh": "水浸", "en": "Water leak"},
    "kind.water_level": {"zh": "水位", "en": "Water level"},
    "kind.temperature": {"zh": "温度", "en": "Temperature"},
    "dev.unassigned": {"zh": "待分配设备", "en": "Devices waiting to be assigned"},
    "dev.none_waiting": {"zh": "没有待分配的设备", "en": "No device is waiting"},
    "dev.waiting": {"zh": "新传感器待分配", "en": "Sensors waiting to be assigned"},
    "dev.address": {"zh": "设备地址", "en": "Address"},
    "dev.name": {"zh": "名称", "en": "Name"},
    "dev.model": {"zh": "型号", "en": "Model"},
    "dev.reason": {"zh": "原因", "en": "Why"},
    "dev.reason.unknown_device": {"zh": "未登记的设备", "en": "Not in the device table"},
    "dev.reason.unreadable": {"zh": "消息无法识别", "en": "Messages cannot be read"},
    "dev.heard": {"zh": "收到次数", "en": "Heard"},
    "dev.last_heard": {"zh": "最近收到", "en": "Last heard"},
    "dev.payload": {"zh": "最近消息", "en": "Last message"},
    "dev.device": {"zh": "设备编号", "en": "Device id"},
    "dev.kinds": {"zh": "类型", "en": "Kinds"},
    "dev.location": {"zh": "安装位置", "en": "Location"},
    "dev.person": {"zh": "覆盖人员", "en": "Covers"},
    "dev.nobody": {"zh": "（暂不指定）", "en": "(nobody yet)"},
    "dev.assign": {"zh": "分配", "en": "Assign"},
    "dev.assigned": {"zh": "已分配", "en": "Assigned"},
    "dev.dismiss": {"zh": "忽略", "en": "Dismiss"},
    "dev.dismissed": {"zh": "已忽略", "en": "Dismissed"},
    "dev.table": {"zh": "设备表", "en": "Device table"},
    "dev.active": {"zh": "在用", "en": "Active"},
    "dev.audit": {"zh": "分配记录", "en": "Assignment log"},
    "dev.when": {"zh": "时间", "en": "When"},
    "dev.who": {"zh": "操作人", "en": "Who"},
    "dev.action": {"zh": "操作", "en": "Action"},
    "dev.previous": {"zh": "原设置", "en": "Before"},
    "csv.kind": {"zh": "名单类型", "en": "List"},
    "csv.file": {"zh": "CSV 文件", "en": "CSV file"},
    "csv.encoding": {"zh": "编码", "en": "Encoding"},
    "csv.skip": {"zh": "跳过错误行，导入其余行", "en": "Skip bad rows, import the rest"},
    "csv.dry_run": {"zh": "仅检查，不写入", "en": "Check only, write nothing"},
    "csv.upload": {"zh": "上传", "en": "Upload"},
    "csv.download": {"zh": "下载", "en": "Download"},
    "csv.headers_zh": {"zh": "中文表头", "en": "Chinese headers"},
    "csv.report": {"zh": "导入结果", "en": "Import report"},
    "csv.applied": {"zh": "已写入", "en": "Written"},
    "csv.not_applied": {"zh": "未写入（没有任何更改）", "en": "NOT written (nothing changed)"},
    "csv.rows": {"zh": "行数", "en": "Rows"},
    "csv.created": {"zh": "新增", "en": "Created"},
    "csv.updated": {"zh": "更新", "en": "Updated"},
    "csv.skipped": {"zh": "跳过", "en": "Skipped"},
    "csv.line": {"zh": "行", "en": "Line"},
    "csv.column": {"zh": "列", "en": "Column"},
    "csv.value": {"zh": "值", "en": "Value"},
    "csv.problem": {"zh": "问题", "en": "Problem"},
    "users.login": {"zh": "账号", "en": "Login"},
    "users.name": {"zh": "姓名", "en": "Name"},
    "users.role": {"zh": "角色", "en": "Role"},
    "users.staff": {"zh": "工号", "en": "Staff code"},
    "users.active": {"zh": "启用", "en": "Active"},
    "users.create": {"zh": "新建用户", "en": "New user"},
    "users.created": {"zh": "已创建", "en": "Created"},
    "users.disable": {"zh": "停用", "en": "Disable"},
    "users.enable": {"zh": "启用", "en": "Enable"},
    "role.admin": {"zh": "管理员", "en": "Admin"},
    "role.duty_officer": {"zh": "值班员", "en": "Duty officer"},
    "role.grid_worker": {"zh": "网格员", "en": "Grid worker"},
    "role.guardian": {"zh": "监护人", "en": "Guardian"},
    "role.police": {"zh": "派出所", "en": "Police"},
    "role.supervisor": {"zh": "督办领导", "en": "Supervisor"},
    "g.title": {"zh": "家人平安", "en": "My family"},
    "g.wards": {"zh": "我关注的家人", "en": "My family members"},
    "g.none": {"zh": "目前没有告警，一切平安", "en": "No alerts: all is well"},
    "g.on_it": {"zh": "我来处理", "en": "I'm on it"},
    "g.on_it_done": {"zh": "已确认，您正在处理", "en": "Acknowledged: you're on it"},
    "g.responded": {
        "zh": "已告知网格员和其他家属您在处理；值班人员仍会跟进",
        "en": "The grid worker and family know you're on it; the duty office still follows up",
    },
    "g.taken": {"zh": "已有人在处理", "en": "Someone is already on it"},
    "g.push": {"zh": "开启手机提醒", "en": "Turn on phone alerts"},
    "g.push_on": {"zh": "手机提醒已开启", "en": "Phone alerts are on"},
    "g.push_failed": {"zh": "无法开启提醒：", "en": "Could not turn on alerts: "},
    "g.push_unsupported": {
        "zh": "此浏览器不支持推送提醒",
        "en": "This browser cannot receive push alerts",
    },
    "g.install": {
        "zh": "可添加到主屏幕，像应用一样使用",
        "en": "Add to your home screen to use it like an app",
    },
    **{
        f"severity.{severity.value}": {
            language: SEVERITY_WORDS[language][severity] for language in LANGUAGES
        }
        for severity in Severity
    },
}
"""Every user-visible text of the pages and their scripts, by key, in each language."""


MACHINE_NOTES = {"raised by rule ": "audit.raised", "reopened by rule ": "audit.reopened"}
"""Audit notes the rules engine writes (in English, with the rule id), by their start."""


def audit_note(t: Callable[[str], str], note: str) -> str:
    """An audit note as people read it: the rules engine's in words, people's as written."""
    for start, key in MACHINE_NOTES.items():
        if note.startswith(start):
            return t(key)
    return note


def channel_word(t: Callable[[str], str], channel: str) -> str:
    """A delivery's channel in words: SMS, push, a group robot by its app; any other apprise
    scheme (`mailto`, `ntfy`…) as another channel."""
    key = f"channel.{channel}"
    return t(key) if key in TEXTS else t("channel.other")


def translator(language: Language) -> Callable[[str], str]:
    """`t(key)`: the text of `key` in `language` (the key itself if there is none)."""

    def t(key: str) -> str:
        found = TEXTS.get(key)
        return found[language] if found else key

    return t


def texts(language: Language, prefixes: tuple[str, ...] = ("",)) -> dict[str, str]:
    """Texts whose keys start with one of `prefixes`, for a page's script."""
    return {k: v[language] for k, v in TEXTS.items() if k.startswith(prefixes)}
