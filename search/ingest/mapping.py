"""Mapping the shapes events arrive in onto Log Analytics tables' columns.

Three producers' shapes are recognised, whatever table they are sent to:
- Windows events exported as JSON (time in `TimeCreated`, host in `Hostname`, as the
  OTRF Security-Datasets and winlogbeat-style exports): SecurityEvent's columns;
- syslog as JSON (rsyslog's `timereported`/`hostname`/`msg`, or RFC 5424-ish keys):
  Syslog's columns;
- Suricata EVE JSON (`timestamp`, `event_type`, `src_ip`): SuricataEve's columns.
Anything else is taken as Log Analytics rows already (`TimeGenerated`, `Computer`, ...).
"""


# Windows logon event fields whose account is the target, not the subject.
_TARGET_ACCOUNT_EVENTS = {4624, 4625, 4634, 4647, 4648, 4672, 4720, 4722, 4723, 4724, 4725,
                          4726, 4738, 4740, 4767, 4768, 4769, 4771, 4776}

_SECURITY_ACTIVITY = {
    1102: "The audit log was cleared.",
    4624: "An account was successfully logged on.",
    4625: "An account failed to log on.",
    4634: "An account was logged off.",
    4648: "A logon was attempted using explicit credentials.",
    4656: "A handle to an object was requested.",
    4658: "The handle to an object was closed.",
    4663: "An attempt was made to access an object.",
    4672: "Special privileges assigned to new logon.",
    4688: "A new process has been created.",
    4689: "A process has exited.",
    4690: "An attempt was made to duplicate a handle to an object.",
    4697: "A service was installed in the system.",
    4703: "A user right was adjusted.",
    4720: "A user account was created.",
    4732: "A member was added to a security-enabled local group.",
    5140: "A network share object was accessed.",
    5145: "A network share object was checked to see whether client can be granted "
          "desired access.",
    5156: "The Windows Filtering Platform has permitted a connection.",
    5158: "The Windows Filtering Platform has permitted a bind to a local port.",
    7045: "A service was installed in the system.",
}

_SYSLOG_FACILITIES = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp",
                      "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock", "local0",
                      "local1", "local2", "local3", "local4", "local5", "local6", "local7"]
_SYSLOG_SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]


def _account(domain, user):
    user = user if isinstance(user, str) else ""
    if not user or user == "-":
        return ""
    domain = domain if isinstance(domain, str) else ""
    return f"{domain}\\{user}" if domain and domain != "-" else user


def is_windows(data):
    return "TimeCreated" in data and ("Hostname" in data or "EventID" in data)


def map_windows(data):
    """A Windows event exported as JSON → SecurityEvent columns (fields kept by name)."""
    out = {k: v for k, v in data.items() if k not in ("TimeCreated", "Hostname", "SourceName")}
    out["TimeGenerated"] = data.get("TimeCreated")
    out["Computer"] = data.get("Hostname", "")
    if "SourceName" in data:
        out["EventSourceName"] = data["SourceName"]
    subject = _account(data.get("SubjectDomainName"), data.get("SubjectUserName"))
    target = _account(data.get("TargetDomainName"), data.get("TargetUserName"))
    if subject:
        out.setdefault("SubjectAccount", subject)
    if target:
        out.setdefault("TargetAccount", target)
    try:
        event_id = int(data.get("EventID"))
    except (TypeError, ValueError, OverflowError):
        event_id = None
    if "Account" not in data:
        out["Account"] = target if (event_id in _TARGET_ACCOUNT_EVENTS and target) else \
            (subject or target)
    if event_id is not None and "Activity" not in data:
        text = _SECURITY_ACTIVITY.get(event_id)
        if text is None and isinstance(data.get("Message"), str):
            text = data["Message"].split("\r\n", 1)[0].split("\n", 1)[0][:200]
        out["Activity"] = f"{event_id} - {text}" if text else str(event_id)
    if "LogonType" in data and "LogonTypeName" not in data:
        names = {2: "Interactive", 3: "Network", 4: "Batch", 5: "Service", 7: "Unlock",
                 8: "NetworkCleartext", 9: "NewCredentials", 10: "RemoteInteractive",
                 11: "CachedInteractive"}
        try:
            logon = int(data["LogonType"])
            out["LogonTypeName"] = f"{logon} - {names[logon]}"
        except (TypeError, ValueError, KeyError, OverflowError):
            pass
    return out


def is_rsyslog(data):
    return "msg" in data and ("hostname" in data or "timereported" in data or
                              "timegenerated" in data)


def map_rsyslog(data):
    """rsyslog's JSON template (or any lowercase syslog JSON) → Syslog columns."""
    out = {}
    out["TimeGenerated"] = data.get("timereported") or data.get("timegenerated") or \
        data.get("timestamp")
    out["Computer"] = data.get("hostname", "")
    out["HostName"] = data.get("hostname", "")
    facility = data.get("facility")
    if isinstance(facility, int) and 0 <= facility < len(_SYSLOG_FACILITIES):
        facility = _SYSLOG_FACILITIES[facility]
    out["Facility"] = facility if isinstance(facility, str) else ""
    severity = data.get("severity", data.get("syslogseverity-text"))
    if isinstance(severity, int) and 0 <= severity < len(_SYSLOG_SEVERITIES):
        severity = _SYSLOG_SEVERITIES[severity]
    out["SeverityLevel"] = severity if isinstance(severity, str) else ""
    out["ProcessName"] = data.get("programname", data.get("app-name", ""))
    pid = data.get("procid", data.get("pid"))
    if pid not in (None, "", "-"):
        out["ProcessID"] = pid
    out["SyslogMessage"] = data.get("msg", "")
    if data.get("fromhost-ip"):
        out["HostIP"] = data["fromhost-ip"]
    for key, value in data.items():
        if key not in ("timereported", "timegenerated", "timestamp", "hostname", "facility",
                       "severity", "syslogseverity-text", "programname", "app-name",
                       "procid", "pid", "msg", "fromhost-ip"):
            out.setdefault(key, value)
    return out


def is_eve(data):
    return "event_type" in data and "timestamp" in data


_EVE_COLUMNS = {"event_type": "EventType", "src_ip": "SrcIp", "src_port": "SrcPort",
                "dest_ip": "DestIp", "dest_port": "DestPort", "proto": "Proto",
                "app_proto": "AppProto", "flow_id": "FlowId", "in_iface": "InIface",
                "alert": "Alert", "dns": "Dns", "http": "Http", "tls": "Tls", "flow": "Flow",
                "fileinfo": "Fileinfo", "host": "Computer"}


def map_eve(data):
    """Suricata EVE JSON → SuricataEve columns (PascalCase, as Log Analytics names them)."""
    out = {"TimeGenerated": data.get("timestamp")}
    for key, value in data.items():
        if key == "timestamp":
            continue
        column = _EVE_COLUMNS.get(key) or "".join(p[:1].upper() + p[1:]
                                                  for p in str(key).split("_"))
        out[column] = value
    out.setdefault("Computer", "")
    return out


def to_columns(data):
    """The event's columns, by the shape it arrived in."""
    if is_windows(data):
        return map_windows(data)
    if is_eve(data):
        return map_eve(data)
    if is_rsyslog(data):
        return map_rsyslog(data)
    return dict(data)
