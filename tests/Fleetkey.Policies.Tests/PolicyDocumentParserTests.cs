using Xunit;

namespace Fleetkey.Policies.Tests;

public sealed class PolicyDocumentParserTests
{
    private const string Arn = "arn:aws:iot:us-east-1:123456789012";

    // A statement body wrapped in a 2012-10-17 document; keeps the table readable.
    private static string Doc(string statement) => $$"""{"Version":"2012-10-17","Statement":{{statement}}}""";

    public static TheoryData<string, string> InvalidDocuments => new()
    {
        { "", "the policy document is empty" },
        { "   \n\t ", "the policy document is empty" },
        { "not json", "not valid JSON" },
        { """{"Version":"2012-10-17","Statement":[],}""", "not valid JSON" },
        { """["Statement"]""", "must be a JSON object, not an array" },
        { """{"Version":"2012-10-17"}""", "Statement: required" },
        { """{"Version":"2013-10-17","Statement":{"Effect":"Allow","Action":"iot:*","Resource":"*"}}""", "Version: \"2013-10-17\" is not a policy language version" },
        { """{"Version":20121017,"Statement":{"Effect":"Allow","Action":"iot:*","Resource":"*"}}""", "Version: must be a string" },
        { """{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iot:*","Resource":"*"},"Extra":1}""", "unknown element \"Extra\"" },
        { """{"Version":"2012-10-17","Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iot:*","Resource":"*"}}""", "not valid JSON: The JSON text has the key 'Version' twice in one object." },
        { """{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iot:*","Resource":"\ud800"}}""", "lone surrogate escape" },
        { Doc("[]"), "Statement: must contain at least one statement" },
        { Doc("\"x\""), "Statement: must be an object or an array of objects" },
        { Doc("""[{"Effect":"Allow","Action":"iot:*","Resource":"*"}, 3]"""), "Statement[1]: must be an object, not the number 3" },
        { Doc("""{"Action":"iot:*","Resource":"*"}"""), "Statement.Effect: required" },
        { Doc("""{"Effect":"allow","Action":"iot:*","Resource":"*"}"""), "Statement.Effect: must be \"Allow\" or \"Deny\", not \"allow\"" },
        { Doc("""[{"Effect":"Allow","Action":"iot:*","Resource":"*"},{"Effect":"Deny","Resource":"*"}]"""), "Statement[1]: must contain Action or NotAction" },
        { Doc("""{"Effect":"Allow","Action":"iot:*","NotAction":"iot:Connect","Resource":"*"}"""), "has both Action and NotAction" },
        { Doc("""{"Effect":"Allow","Action":"iot:*"}"""), "Statement: must contain Resource or NotResource" },
        { Doc("""{"Effect":"Allow","Action":"iot:*","Resource":"*","NotResource":"*"}"""), "has both Resource and NotResource" },
        { Doc("""{"Effect":"Allow","Action":[],"Resource":"*"}"""), "Statement.Action: must not be empty" },
        { Doc("""{"Effect":"Allow","Action":{},"Resource":"*"}"""), "Statement.Action: must be a string or an array of strings, not an object" },
        { Doc("""{"Effect":"Allow","Action":["iot:Connect",7],"Resource":"*"}"""), "Statement.Action[1]: must be a string, not the number 7" },
        { Doc("""{"Effect":"Allow","Action":"Connect","Resource":"*"}"""), "Statement.Action: Policy contains an invalid action \"Connect\"" },
        { Doc("""{"Effect":"Allow","Action":["iot:Connect","s3:GetObject"],"Resource":"*"}"""), "Statement.Action[1]: Policy contains an invalid action \"s3:GetObject\"" },
        { Doc("""{"Effect":"Allow","Action":"iot:Pub:lish","Resource":"*"}"""), "only one colon" },
        { Doc("""{"Effect":"Allow","Action":"iot:","Resource":"*"}"""), "the action name may contain only" },
        { Doc("""{"Effect":"Allow","Action":"iot:Pub lish","Resource":"*"}"""), "the action name may contain only" },
        { Doc("""{"Effect":"Allow","NotAction":"ec2:*","Resource":"*"}"""), "Statement.NotAction: Policy contains an invalid action \"ec2:*\"" },
        { Doc("""{"Effect":"Allow","Action":"iot:*","Resource":"topic/a"}"""), "Statement.Resource: The following resources are invalid : topic/a" },
        { Doc("""{"Effect":"Allow","Action":"iot:*","Resource":""}"""), "The following resources are invalid : " },
        { Doc("""{"Effect":"Allow","Action":"iot:*","Resource":["*","arn:aws-foo:iot:us-east-1:1:topic/a"]}"""), "Statement.Resource[1]: Partition \"aws-foo\" is not valid for resource \"arn:aws-foo:iot:us-east-1:1:topic/a\"" },
        { Doc("""{"Effect":"Allow","Action":"iot:*","Resource":"arn:aws:io*:us-east-1:1:topic/a"}"""), "the service \"io*\" must be fully qualified" },
        { Doc("""{"Effect":"Allow","Action":"iot:*","Resource":"arn:aws:iot:us-east-1:1:"}"""), "the resource part after the account is empty" },
        { Doc($$"""{"Effect":"Allow","Action":"iot:*","Resource":"{{Arn}}:topic/${iot:ClientId"}"""), "a policy variable \"${\" is not closed" },
        { Doc("""{"Effect":"Allow","Action":"iot:*","NotResource":[]}"""), "Statement.NotResource: must not be empty" },
        { Doc("""{"Effect":"Allow","Action":"iot:*","Resource":"*","Principal":"*"}"""), "Statement.Principal: not supported" },
        { Doc("""{"Effect":"Allow","Action":"iot:*","Resource":"*","effect":"Allow"}"""), "Statement: unknown element \"effect\"" },
        { Doc("""{"Effect":"Allow","Effect":"Deny","Action":"iot:*","Resource":"*"}"""), "The JSON text has the key 'Effect' twice in one object." },
        { Doc("""{"Sid":5,"Effect":"Allow","Action":"iot:*","Resource":"*"}"""), "Statement.Sid: must be a string" },
        { Doc("""[{"Sid":"a","Effect":"Allow","Action":"iot:*","Resource":"*"},{"Sid":"a","Effect":"Deny","Action":"iot:*","Resource":"*"}]"""), "Statement IDs (SID) in a single policy must be unique: \"a\"" },
        { Doc("""{"Effect":"Allow","Action":"iot:*","Resource":"*","Condition":[]}"""), "Statement.Condition: must be an object of condition operators" },
        { Doc("""{"Effect":"Allow","Action":"iot:*","Resource":"*","Condition":{"StringEqualz":{"a":"b"}}}"""), "Statement.Condition.StringEqualz: \"StringEqualz\" is not a condition operator" },
        { Doc("""{"Effect":"Allow","Action":"iot:*","Resource":"*","Condition":{"ForAnyValue::StringEquals":{"a":"b"}}}"""), "is not a condition operator" },
        { Doc("""{"Effect":"Allow","Action":"iot:*","Resource":"*","Condition":{"NullIfExists":{"a":"true"}}}"""), "\"NullIfExists\" is not a condition operator" },
        { Doc("""{"Effect":"Allow","Action":"iot:*","Resource":"*","Condition":{"Bool":"true"}}"""), "Statement.Condition.Bool: must be an object of condition keys" },
        { Doc("""{"Effect":"Allow","Action":"iot:*","Resource":"*","Condition":{"StringEquals":{"a":{}}}}"""), "Statement.Condition.StringEquals.a: a condition value must be a string, number or boolean, not an object" },
        { Doc("""{"Effect":"Allow","Action":"iot:*","Resource":"*","Condition":{"StringEquals":{"a":["x",null]}}}"""), "Statement.Condition.StringEquals.a[1]: a condition value must be a string, number or boolean, not null" },
    };

    [Theory]
    [MemberData(nameof(InvalidDocuments))]
    public void Parse_InvalidDocument_ThrowsWithSpecificReason(string json, string expectedFragment)
    {
        var e = Assert.Throws<PolicyDocumentException>(() => PolicyDocumentParser.Parse(json));

        Assert.StartsWith("Policy document is Malformed: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expectedFragment, e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> ValidDocuments => new()
    {
        Doc("""{"Effect":"Allow","Action":"iot:*","Resource":"*"}"""),
        Doc("""[{"Effect":"Allow","Action":["iot:Connect"],"Resource":["*"]}]"""),
        """{"Version":"2008-10-17","Statement":{"Effect":"Deny","Action":"iot:Publish","Resource":"*"}}""",
        """{"Statement":{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}}""",
        """{"Version":"2012-10-17","Id":"device-policy","Statement":{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}}""",
        Doc("""{"Effect":"Allow","Action":"*","Resource":"*"}"""),
        Doc("""{"Effect":"Allow","Action":["IOT:connect","iot:Get*","iot:*Shadow","iot:Update?hingShadow"],"Resource":"*"}"""),
        Doc("""{"Effect":"Allow","Action":["greengrass:*","greengrass:GetComponentVersionArtifact"],"Resource":"*"}"""),
        Doc($$"""{"Effect":"Allow","Action":"iot:Connect","Resource":"{{Arn}}:client/${iot:Connection.Thing.ThingName}"}"""),
        Doc($$"""{"Effect":"Allow","Action":"iot:Subscribe","Resource":"{{Arn}}:topicfilter/$aws/things/+/shadow/#"}"""),
        Doc("""{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:*:*:topic/a:b:c"}"""),
        Doc("""{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws-cn:iot:cn-north-1:1:topic/a"}"""),
        Doc("""{"Effect":"Allow","NotAction":"iot:Publish","NotResource":"arn:aws:iot:us-east-1:1:topic/secret"}"""),
        Doc("""{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{}}"""),
        Doc("""{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"ForAnyValue:StringLikeIfExists":{"iot:ClientId":["a*"]}}}"""),
    };

    [Theory]
    [MemberData(nameof(ValidDocuments))]
    public void Parse_ValidDocument_Succeeds(string json)
    {
        var document = PolicyDocumentParser.Parse(json);

        Assert.NotEmpty(document.Statements);
    }

    [Fact]
    public void Parse_SingleStrings_NormalisedToLists()
    {
        var document = PolicyDocumentParser.Parse(Doc("""{"Sid":"one","Effect":"Deny","Action":"iot:Publish","Resource":"*"}"""));

        var statement = Assert.Single(document.Statements);
        Assert.Equal("2012-10-17", document.Version);
        Assert.Equal("one", statement.Sid);
        Assert.Equal(PolicyEffect.Deny, statement.Effect);
        Assert.Equal(["iot:Publish"], statement.Actions);
        Assert.Empty(statement.NotActions);
        Assert.Equal(["*"], statement.Resources);
        Assert.Empty(statement.NotResources);
        Assert.Empty(statement.Conditions);
    }

    [Fact]
    public void Parse_NotActionAndNotResource_KeptApart()
    {
        var statement = Assert.Single(PolicyDocumentParser.Parse(
            Doc("""{"Effect":"Allow","NotAction":["iot:Publish","iot:Receive"],"NotResource":"arn:aws:iot:us-east-1:1:topic/x"}""")).Statements);

        Assert.Empty(statement.Actions);
        Assert.Equal(["iot:Publish", "iot:Receive"], statement.NotActions);
        Assert.Empty(statement.Resources);
        Assert.Equal(["arn:aws:iot:us-east-1:1:topic/x"], statement.NotResources);
    }

    [Fact]
    public void Parse_ConditionValues_NormalisedToStringLists()
    {
        var statement = Assert.Single(PolicyDocumentParser.Parse(Doc("""
            {"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{
              "StringEquals":{"iot:ClientId":"a","iot:Connection.Thing.IsAttached":["x","y"]},
              "Bool":{"iot:Connection.Thing.IsAttached":true},
              "NumericLessThan":{"k":10.50}}}
            """)).Statements);

        Assert.Equal(["a"], statement.Conditions["StringEquals"]["iot:ClientId"]);
        Assert.Equal(["x", "y"], statement.Conditions["StringEquals"]["iot:Connection.Thing.IsAttached"]);
        Assert.Equal(["true"], statement.Conditions["Bool"]["iot:Connection.Thing.IsAttached"]);
        Assert.Equal(["10.50"], statement.Conditions["NumericLessThan"]["k"]);
    }

    [Fact]
    public void Parse_NoVersion_IsLegacyLanguage()
    {
        var document = PolicyDocumentParser.Parse("""{"Statement":{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}}""");

        Assert.Equal("2008-10-17", document.Version);
    }

    [Fact]
    public void Parse_SeveralProblems_ReportsEveryOne()
    {
        var e = Assert.Throws<PolicyDocumentException>(() => PolicyDocumentParser.Parse(Doc("""
            [{"Effect":"Permit","Action":"iot:Connect","Resource":"*"},
             {"Effect":"Allow","Action":"s3:*","Resource":"bucket"}]
            """)));

        Assert.Contains("Statement[0].Effect", e.Message, StringComparison.Ordinal);
        Assert.Contains("Statement[1].Action", e.Message, StringComparison.Ordinal);
        Assert.Contains("Statement[1].Resource", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SignificantLength_IgnoresAllWhitespace()
    {
        Assert.Equal(0, PolicyDocumentParser.SignificantLength(" \t\r\n"));
        Assert.Equal(8, PolicyDocumentParser.SignificantLength("{ \"a b\" :\n 1 }"));
    }

    [Fact]
    public void Parse_AtDefaultLimit_AcceptedAndOneOver_Refused()
    {
        var atLimit = Padded(PolicyDocumentParser.DefaultMaxSignificantLength);
        Assert.Equal(2048, PolicyDocumentParser.SignificantLength(atLimit));
        PolicyDocumentParser.Parse(atLimit);

        var over = Padded(2049);
        var e = Assert.Throws<PolicyDocumentException>(() => PolicyDocumentParser.Parse(over));
        Assert.Contains("2049 characters long excluding whitespace; the maximum is 2048", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_WhitespaceDoesNotCountTowardsLimit()
    {
        var indented = Padded(2048).Replace(",", ",\n        ", StringComparison.Ordinal);
        Assert.True(indented.Length > 2048);

        PolicyDocumentParser.Parse(indented);
    }

    [Fact]
    public void Parse_ConfiguredLimit_Enforced()
    {
        var json = Padded(3000);

        Assert.Throws<PolicyDocumentException>(() => PolicyDocumentParser.Parse(json));
        Assert.Single(PolicyDocumentParser.Parse(json, 4096).Statements);
        Assert.Throws<PolicyDocumentException>(() => PolicyDocumentParser.Parse(Padded(100), 99));
    }

    public static TheoryData<string, string> InvalidIdentityDocuments => new()
    {
        { Doc("""{"Effect":"Allow","Action":"greengrass:*","Resource":"*"}"""), "Statement.Action: Policy contains an invalid action \"greengrass:*\": identity policies name only iot: and fleetkey: actions" },
        { Doc("""{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"""), "identity policies name only iot: and fleetkey: actions" },
        { Doc("""{"Effect":"Allow","Action":"CreateAccessKey","Resource":"*"}"""), "an action is \"iot:<name>\" or \"fleetkey:<name>\" (or \"*\")" },
        { Doc("""{"Effect":"Allow","Action":"fleetkey:*","Resource":"*","Principal":"*"}"""), "Statement.Principal: not supported; identity policies apply to the access key they are attached to" },
        { Doc("""[{"Sid":"a","Effect":"Allow","Action":"iot:*","Resource":"*"},{"Sid":"a","Effect":"Deny","Action":"iot:*","Resource":"*"}]"""), "Statement IDs (SID) in a single policy must be unique" },
        { Doc("""{"Effect":"Allow","NotAction":"fleetkey:*","NotResource":"topic/a"}"""), "Statement.NotResource: The following resources are invalid : topic/a" },
        { Cond("""{"IpAddress":{"aws:SourceIp":"not-an-ip"}}"""), "Statement.Condition.IpAddress.aws:SourceIp: \"not-an-ip\" is not an IPv4 or IPv6 address or CIDR block" },
        { Cond("""{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}"""), "\"10.0.0.0/33\" is not an IPv4 or IPv6 address or CIDR block" },
        { Cond("""{"IpAddress":{"aws:SourceIp":"10.0.0.0/"}}"""), "\"10.0.0.0/\" is not an IPv4" },
        { Cond("""{"IpAddress":{"aws:SourceIp":"10/8"}}"""), "\"10/8\" is not an IPv4" },
        { Cond("""{"IpAddress":{"aws:SourceIp":"010.0.0.1"}}"""), "\"010.0.0.1\" is not an IPv4" },
        { Cond("""{"IpAddress":{"aws:SourceIp":"256.0.0.1/32"}}"""), "\"256.0.0.1/32\" is not an IPv4" },
        { Cond("""{"IpAddress":{"aws:SourceIp":"2001:db8::/129"}}"""), "\"2001:db8::/129\" is not an IPv4" },
        { Cond("""{"IpAddress":{"aws:SourceIp":"fe80::1%eth0"}}"""), "\"fe80::1%eth0\" is not an IPv4" },
        { Cond("""{"IpAddress":{"aws:SourceIp":" 10.0.0.1"}}"""), "\" 10.0.0.1\" is not an IPv4" },
        { Cond("""{"IpAddress":{"aws:SourceIp":"${aws:SourceIp}"}}"""), "\"${aws:SourceIp}\" is not an IPv4" },
        { Cond("""{"NotIpAddressIfExists":{"aws:SourceIp":["10.0.0.0/8","10.0.0.0/8/8"]}}"""), "Statement.Condition.NotIpAddressIfExists.aws:SourceIp[1]: \"10.0.0.0/8/8\" is not an IPv4" },
        { Cond("""{"ForAnyValue:IpAddress":{"aws:SourceIp":"x"}}"""), "\"x\" is not an IPv4" },
        { Cond("""{"NumericLessThan":{"fleetkey:MaxResults":"ten"}}"""), "Statement.Condition.NumericLessThan.fleetkey:MaxResults: \"ten\" is not a number" },
        { Cond("""{"NumericEquals":{"fleetkey:MaxResults":true}}"""), "\"true\" is not a number" },
        { Cond("""{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}"""), "Statement.Condition.DateLessThan.aws:CurrentTime: \"tomorrow\" is not a date" },
        { Cond("""{"DateLessThan":{"aws:CurrentTime":"2026-02-30"}}"""), "\"2026-02-30\" is not a date" },
    };

    [Theory]
    [MemberData(nameof(InvalidIdentityDocuments))]
    public void Parse_IdentityDialect_InvalidDocument_ThrowsWithSpecificReason(string json, string expectedFragment)
    {
        var e = Assert.Throws<PolicyDocumentException>(() => PolicyDocumentParser.Parse(json, PolicyDialect.IdentityPolicy));

        Assert.StartsWith("Policy document is Malformed: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expectedFragment, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("AWS IoT", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> ValidIdentityDocuments => new()
    {
        Doc("""{"Effect":"Allow","Action":["fleetkey:CreateAccessKey","FLEETKEY:list*","iot:DeleteCACertificate","iot:Describe?hing"],"Resource":"*"}"""),
        Doc("""{"Effect":"Allow","Action":"*","Resource":"arn:aws:fleetkey:*:000000000000:accesskey/*"}"""),
        Doc("""{"Effect":"Allow","NotAction":"fleetkey:*","NotResource":"arn:aws:iot:*:*:cacert/*"}"""),
        Cond("""{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","127.0.0.1","2001:DB8:1234:5678::/64","::ffff:127.0.0.1/128","0.0.0.0/0","::/0","2001:db8::1"]}}"""),
        // IAM ignores the bits after the prefix (Access Analyzer suggests removing them, it does not refuse them).
        Cond("""{"NotIpAddress":{"aws:SourceIp":"203.0.113.5/24"}}"""),
        Cond("""{"NumericLessThanEquals":{"fleetkey:MaxResults":["100",2.5,-1,1e3]}}"""),
        Cond("""{"DateGreaterThan":{"aws:CurrentTime":["2026-01-31","2026-01-31T12:00:00Z","2026-01-31T12:00Z","2026-01-31T12:00:00.250+02:00","1767225600"]}}"""),
        // Operators whose values are not typed accept any text, policy variables included.
        Cond("""{"StringLike":{"aws:UserAgent":"${aws:username}*"},"ArnLike":{"aws:SourceArn":"arn:aws:iot:*:*:thing/${aws:username}"},"Bool":{"aws:SecureTransport":"true"}}"""),
    };

    [Theory]
    [MemberData(nameof(ValidIdentityDocuments))]
    public void Parse_IdentityDialect_ValidDocument_Succeeds(string json)
    {
        Assert.NotEmpty(PolicyDocumentParser.Parse(json, PolicyDialect.IdentityPolicy).Statements);
    }

    [Theory]
    [InlineData("fleetkey:CreateAccessKey", PolicyDialect.IdentityPolicy, PolicyDialect.IotPolicy, "AWS IoT policies name only iot: and greengrass: actions")]
    [InlineData("greengrass:GetComponentVersionArtifact", PolicyDialect.IotPolicy, PolicyDialect.IdentityPolicy, "identity policies name only iot: and fleetkey: actions")]
    public void Parse_VendorOfOneDialect_RefusedInTheOther(string action, PolicyDialect accepting, PolicyDialect refusing, string reason)
    {
        var json = Doc($$"""{"Effect":"Allow","Action":"{{action}}","Resource":"*"}""");

        Assert.Single(PolicyDocumentParser.Parse(json, accepting).Statements);
        var e = Assert.Throws<PolicyDocumentException>(() => PolicyDocumentParser.Parse(json, refusing));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Equal(accepting == PolicyDialect.IotPolicy, TryParse(json));
    }

    // The overloads without a dialect read AWS IoT policies.
    private static bool TryParse(string json)
    {
        try
        {
            PolicyDocumentParser.Parse(json);
            return true;
        }
        catch (PolicyDocumentException)
        {
            return false;
        }
    }

    [Fact]
    public void Parse_IdentityDialect_LimitIs6144ExcludingWhitespace()
    {
        var atLimit = PaddedStatements(PolicyDocumentParser.IdentityPolicyMaxSignificantLength);
        Assert.Equal(6144, PolicyDocumentParser.SignificantLength(atLimit));
        PolicyDocumentParser.Parse(atLimit.Replace(",", ",\n    ", StringComparison.Ordinal), PolicyDialect.IdentityPolicy);

        var e = Assert.Throws<PolicyDocumentException>(() => PolicyDocumentParser.Parse(PaddedStatements(6145), PolicyDialect.IdentityPolicy));
        Assert.Contains("6145 characters long excluding whitespace; the maximum is 6144", e.Message, StringComparison.Ordinal);

        // The IoT dialect keeps its own limit; an explicit limit overrides the dialect's.
        Assert.Throws<PolicyDocumentException>(() => PolicyDocumentParser.Parse(atLimit, PolicyDialect.IotPolicy));
        Assert.NotEmpty(PolicyDocumentParser.Parse(PaddedStatements(7000), PolicyDialect.IdentityPolicy, int.MaxValue).Statements);
        Assert.Throws<PolicyDocumentException>(() => PolicyDocumentParser.Parse(PaddedStatements(3000), PolicyDialect.IdentityPolicy, 2999));
    }

    [Fact]
    public void Parse_MalformedIpAddress_RefusedAsIdentityPolicyKeptAsIotPolicyWhereItNeverMatches()
    {
        var allowFrom = Cond("""{"IpAddress":{"aws:SourceIp":"10.0.0.300"}}""");
        var allowNotFrom = Cond("""{"NotIpAddress":{"aws:SourceIp":"10.0.0.300"}}""");
        var context = new Dictionary<string, string>(StringComparer.Ordinal) { ["aws:SourceIp"] = "10.0.0.1" };

        Assert.Throws<PolicyDocumentException>(() => PolicyDocumentParser.Parse(allowFrom, PolicyDialect.IdentityPolicy));
        Assert.False(PolicyEvaluator.IsAllowed([PolicyDocumentParser.Parse(allowFrom)], "iot:Connect", $"{Arn}:client/c", context));
        Assert.True(PolicyEvaluator.IsAllowed([PolicyDocumentParser.Parse(allowNotFrom)], "iot:Connect", $"{Arn}:client/c", context));
    }

    [Fact]
    public void Parse_UndefinedDialect_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PolicyDocumentParser.Parse(Doc("""{"Effect":"Allow","Action":"iot:*","Resource":"*"}"""), (PolicyDialect)7));
    }

    // A valid document of exactly `length` non-whitespace characters, in statements padded through
    // their Sids (unique, each at most MaxStringLength): past what Padded reaches.
    private static string PaddedStatements(int length)
    {
        var sids = Enumerable.Range(0, (length / 1500) + 1).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        string Build() => Doc("[" + string.Join(",", sids.Select(sid => $$"""{"Sid":"{{sid}}","Effect":"Allow","Action":"iot:*","Resource":"*"}""")) + "]");
        var missing = length - PolicyDocumentParser.SignificantLength(Build());
        for (var i = 0; missing > 0; i++)
        {
            var add = Math.Min(missing, PolicyDocumentParser.MaxStringLength - sids[i].Length);
            sids[i] += new string('s', add);
            missing -= add;
        }

        return Build();
    }

    // A statement allowing everything under `condition`.
    private static string Cond(string condition) => Doc($$"""{"Effect":"Allow","Action":"*","Resource":"*","Condition":{{condition}}}""");

    // A valid document of exactly `length` non-whitespace characters, padded through the Sid and, past
    // what one string may hold (MaxStringLength), through the Id.
    private static string Padded(int length)
    {
        var empty = Doc("""{"Sid":"","Effect":"Allow","Action":"iot:*","Resource":"*"}""");
        var pad = length - PolicyDocumentParser.SignificantLength(empty);
        if (pad <= PolicyDocumentParser.MaxStringLength)
        {
            return Doc($$"""{"Sid":"{{new string('s', pad)}}","Effect":"Allow","Action":"iot:*","Resource":"*"}""");
        }

        var id = pad - PolicyDocumentParser.MaxStringLength - "\"Id\":\"\",".Length;
        var sid = new string('s', PolicyDocumentParser.MaxStringLength);
        return $$$"""{"Id":"{{{new string('i', id)}}}","Version":"2012-10-17","Statement":{"Sid":"{{{sid}}}","Effect":"Allow","Action":"iot:*","Resource":"*"}}""";
    }
}
