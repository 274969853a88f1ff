using Xunit;

namespace Fleetkey.Policies.Tests;

public sealed class PolicyEvaluatorTests
{
    private const string Arn = "arn:aws:iot:us-east-1:123456789012";

    private static readonly Dictionary<string, string> Device = new(StringComparer.Ordinal)
    {
        ["iot:ClientId"] = "sensor-1",
        ["iot:Connection.Thing.ThingName"] = "sensor-1",
    };

    private static PolicyDocument Policy(string statements, string version = "2012-10-17")
        => PolicyDocumentParser.Parse($$"""{"Version":"{{version}}","Statement":{{statements}}}""");

    public static TheoryData<string, string, string, bool> Cases => new()
    {
        // Nothing granted: implicit deny.
        { """{"Effect":"Allow","Action":"iot:Publish","Resource":"*"}""", "iot:Connect", $"{Arn}:client/sensor-1", false },
        { """{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}""", "iot:Connect", $"{Arn}:client/sensor-1", true },
        // Actions: case-insensitive, * and ?.
        { """{"Effect":"Allow","Action":"IOT:CONNECT","Resource":"*"}""", "iot:Connect", $"{Arn}:client/x", true },
        { """{"Effect":"Allow","Action":"iot:*Shadow","Resource":"*"}""", "iot:GetThingShadow", $"{Arn}:thing/x", true },
        { """{"Effect":"Allow","Action":"iot:*Shadow","Resource":"*"}""", "iot:Publish", $"{Arn}:topic/x", false },
        { """{"Effect":"Allow","Action":"iot:?ublish","Resource":"*"}""", "iot:Publish", $"{Arn}:topic/x", true },
        { """{"Effect":"Allow","Action":"iot:?ublish","Resource":"*"}""", "iot:RetainPublish", $"{Arn}:topic/x", false },
        // Resources: case-sensitive, wildcards; + and # literal.
        { $$"""{"Effect":"Allow","Action":"iot:Publish","Resource":"{{Arn}}:topic/a/*"}""", "iot:Publish", $"{Arn}:topic/a/b/c", true },
        { $$"""{"Effect":"Allow","Action":"iot:Publish","Resource":"{{Arn}}:topic/a/*"}""", "iot:Publish", $"{Arn}:topic/A/b", false },
        { $$"""{"Effect":"Allow","Action":"iot:Publish","Resource":"{{Arn}}:topic/a/?"}""", "iot:Publish", $"{Arn}:topic/a/bc", false },
        { $$"""{"Effect":"Allow","Action":"iot:Subscribe","Resource":"{{Arn}}:topicfilter/a/+"}""", "iot:Subscribe", $"{Arn}:topicfilter/a/b", false },
        { $$"""{"Effect":"Allow","Action":"iot:Subscribe","Resource":"{{Arn}}:topicfilter/a/+"}""", "iot:Subscribe", $"{Arn}:topicfilter/a/+", true },
        // Policy variables.
        { $$"""{"Effect":"Allow","Action":"iot:Connect","Resource":"{{Arn}}:client/${iot:Connection.Thing.ThingName}"}""", "iot:Connect", $"{Arn}:client/sensor-1", true },
        { $$"""{"Effect":"Allow","Action":"iot:Connect","Resource":"{{Arn}}:client/${iot:Connection.Thing.ThingName}"}""", "iot:Connect", $"{Arn}:client/sensor-2", false },
        { $$"""{"Effect":"Allow","Action":"iot:Publish","Resource":"{{Arn}}:topic/${iot:ClientId}/*"}""", "iot:Publish", $"{Arn}:topic/sensor-1/data", true },
        { $$"""{"Effect":"Allow","Action":"iot:Publish","Resource":"{{Arn}}:topic/${iot:Connection.Thing.Attributes[room]}"}""", "iot:Publish", $"{Arn}:topic/", false },
        { $$"""{"Effect":"Allow","Action":"iot:Publish","Resource":"{{Arn}}:topic/a${*}"}""", "iot:Publish", $"{Arn}:topic/a*", true },
        { $$"""{"Effect":"Allow","Action":"iot:Publish","Resource":"{{Arn}}:topic/a${*}"}""", "iot:Publish", $"{Arn}:topic/ab", false },
        // Explicit deny wins.
        { $$"""[{"Effect":"Allow","Action":"iot:*","Resource":"*"},{"Effect":"Deny","Action":"iot:Publish","Resource":"{{Arn}}:topic/secret"}]""", "iot:Publish", $"{Arn}:topic/secret", false },
        { $$"""[{"Effect":"Allow","Action":"iot:*","Resource":"*"},{"Effect":"Deny","Action":"iot:Publish","Resource":"{{Arn}}:topic/secret"}]""", "iot:Publish", $"{Arn}:topic/open", true },
        // A Deny naming an absent variable still denies (fail closed).
        { $$"""[{"Effect":"Allow","Action":"iot:*","Resource":"*"},{"Effect":"Deny","Action":"iot:Publish","Resource":"{{Arn}}:topic/${iot:Connection.Thing.ThingTypeName}"}]""", "iot:Publish", $"{Arn}:topic/x", false },
        // NotAction / NotResource.
        { """{"Effect":"Allow","NotAction":"iot:Publish","Resource":"*"}""", "iot:Subscribe", $"{Arn}:topicfilter/x", true },
        { """{"Effect":"Allow","NotAction":"iot:Publish","Resource":"*"}""", "iot:Publish", $"{Arn}:topic/x", false },
        { $$"""{"Effect":"Allow","Action":"iot:Publish","NotResource":"{{Arn}}:topic/secret/*"}""", "iot:Publish", $"{Arn}:topic/open", true },
        { $$"""{"Effect":"Allow","Action":"iot:Publish","NotResource":"{{Arn}}:topic/secret/*"}""", "iot:Publish", $"{Arn}:topic/secret/x", false },
        // Conditions.
        { """{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringEquals":{"iot:ClientId":["other","sensor-1"]}}}""", "iot:Connect", $"{Arn}:client/x", true },
        { """{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringEquals":{"iot:ClientId":"other"}}}""", "iot:Connect", $"{Arn}:client/x", false },
        { """{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringLike":{"iot:ClientId":"sensor-*"}}}""", "iot:Connect", $"{Arn}:client/x", true },
        { """{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringEquals":{"iot:ClientId":"${iot:Connection.Thing.ThingName}"}}}""", "iot:Connect", $"{Arn}:client/x", true },
        { """{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"Null":{"aws:SourceIp":"true"}}}""", "iot:Connect", $"{Arn}:client/x", true },
        { """{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:SourceIp":"1.2.3.4"}}}""", "iot:Connect", $"{Arn}:client/x", true },
        { """{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringEquals":{"aws:SourceIp":"1.2.3.4"}}}""", "iot:Connect", $"{Arn}:client/x", false },
        // A request value its operator cannot read (a client id is no address) never allows.
        { """{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"IpAddress":{"iot:ClientId":"10.0.0.0/8"}}}""", "iot:Connect", $"{Arn}:client/x", false },
        { """{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"NotIpAddress":{"iot:ClientId":"10.0.0.0/8"}}}""", "iot:Connect", $"{Arn}:client/x", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void IsAllowed_Table(string statements, string action, string resource, bool expected)
    {
        Assert.Equal(expected, PolicyEvaluator.IsAllowed([Policy(statements)], action, resource, Device));
    }

    [Fact]
    public void IsAllowed_SubstitutedValueIsLiteral_NotAWildcard()
    {
        var policy = Policy($$"""{"Effect":"Allow","Action":"iot:Publish","Resource":"{{Arn}}:topic/${iot:ClientId}"}""");
        var star = new Dictionary<string, string>(StringComparer.Ordinal) { ["iot:ClientId"] = "*" };

        Assert.False(PolicyEvaluator.IsAllowed([policy], "iot:Publish", $"{Arn}:topic/anything", star));
        Assert.True(PolicyEvaluator.IsAllowed([policy], "iot:Publish", $"{Arn}:topic/*", star));
    }

    [Fact]
    public void IsAllowed_LegacyVersion_VariablesAreLiteralText()
    {
        var policy = Policy($$"""{"Effect":"Allow","Action":"iot:Publish","Resource":"{{Arn}}:topic/${iot:ClientId}"}""", "2008-10-17");

        Assert.False(PolicyEvaluator.IsAllowed([policy], "iot:Publish", $"{Arn}:topic/sensor-1", Device));
        Assert.True(PolicyEvaluator.IsAllowed([policy], "iot:Publish", $"{Arn}:topic/${{iot:ClientId}}", Device));
    }

    [Fact]
    public void IsAllowed_DenyInOnePolicy_OverridesAllowInAnother()
    {
        var allow = Policy("""{"Effect":"Allow","Action":"iot:*","Resource":"*"}""");
        var deny = Policy("""{"Effect":"Deny","Action":"iot:Connect","Resource":"*"}""");

        Assert.True(PolicyEvaluator.IsAllowed([allow], "iot:Connect", $"{Arn}:client/x", Device));
        Assert.False(PolicyEvaluator.IsAllowed([allow, deny], "iot:Connect", $"{Arn}:client/x", Device));
        Assert.False(PolicyEvaluator.IsAllowed([], "iot:Connect", $"{Arn}:client/x", Device));
    }

    [Theory]
    [InlineData("""{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}""", PolicyDecision.Allowed)]
    [InlineData("""{"Effect":"Allow","Action":"iot:Publish","Resource":"*"}""", PolicyDecision.ImplicitDeny)]
    [InlineData("""[{"Effect":"Allow","Action":"iot:*","Resource":"*"},{"Effect":"Deny","Action":"iot:Connect","Resource":"*"}]""", PolicyDecision.ExplicitDeny)]
    // A Deny whose variable is absent still denies (fail closed); an Allow in that state does not allow.
    [InlineData("""[{"Effect":"Allow","Action":"iot:*","Resource":"*"},{"Effect":"Deny","Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/${iot:Connection.Thing.Attributes[x]}"}]""", PolicyDecision.ExplicitDeny)]
    [InlineData("""{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/${iot:Connection.Thing.Attributes[x]}"}""", PolicyDecision.ImplicitDeny)]
    public void Decide_Table_AllowedExplicitOrImplicitDeny(string statements, PolicyDecision expected)
    {
        var decision = PolicyEvaluator.Decide([Policy(statements)], "iot:Connect", $"{Arn}:client/sensor-1", Device);

        Assert.Equal(expected, decision);
        Assert.Equal(expected == PolicyDecision.Allowed, PolicyEvaluator.IsAllowed([Policy(statements)], "iot:Connect", $"{Arn}:client/sensor-1", Device));
    }
}
