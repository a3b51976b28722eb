"""What a workspace's tables look like: hot columns, Kusto types, documented columns.

A handful of fields that nearly every search filters on are typed columns (the *hot*
columns); every other field of an event is kept under its Sentinel column name.
Ingestion maps an event to these hot columns and its other fields (search.ingest), and
the events engine adds typed columns of its own (search/engine/ddl.py, which the
compiler in `search/kql/` reads).
"""

# Kusto's scalar types, as the query API names them.
KUSTO_TYPES = ("string", "int", "long", "real", "bool", "datetime", "timespan", "dynamic",
               "guid", "decimal")

# Which Kusto column each hot storage column holds, per table. Tables not listed use
# DEFAULT_HOT: only TimeGenerated and Computer are typed for them.
DEFAULT_HOT = {"TimeGenerated": "time_generated", "Computer": "computer"}
HOT_COLUMNS = {
    "SecurityEvent": {**DEFAULT_HOT, "EventID": "event_id", "Account": "account",
                      "IpAddress": "ip_address"},
    "Syslog": {**DEFAULT_HOT, "HostIP": "ip_address"},
    "CommonSecurityLog": {**DEFAULT_HOT, "SourceIP": "ip_address",
                          "SourceUserName": "account"},
    "SigninLogs": {**DEFAULT_HOT, "UserPrincipalName": "account", "IPAddress": "ip_address"},
    "SuricataEve": {**DEFAULT_HOT, "SrcIp": "ip_address"},
}

# Columns every table has, whatever its events carry (as in Log Analytics).
STANDARD_COLUMNS = {
    "TimeGenerated": "datetime",
    "Computer": "string",
    "Type": "string",
    "_ResourceId": "string",
    "TenantId": "string",
    "SourceSystem": "string",
}

# Sentinel's documented columns (Azure Monitor Logs table reference), with their types.
_SECURITY_EVENT = """
AccessList string, AccessMask string, AccessReason string, Account string,
AccountDomain string, AccountExpires string, AccountName string,
AccountSessionIdentifier string, AccountType string, Activity string, AdditionalInfo string,
AdditionalInfo2 string, AllowedToDelegateTo string, Attributes string, AuditPolicyChanges string,
AuditsDiscarded int, AuthenticationLevel int, AuthenticationPackageName string,
AuthenticationProvider string, AuthenticationServer string, AuthenticationService int,
AuthenticationType string, AzureDeploymentID string, AzureTableName string,
CACertificateHash string, CalledStationID string, CallerProcessId string,
CallerProcessName string, CallingStationID string, CAPublicKeyHash string, CategoryId string,
CertificateDatabaseHash string, Channel string, ClassId string, ClassName string,
ClientAddress string, ClientIPAddress string, ClientName string, CommandLine string,
CompatibleIds string, DCDNSName string, DeviceDescription string, DeviceId string,
DisplayName string, Disposition string, DomainBehaviorVersion string, DomainName string,
DomainPolicyChanged string, DomainSid string, EAPType string, ElevatedToken string,
ErrorCode int, EventData string, EventID int, EventOriginId string, EventSourceName string,
ExtendedQuarantineState string, FailureReason string, FileHash string, FilePath string,
FilePathNoUser string, Filter string, ForceLogoff string, Fqbn string,
FullyQualifiedSubjectMachineName string,
FullyQualifiedSubjectUserName string, GroupMembership string, HandleId string, HardwareIds string,
HomeDirectory string, HomePath string, ImpersonationLevel string, InterfaceUuid string,
IpAddress string, IpPort string, KeyLength int, Level string, LmPackageName string,
LocationInformation string, LockoutDuration string, LockoutObservationWindow string,
LockoutThreshold string, LoggingResult string, LogonGuid string, LogonHours string,
LogonID string, LogonProcessName string, LogonType int, LogonTypeName string,
MachineAccountQuota string, MachineInventory string, MachineLogon string,
ManagementGroupName string,
MandatoryLabel string, MaxPasswordAge string, MemberName string, MemberSid string,
MinPasswordAge string, MinPasswordLength string, MixedDomainMode string, NASIdentifier string,
NASIPv4Address string, NASIPv6Address string, NASPort string, NASPortType string,
NetworkPolicyName string, NewDate string, NewMaxUsers string, NewProcessId string,
NewProcessName string, NewRemark string, NewShareFlags string, NewTime string, NewUacValue string,
NewValue string, NewValueType string, ObjectName string, ObjectServer string, ObjectType string,
ObjectValueName string, OemInformation string, OldMaxUsers string, OldRemark string,
OldShareFlags string, OldUacValue string, OldValue string, OldValueType string,
OperationType string, PackageName string, ParentProcessName string, PartitionKey string,
PasswordHistoryLength string, PasswordLastSet string, PasswordProperties string,
PreviousDate string, PreviousTime string, PrimaryGroupId string, PrivateKeyUsageCount string,
PrivilegeList string, Process string, ProcessId string, ProcessName string, Properties string,
ProfilePath string, ProtocolSequence string, ProxyPolicyName string, QuarantineHelpURL string,
QuarantineSessionID string, QuarantineSessionIdentifier string, QuarantineState string,
QuarantineSystemHealthResult string, RelativeTargetName string, RemoteIpAddress string,
RemotePort string, Requester string, RequestId string, RestrictedAdminMode string,
RowsDeleted string, SamAccountName string, ScriptPath string, SecurityDescriptor string,
ServiceAccount string, ServiceFileName string, ServiceName string, ServiceStartType int,
ServiceType string, SessionName string, ShareLocalPath string, ShareName string, SidHistory string,
SourceComputerId string, Status string, StorageAccount string, SubcategoryGuid string,
SubcategoryId string, Subject string, SubjectAccount string, SubjectDomainName string,
SubjectKeyIdentifier string, SubjectLogonId string, SubjectMachineName string,
SubjectMachineSID string, SubjectUserName string, SubjectUserSid string, SubStatus string,
TableId string, TargetAccount string, TargetDomainName string, TargetInfo string,
TargetLinkedLogonId string, TargetLogonGuid string, TargetLogonId string,
TargetOutboundDomainName string, TargetOutboundUserName string, TargetServerName string,
TargetSid string, TargetUser string, TargetUserName string, TargetUserSid string,
Task int, TemplateContent string, TemplateDSObjectFQDN string, TemplateInternalName string,
TemplateOID string, TemplateSchemaVersion string, TemplateVersion string, TokenElevationType string,
TransmittedServices string, UserAccountControl string, UserParameters string,
UserPrincipalName string, UserWorkstations string, VirtualAccount string, VendorIds string,
Workstation string, WorkstationName string
"""

_SYSLOG = """
CollectorHostName string, EventTime datetime, Facility string, HostIP string, HostName string,
MG string, ProcessID long, ProcessName string, SeverityLevel string, SyslogMessage string
"""

_COMMON_SECURITY_LOG = """
Activity string, ApplicationProtocol string, DestinationHostName string, DestinationIP string,
DestinationPort int, DestinationUserName string, DeviceAction string, DeviceEventClassID string,
DeviceProduct string, DeviceVendor string, DeviceVersion string, LogSeverity string,
Message string, Protocol string, ReceivedBytes long, RequestURL string, SentBytes long,
SourceHostName string, SourceIP string, SourcePort int, SourceUserName string
"""

_SIGNIN_LOGS = """
AppDisplayName string, AppId string, ClientAppUsed string, ConditionalAccessStatus string,
IPAddress string, Location string, LocationDetails dynamic, DeviceDetail dynamic,
ResultDescription string, ResultType string, RiskLevelDuringSignIn string, Status dynamic,
UserDisplayName string, UserPrincipalName string, UserId string
"""

_SURICATA_EVE = """
EventType string, SrcIp string, SrcPort int, DestIp string, DestPort int, Proto string,
AppProto string, FlowId long, InIface string, Alert dynamic, Dns dynamic, Http dynamic,
Tls dynamic, Flow dynamic, Fileinfo dynamic
"""


def _parse(spec):
    columns = {}
    for item in spec.replace("\n", " ").split(","):
        if item.strip():
            name, kind = item.split()
            columns[name] = kind
    return columns


DOCUMENTED_COLUMNS = {
    "SecurityEvent": _parse(_SECURITY_EVENT),
    "Syslog": _parse(_SYSLOG),
    "CommonSecurityLog": _parse(_COMMON_SECURITY_LOG),
    "SigninLogs": _parse(_SIGNIN_LOGS),
    "SuricataEve": _parse(_SURICATA_EVE),
}


def hot_columns(table):
    """{Kusto column: storage column} for the typed columns of `table`."""
    return HOT_COLUMNS.get(table, DEFAULT_HOT)


def seeded_columns(table):
    """The columns a table has before any event arrives: standard ∪ documented."""
    return {**STANDARD_COLUMNS, **DOCUMENTED_COLUMNS.get(table, {})}


def infer_type(value):
    """The Kusto type of a JSON value, for a column seen for the first time."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "real"
    if isinstance(value, (dict, list)):
        return "dynamic"
    return "string"
