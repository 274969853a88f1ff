using System.Collections.ObjectModel;
using Xunit;

namespace Fleetkey.Policies.Tests;

/// <summary>
/// Identity policies (control-plane access keys) decided end to end: documents parsed in the identity
/// dialect × (action, resource, request context) → Allowed, ExplicitDeny or ImplicitDeny. Each row
/// is paired with a neighbour that differs in the one thing the row is about, so that a row passes
/// only while its feature works.
/// </summary>
public sealed class IdentityPolicyTableTests
{
    private const string Arn = "arn:aws:iot:us-east-1:000000000000";
    private const string CaCert = Arn + ":cacert/abc123";
    private const string Sensor = Arn + ":thing/sensor-1";
    private const string Gateway = Arn + ":thing/gateway-1";
    private const string AccessKey = "arn:aws:fleetkey:us-east-1:000000000000:accesskey/AKIAEXAMPLE";

    private const string Now = "aws:CurrentTime=2026-03-01T12:00:00Z";

    private static readonly string AllowAll = Allow("*", "*");

    public static TheoryData<string, string[], string, string, string[], PolicyDecision> Cases => new()
    {
        // Actions: exact, wildcards, ?, case-insensitive.
        { "exact action", [Doc(Allow("iot:DeleteCACertificate", "*"))], "iot:DeleteCACertificate", CaCert, [], PolicyDecision.Allowed },
        { "exact action, another action", [Doc(Allow("iot:DeleteCACertificate", "*"))], "iot:DescribeCACertificate", CaCert, [], PolicyDecision.ImplicitDeny },
        { "Describe* allows a Describe", [Doc(Allow("iot:Describe*", "*"))], "iot:DescribeThing", Sensor, [], PolicyDecision.Allowed },
        { "Describe* does not allow a Delete", [Doc(Allow("iot:Describe*", "*"))], "iot:DeleteThing", Sensor, [], PolicyDecision.ImplicitDeny },
        { "iot:* allows any iot action", [Doc(Allow("iot:*", "*"))], "iot:DeleteCACertificate", CaCert, [], PolicyDecision.Allowed },
        { "iot:* does not allow fleetkey actions", [Doc(Allow("iot:*", "*"))], "fleetkey:CreateAccessKey", AccessKey, [], PolicyDecision.ImplicitDeny },
        { "* allows fleetkey actions", [Doc(Allow("*", "*"))], "fleetkey:CreateAccessKey", AccessKey, [], PolicyDecision.Allowed },
        { "? is one character", [Doc(Allow("iot:Describe?hing", "*"))], "iot:DescribeThing", Sensor, [], PolicyDecision.Allowed },
        { "? is not zero characters", [Doc(Allow("iot:Describe?hing", "*"))], "iot:Describehing", Sensor, [], PolicyDecision.ImplicitDeny },
        { "? is not two characters", [Doc(Allow("iot:Describe?hing", "*"))], "iot:DescribeTThing", Sensor, [], PolicyDecision.ImplicitDeny },
        { "actions ignore case", [Doc(Allow("IOT:describething", "*"))], "iot:DescribeThing", Sensor, [], PolicyDecision.Allowed },
        { "fleetkey actions ignore case", [Doc(Allow("FLEETKEY:createaccesskey", "*"))], "fleetkey:CreateAccessKey", AccessKey, [], PolicyDecision.Allowed },

        // fleetkey: actions.
        { "fleetkey action on its resource", [Doc(Allow("fleetkey:CreateAccessKey", "arn:aws:fleetkey:*:*:accesskey/*"))], "fleetkey:CreateAccessKey", AccessKey, [], PolicyDecision.Allowed },
        { "fleetkey action, another fleetkey action", [Doc(Allow("fleetkey:CreateAccessKey", "*"))], "fleetkey:DeleteAccessKey", AccessKey, [], PolicyDecision.ImplicitDeny },
        { "fleetkey:* allows fleetkey actions", [Doc(Allow("fleetkey:*", "*"))], "fleetkey:ListAccessKeys", AccessKey, [], PolicyDecision.Allowed },
        { "fleetkey:* does not allow iot actions", [Doc(Allow("fleetkey:*", "*"))], "iot:ListThings", Arn + ":thing/*", [], PolicyDecision.ImplicitDeny },

        // NotAction: everything except.
        { "NotAction allows what it does not name", [Doc(Statement("Allow", "NotAction", "iot:Delete*", "Resource", "*"))], "iot:DescribeThing", Sensor, [], PolicyDecision.Allowed },
        { "NotAction does not allow what it names", [Doc(Statement("Allow", "NotAction", "iot:Delete*", "Resource", "*"))], "iot:DeleteCACertificate", CaCert, [], PolicyDecision.ImplicitDeny },

        // NotResource.
        { "NotResource allows other resources", [Doc(Statement("Allow", "Action", "iot:*", "NotResource", "arn:aws:iot:*:*:cacert/*"))], "iot:DeleteThing", Sensor, [], PolicyDecision.Allowed },
        { "NotResource does not allow its resources", [Doc(Statement("Allow", "Action", "iot:*", "NotResource", "arn:aws:iot:*:*:cacert/*"))], "iot:DeleteCACertificate", CaCert, [], PolicyDecision.ImplicitDeny },

        // Resource ARN wildcards, case-sensitive.
        { "resource wildcard", [Doc(Allow("iot:DescribeThing", "arn:aws:iot:*:*:thing/sensor-*"))], "iot:DescribeThing", Sensor, [], PolicyDecision.Allowed },
        { "resource wildcard, another thing", [Doc(Allow("iot:DescribeThing", "arn:aws:iot:*:*:thing/sensor-*"))], "iot:DescribeThing", Gateway, [], PolicyDecision.ImplicitDeny },
        { "resources are case-sensitive", [Doc(Allow("iot:DescribeThing", "arn:aws:iot:*:*:thing/Sensor-*"))], "iot:DescribeThing", Sensor, [], PolicyDecision.ImplicitDeny },

        // An explicit Deny in one policy beats an Allow in another; nothing allows: implicit deny.
        { "Deny in another policy wins", [Doc(Allow("iot:*", "*")), Doc(Deny("iot:DeleteCACertificate", "*"))], "iot:DeleteCACertificate", CaCert, [], PolicyDecision.ExplicitDeny },
        { "Deny of another action", [Doc(Allow("iot:*", "*")), Doc(Deny("iot:DeleteCACertificate", "*"))], "iot:DescribeCACertificate", CaCert, [], PolicyDecision.Allowed },
        { "no policy", [], "iot:DescribeThing", Sensor, [], PolicyDecision.ImplicitDeny },

        // IpAddress / NotIpAddress.
        { "IpAddress /32, another address", [Doc(Allow("*", "*", IpAddress("127.0.0.1/32")))], "iot:DescribeThing", Sensor, ["aws:SourceIp=127.0.0.2"], PolicyDecision.ImplicitDeny },
        { "IpAddress /32, that address", [Doc(Allow("*", "*", IpAddress("127.0.0.1/32")))], "iot:DescribeThing", Sensor, ["aws:SourceIp=127.0.0.1"], PolicyDecision.Allowed },
        { "IpAddress /24, inside", [Doc(Allow("*", "*", IpAddress("203.0.113.0/24")))], "iot:DescribeThing", Sensor, ["aws:SourceIp=203.0.113.77"], PolicyDecision.Allowed },
        { "IpAddress /24, outside", [Doc(Allow("*", "*", IpAddress("203.0.113.0/24")))], "iot:DescribeThing", Sensor, ["aws:SourceIp=203.0.114.1"], PolicyDecision.ImplicitDeny },
        { "IpAddress bare address is /32", [Doc(Allow("*", "*", IpAddress("127.0.0.1")))], "iot:DescribeThing", Sensor, ["aws:SourceIp=127.0.0.1"], PolicyDecision.Allowed },
        { "IpAddress bare address is not wider", [Doc(Allow("*", "*", IpAddress("127.0.0.0")))], "iot:DescribeThing", Sensor, ["aws:SourceIp=127.0.0.1"], PolicyDecision.ImplicitDeny },
        { "IpAddress bits after the prefix are ignored", [Doc(Allow("*", "*", IpAddress("203.0.113.5/24")))], "iot:DescribeThing", Sensor, ["aws:SourceIp=203.0.113.200"], PolicyDecision.Allowed },
        { "IpAddress any of several blocks", [Doc(Allow("*", "*", """{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","127.0.0.0/8"]}}"""))], "iot:DescribeThing", Sensor, ["aws:SourceIp=127.0.0.5"], PolicyDecision.Allowed },
        { "IpAddress, key absent", [Doc(Allow("*", "*", IpAddress("127.0.0.1/32")))], "iot:DescribeThing", Sensor, [], PolicyDecision.ImplicitDeny },
        { "NotIpAddress Deny, outside the office", [Doc(AllowAll, Deny("*", "*", """{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}"""))], "iot:DescribeThing", Sensor, ["aws:SourceIp=198.51.100.1"], PolicyDecision.ExplicitDeny },
        { "NotIpAddress Deny, inside the office", [Doc(AllowAll, Deny("*", "*", """{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}"""))], "iot:DescribeThing", Sensor, ["aws:SourceIp=192.0.2.9"], PolicyDecision.Allowed },
        { "NotIpAddress Deny, key absent", [Doc(AllowAll, Deny("*", "*", """{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}"""))], "iot:DescribeThing", Sensor, [], PolicyDecision.ExplicitDeny },
        { "IPv6 block, inside", [Doc(Allow("*", "*", IpAddress("2001:db8::/32")))], "iot:DescribeThing", Sensor, ["aws:SourceIp=2001:db8:85a3::8a2e:370:7334"], PolicyDecision.Allowed },
        { "IPv6 block, outside", [Doc(Allow("*", "*", IpAddress("2001:db8::/32")))], "iot:DescribeThing", Sensor, ["aws:SourceIp=2001:db9::1"], PolicyDecision.ImplicitDeny },
        { "IPv6 block, upper case, inside", [Doc(Allow("*", "*", IpAddress("2001:DB8:1234:5678::/64")))], "iot:DescribeThing", Sensor, ["aws:SourceIp=2001:db8:1234:5678::1"], PolicyDecision.Allowed },
        { "IPv6 block, IPv4 address", [Doc(Allow("*", "*", IpAddress("2001:db8::/32")))], "iot:DescribeThing", Sensor, ["aws:SourceIp=127.0.0.1"], PolicyDecision.ImplicitDeny },
        { "IPv6 bare address is /128", [Doc(Allow("*", "*", IpAddress("2001:db8::1")))], "iot:DescribeThing", Sensor, ["aws:SourceIp=2001:db8::2"], PolicyDecision.ImplicitDeny },
        { "IPv4-mapped address, IPv4 block", [Doc(Allow("*", "*", IpAddress("127.0.0.1/32")))], "iot:DescribeThing", Sensor, ["aws:SourceIp=::ffff:127.0.0.1"], PolicyDecision.Allowed },
        { "IPv4-mapped address, outside the IPv4 block", [Doc(Allow("*", "*", IpAddress("127.0.0.1/32")))], "iot:DescribeThing", Sensor, ["aws:SourceIp=::ffff:127.0.0.2"], PolicyDecision.ImplicitDeny },
        { "IPv4-mapped address, NotIpAddress Deny", [Doc(AllowAll, Deny("*", "*", """{"NotIpAddress":{"aws:SourceIp":"127.0.0.0/8"}}"""))], "iot:DescribeThing", Sensor, ["aws:SourceIp=::ffff:127.0.0.9"], PolicyDecision.Allowed },
        { "IPv4-mapped address, an IPv6 block it is not in", [Doc(Allow("*", "*", IpAddress("8f01:2730:3000::/37")))], "iot:DescribeThing", Sensor, ["aws:SourceIp=::ffff:3.242.234.100"], PolicyDecision.ImplicitDeny },
        { "IPv4 address, IPv4-mapped block", [Doc(Allow("*", "*", IpAddress("::ffff:192.0.2.0/120")))], "iot:DescribeThing", Sensor, ["aws:SourceIp=192.0.2.7"], PolicyDecision.Allowed },
        { "request address unreadable, Allow", [Doc(Allow("*", "*", """{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}"""))], "iot:DescribeThing", Sensor, ["aws:SourceIp=localhost"], PolicyDecision.ImplicitDeny },
        { "request address unreadable, Deny", [Doc(AllowAll, Deny("*", "*", IpAddress("10.0.0.0/8")))], "iot:DescribeThing", Sensor, ["aws:SourceIp=010.0.0.1"], PolicyDecision.ExplicitDeny },

        // String operators on aws:UserAgent: values keep their case rules.
        { "StringEquals, equal", [Doc(Allow("*", "*", """{"StringEquals":{"aws:UserAgent":"aws-cli/2.15.0"}}"""))], "iot:ListThings", Sensor, ["aws:UserAgent=aws-cli/2.15.0"], PolicyDecision.Allowed },
        { "StringEquals is case-sensitive", [Doc(Allow("*", "*", """{"StringEquals":{"aws:UserAgent":"aws-cli/2.15.0"}}"""))], "iot:ListThings", Sensor, ["aws:UserAgent=AWS-CLI/2.15.0"], PolicyDecision.ImplicitDeny },
        { "StringEqualsIgnoreCase", [Doc(Allow("*", "*", """{"StringEqualsIgnoreCase":{"aws:UserAgent":"aws-cli/2.15.0"}}"""))], "iot:ListThings", Sensor, ["aws:UserAgent=AWS-CLI/2.15.0"], PolicyDecision.Allowed },
        { "StringLike, matching", [Doc(Allow("*", "*", """{"StringLike":{"aws:UserAgent":"aws-cli/*"}}"""))], "iot:ListThings", Sensor, ["aws:UserAgent=aws-cli/2.15.0 Python/3.11"], PolicyDecision.Allowed },
        { "StringLike, not matching", [Doc(Allow("*", "*", """{"StringLike":{"aws:UserAgent":"aws-cli/*"}}"""))], "iot:ListThings", Sensor, ["aws:UserAgent=Boto3/1.34.0"], PolicyDecision.ImplicitDeny },
        { "StringNotLike Deny", [Doc(AllowAll, Deny("*", "*", """{"StringNotLike":{"aws:UserAgent":"aws-cli/*"}}"""))], "iot:ListThings", Sensor, ["aws:UserAgent=Boto3/1.34.0"], PolicyDecision.ExplicitDeny },

        // IfExists: an absent key holds; a present one is checked.
        { "IfExists, key absent", [Doc(Allow("*", "*", """{"StringEqualsIfExists":{"aws:UserAgent":"aws-cli/2.15.0"}}"""))], "iot:ListThings", Sensor, [], PolicyDecision.Allowed },
        { "without IfExists, key absent", [Doc(Allow("*", "*", """{"StringEquals":{"aws:UserAgent":"aws-cli/2.15.0"}}"""))], "iot:ListThings", Sensor, [], PolicyDecision.ImplicitDeny },
        { "IfExists, key present and different", [Doc(Allow("*", "*", """{"StringEqualsIfExists":{"aws:UserAgent":"aws-cli/2.15.0"}}"""))], "iot:ListThings", Sensor, ["aws:UserAgent=curl/8.0"], PolicyDecision.ImplicitDeny },
        { "IpAddressIfExists, key absent", [Doc(Allow("*", "*", """{"IpAddressIfExists":{"aws:SourceIp":"127.0.0.1/32"}}"""))], "iot:ListThings", Sensor, [], PolicyDecision.Allowed },
        { "IpAddressIfExists, key present, outside", [Doc(Allow("*", "*", """{"IpAddressIfExists":{"aws:SourceIp":"127.0.0.1/32"}}"""))], "iot:ListThings", Sensor, ["aws:SourceIp=127.0.0.2"], PolicyDecision.ImplicitDeny },
        { "NumericLessThanIfExists, key absent", [Doc(Allow("*", "*", """{"NumericLessThanIfExists":{"fleetkey:MaxResults":"100"}}"""))], "iot:ListThings", Sensor, [], PolicyDecision.Allowed },

        // Null.
        { "Null true, key absent", [Doc(Allow("*", "*", """{"Null":{"aws:TokenIssueTime":"true"}}"""))], "iot:ListThings", Sensor, [], PolicyDecision.Allowed },
        { "Null true, key present", [Doc(Allow("*", "*", """{"Null":{"aws:TokenIssueTime":"true"}}"""))], "iot:ListThings", Sensor, ["aws:TokenIssueTime=2026-03-01T11:00:00Z"], PolicyDecision.ImplicitDeny },
        { "Null false, key present", [Doc(Allow("*", "*", """{"Null":{"aws:TokenIssueTime":"false"}}"""))], "iot:ListThings", Sensor, ["aws:TokenIssueTime=2026-03-01T11:00:00Z"], PolicyDecision.Allowed },

        // Bool aws:SecureTransport.
        { "Bool Deny without TLS", [Doc(AllowAll, Deny("*", "*", """{"Bool":{"aws:SecureTransport":"false"}}"""))], "iot:ListThings", Sensor, ["aws:SecureTransport=false"], PolicyDecision.ExplicitDeny },
        { "Bool Deny, over TLS", [Doc(AllowAll, Deny("*", "*", """{"Bool":{"aws:SecureTransport":"false"}}"""))], "iot:ListThings", Sensor, ["aws:SecureTransport=true"], PolicyDecision.Allowed },
        { "Bool as a JSON boolean", [Doc(Allow("*", "*", """{"Bool":{"aws:SecureTransport":true}}"""))], "iot:ListThings", Sensor, ["aws:SecureTransport=true"], PolicyDecision.Allowed },

        // Date* on aws:CurrentTime (ISO 8601) and aws:EpochTime.
        { "DateLessThan, before", [Doc(Allow("*", "*", """{"DateLessThan":{"aws:CurrentTime":"2026-06-01T00:00:00Z"}}"""))], "iot:ListThings", Sensor, [Now], PolicyDecision.Allowed },
        { "DateLessThan, after", [Doc(Allow("*", "*", """{"DateLessThan":{"aws:CurrentTime":"2026-06-01T00:00:00Z"}}"""))], "iot:ListThings", Sensor, ["aws:CurrentTime=2026-07-01T00:00:00Z"], PolicyDecision.ImplicitDeny },
        { "DateLessThan, the same instant", [Doc(Allow("*", "*", """{"DateLessThan":{"aws:CurrentTime":"2026-03-01T12:00:00Z"}}"""))], "iot:ListThings", Sensor, [Now], PolicyDecision.ImplicitDeny },
        { "DateLessThanEquals, the same instant in another zone", [Doc(Allow("*", "*", """{"DateLessThanEquals":{"aws:CurrentTime":"2026-03-01T13:00:00+01:00"}}"""))], "iot:ListThings", Sensor, [Now], PolicyDecision.Allowed },
        { "DateGreaterThan, epoch seconds in the policy", [Doc(Allow("*", "*", """{"DateGreaterThan":{"aws:CurrentTime":"1767225600"}}"""))], "iot:ListThings", Sensor, [Now], PolicyDecision.Allowed },
        { "DateGreaterThan, epoch seconds later", [Doc(Allow("*", "*", """{"DateGreaterThan":{"aws:CurrentTime":"1798761600"}}"""))], "iot:ListThings", Sensor, [Now], PolicyDecision.ImplicitDeny },
        { "DateEquals, a date is its midnight", [Doc(Allow("*", "*", """{"DateEquals":{"aws:CurrentTime":"2026-03-01"}}"""))], "iot:ListThings", Sensor, ["aws:CurrentTime=2026-03-01T00:00:00Z"], PolicyDecision.Allowed },
        { "DateGreaterThanEquals on aws:EpochTime", [Doc(Allow("*", "*", """{"DateGreaterThanEquals":{"aws:EpochTime":"2026-03-01T12:00:00Z"}}"""))], "iot:ListThings", Sensor, ["aws:EpochTime=1772366400"], PolicyDecision.Allowed },
        { "request date unreadable, Allow", [Doc(Allow("*", "*", """{"DateLessThan":{"aws:CurrentTime":"2026-06-01T00:00:00Z"}}"""))], "iot:ListThings", Sensor, ["aws:CurrentTime=yesterday"], PolicyDecision.ImplicitDeny },
        { "request date unreadable, Deny", [Doc(AllowAll, Deny("*", "*", """{"DateGreaterThan":{"aws:CurrentTime":"2026-06-01T00:00:00Z"}}"""))], "iot:ListThings", Sensor, ["aws:CurrentTime=yesterday"], PolicyDecision.ExplicitDeny },

        // Numeric*.
        { "NumericLessThanEquals, equal", [Doc(Allow("*", "*", """{"NumericLessThanEquals":{"fleetkey:MaxResults":"100"}}"""))], "iot:ListThings", Sensor, ["fleetkey:MaxResults=100"], PolicyDecision.Allowed },
        { "NumericLessThanEquals, over", [Doc(Allow("*", "*", """{"NumericLessThanEquals":{"fleetkey:MaxResults":"100"}}"""))], "iot:ListThings", Sensor, ["fleetkey:MaxResults=101"], PolicyDecision.ImplicitDeny },
        { "NumericLessThan, decimals", [Doc(Allow("*", "*", """{"NumericLessThan":{"fleetkey:Ratio":2.5}}"""))], "iot:ListThings", Sensor, ["fleetkey:Ratio=2.49"], PolicyDecision.Allowed },
        { "NumericLessThan, numbers not text", [Doc(Allow("*", "*", """{"NumericLessThan":{"fleetkey:MaxResults":"100"}}"""))], "iot:ListThings", Sensor, ["fleetkey:MaxResults=99"], PolicyDecision.Allowed },
        { "NumericEquals, 10 is 10.0", [Doc(Allow("*", "*", """{"NumericEquals":{"fleetkey:MaxResults":"10"}}"""))], "iot:ListThings", Sensor, ["fleetkey:MaxResults=10.0"], PolicyDecision.Allowed },
        { "NumericNotEquals Deny", [Doc(AllowAll, Deny("*", "*", """{"NumericNotEquals":{"fleetkey:MaxResults":["10","20"]}}"""))], "iot:ListThings", Sensor, ["fleetkey:MaxResults=20"], PolicyDecision.Allowed },
        { "NumericGreaterThan on aws:EpochTime", [Doc(Allow("*", "*", """{"NumericGreaterThan":{"aws:EpochTime":1767225600}}"""))], "iot:ListThings", Sensor, ["aws:EpochTime=1772366400"], PolicyDecision.Allowed },
        { "request number unreadable", [Doc(Allow("*", "*", """{"NumericLessThan":{"fleetkey:MaxResults":"100"}}"""))], "iot:ListThings", Sensor, ["fleetkey:MaxResults=ten"], PolicyDecision.ImplicitDeny },

        // ARN operators: per component, case-sensitive.
        { "ArnLike", [Doc(Allow("*", "*", """{"ArnLike":{"aws:SourceArn":"arn:aws:iot:*:000000000000:thing/sensor-*"}}"""))], "iot:ListThings", Sensor, [$"aws:SourceArn={Sensor}"], PolicyDecision.Allowed },
        { "ArnEquals is ArnLike", [Doc(Allow("*", "*", """{"ArnEquals":{"aws:SourceArn":"arn:aws:iot:*:000000000000:thing/sensor-*"}}"""))], "iot:ListThings", Sensor, [$"aws:SourceArn={Sensor}"], PolicyDecision.Allowed },
        { "ArnLike, * stays in its component", [Doc(Allow("*", "*", """{"ArnLike":{"aws:SourceArn":"arn:aws:iot:*:000000000000:thing/*"}}"""))], "iot:ListThings", Sensor, ["aws:SourceArn=arn:aws:iot:us-east-1:999999999999:thing/x:000000000000:thing/y"], PolicyDecision.ImplicitDeny },
        { "StringLike's * crosses components", [Doc(Allow("*", "*", """{"StringLike":{"aws:SourceArn":"arn:aws:iot:*:000000000000:thing/*"}}"""))], "iot:ListThings", Sensor, ["aws:SourceArn=arn:aws:iot:us-east-1:999999999999:thing/x:000000000000:thing/y"], PolicyDecision.Allowed },
        { "ArnLike is case-sensitive", [Doc(Allow("*", "*", """{"ArnLike":{"aws:SourceArn":"arn:aws:iot:*:000000000000:thing/Sensor-*"}}"""))], "iot:ListThings", Sensor, [$"aws:SourceArn={Sensor}"], PolicyDecision.ImplicitDeny },
        { "ArnNotLike Deny", [Doc(AllowAll, Deny("*", "*", """{"ArnNotLike":{"aws:SourceArn":"arn:aws:iot:*:000000000000:thing/sensor-*"}}"""))], "iot:ListThings", Sensor, [$"aws:SourceArn={Gateway}"], PolicyDecision.ExplicitDeny },
        { "request ARN unreadable", [Doc(Allow("*", "*", """{"ArnNotLike":{"aws:SourceArn":"arn:aws:iot:*:*:thing/x"}}"""))], "iot:ListThings", Sensor, ["aws:SourceArn=thing/sensor-1"], PolicyDecision.ImplicitDeny },

        // Condition key names ignore case, in the policy and in the request; values keep their rules.
        { "policy key in another case", [Doc(Allow("*", "*", """{"IpAddress":{"AWS:SOURCEIP":"127.0.0.1/32"}}"""))], "iot:ListThings", Sensor, ["aws:SourceIp=127.0.0.1"], PolicyDecision.Allowed },
        { "request key in another case", [Doc(AllowAll, Deny("*", "*", """{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}"""))], "iot:ListThings", Sensor, ["AWS:sourceip=192.0.2.1"], PolicyDecision.Allowed },
        { "key case ignored, value case kept", [Doc(Allow("*", "*", """{"StringEquals":{"aws:useragent":"aws-cli/2.15.0"}}"""))], "iot:ListThings", Sensor, ["AWS:UserAgent=AWS-CLI/2.15.0"], PolicyDecision.ImplicitDeny },
        { "key in another case, Null false", [Doc(Allow("*", "*", """{"Null":{"aws:tokenissuetime":"false"}}"""))], "iot:ListThings", Sensor, ["aws:TokenIssueTime=2026-03-01T11:00:00Z"], PolicyDecision.Allowed },
        // Either value alone would escape the Deny; which of the two is meant cannot be told.
        { "request key twice in different case, Deny holds", [Doc(AllowAll, Deny("*", "*", """{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"""))], "iot:ListThings", Sensor, ["AWS:SOURCEIP=192.0.2.1", "aws:sourceip=192.0.2.2"], PolicyDecision.ExplicitDeny },

        // Several operators must all hold.
        { "two operators, both hold", [Doc(Allow("*", "*", """{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"},"Bool":{"aws:SecureTransport":"true"}}"""))], "iot:ListThings", Sensor, ["aws:SourceIp=127.0.0.1", "aws:SecureTransport=true"], PolicyDecision.Allowed },
        { "two operators, one fails", [Doc(Allow("*", "*", """{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"},"Bool":{"aws:SecureTransport":"true"}}"""))], "iot:ListThings", Sensor, ["aws:SourceIp=127.0.0.1", "aws:SecureTransport=false"], PolicyDecision.ImplicitDeny },

        // Set qualifiers stay undecided: an Allow does not allow, a Deny denies.
        { "ForAnyValue Allow is undecided", [Doc(Allow("*", "*", """{"ForAnyValue:StringEquals":{"aws:UserAgent":"aws-cli/2.15.0"}}"""))], "iot:ListThings", Sensor, ["aws:UserAgent=aws-cli/2.15.0"], PolicyDecision.ImplicitDeny },
        { "ForAllValues Deny is undecided", [Doc(AllowAll, Deny("*", "*", """{"ForAllValues:StringEquals":{"aws:UserAgent":"x"}}"""))], "iot:ListThings", Sensor, ["aws:UserAgent=aws-cli/2.15.0"], PolicyDecision.ExplicitDeny },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decide_IdentityPolicyTable(string name, string[] documents, string action, string resource, string[] context, PolicyDecision expected)
    {
        var policies = documents.Select(d => PolicyDocumentParser.Parse(d, PolicyDialect.IdentityPolicy)).ToArray();
        var pairs = context.Select(c => c.Split('=', 2)).Select(p => KeyValuePair.Create(p[0], p[1])).ToArray();

        // Exact keys first then a scan ignoring case (Dictionary), the scan through the interface
        // (another IReadOnlyDictionary), and a dictionary that ignores case itself: one decision.
        var ordinal = new Dictionary<string, string>(pairs, StringComparer.Ordinal);
        Assert.True(expected == PolicyEvaluator.Decide(policies, action, resource, ordinal), name);
        Assert.True(expected == PolicyEvaluator.Decide(policies, action, resource, new ReadOnlyDictionary<string, string>(ordinal)), name);
        if (pairs.DistinctBy(p => p.Key, StringComparer.OrdinalIgnoreCase).Count() == pairs.Length)
        {
            var ignoreCase = new Dictionary<string, string>(pairs, StringComparer.OrdinalIgnoreCase);
            Assert.True(expected == PolicyEvaluator.Decide(policies, action, resource, ignoreCase), name);
        }
    }

    private static string Doc(params string[] statements) => $$"""{"Version":"2012-10-17","Statement":[{{string.Join(",", statements)}}]}""";

    private static string Allow(string action, string resource, string? condition = null) => Statement("Allow", "Action", action, "Resource", resource, condition);

    private static string Deny(string action, string resource, string? condition = null) => Statement("Deny", "Action", action, "Resource", resource, condition);

    private static string Statement(string effect, string actionElement, string action, string resourceElement, string resource, string? condition = null) =>
        $$"""{"Effect":"{{effect}}","{{actionElement}}":"{{action}}","{{resourceElement}}":"{{resource}}"{{(condition is null ? "" : ",\"Condition\":" + condition)}}}""";

    private static string IpAddress(string range) => $$$"""{"IpAddress":{"aws:SourceIp":"{{{range}}}"}}""";
}
