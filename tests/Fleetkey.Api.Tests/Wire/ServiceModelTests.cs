using System.Text.Json.Nodes;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Paging;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Fleetkey.Api.Tests.Wire;

public sealed class ServiceModelTests
{
    private static readonly ServiceModel Model = ServiceModel.Iot;

    [Fact]
    public void Pattern_EveryPatternInTheModel_CompilesForDotNet()
    {
        var shapes = LoadShapes();
        var patterns = shapes.Select(s => s.Value?["pattern"]?.GetValue<string>()).OfType<string>().Distinct().ToList();

        Assert.True(patterns.Count > 40);
        Assert.Equal(patterns.Order(StringComparer.Ordinal), Model.Patterns().Order(StringComparer.Ordinal));
        foreach (var pattern in patterns)
        {
            _ = Model.Pattern(pattern).IsMatch("x");
        }
    }

    [Fact]
    public void Pattern_EveryPatternInTheModel_RunsWithoutBacktracking()
    {
        // Client input meets these patterns: linear time whatever the value, so no match can time out.
        var hostile = new string('a', 200_000) + "!";
        foreach (var pattern in Model.Patterns())
        {
            var regex = Model.Pattern(pattern);
            Assert.True(regex.Options.HasFlag(System.Text.RegularExpressions.RegexOptions.NonBacktracking), pattern);
            _ = regex.IsMatch(hostile);
        }
    }

    [Theory]
    [InlineData(@"[\p{Graph}\x20]*", "Plain text, with punctuation!", true)]
    [InlineData(@"[\p{Graph}\x20]*", "tab\there", false)]
    [InlineData(@"[\p{Graph}\x20]*", "new\nline", false)]
    [InlineData(@"[\p{Graph}\x20]*", "é", false)]
    [InlineData("[a-zA-Z0-9:_-]+", "thing:1", true)]
    [InlineData("[a-zA-Z0-9:_-]+", "thing 1", false)]
    [InlineData("[a-zA-Z0-9:_-]+", "thing\n", false)]
    [InlineData(@"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$", "Tag key ü", true)]
    [InlineData(@"[\p{Upper}\p{Digit}_]+", "ABC_1", true)]
    [InlineData(@"[\p{Upper}\p{Digit}_]+", "abc", false)]
    public void Pattern_JavaSemantics_MatchWholeValue(string pattern, string value, bool expected)
    {
        Assert.Equal(expected, Model.Pattern(pattern).IsMatch(value));
    }

    [Theory]
    [InlineData("CreateThing", "POST", "/things/{thingName}")]
    [InlineData("ListThings", "GET", "/things")]
    [InlineData("AddThingToThingGroup", "PUT", "/thing-groups/addThingToThingGroup")]
    [InlineData("DeleteCertificate", "DELETE", "/certificates/{certificateId}")]
    public void Operation_KnownOperations_HaveModelRoutes(string name, string method, string route)
    {
        var operation = Model.Operation(name);

        Assert.Equal(method, operation.Method);
        Assert.Equal(route, operation.RoutePattern);
    }

    [Fact]
    public void Operation_EveryOperation_HasAParseableRoute()
    {
        foreach (var model in new[] { ServiceModel.Iot, ServiceModel.Fleetkey })
        {
            foreach (var name in model.OperationNames())
            {
                _ = Microsoft.AspNetCore.Routing.Patterns.RoutePatternFactory.Parse(model.Operation(name).RoutePattern);
            }
        }
    }

    [Fact]
    public async Task Bind_QueryHeaderPathAndBody_ProducesTypedInput()
    {
        var context = Context("GET", "/things", "?maxResults=7&attributeName=serial&usePrefixAttributeValue=true", body: null);

        var (input, paging) = await RequestBinder.BindAsync(context, Model.Operation("ListThings"), Model);

        Assert.Equal(7, input["maxResults"]!.GetValue<long>());
        Assert.Equal("serial", input["attributeName"]!.GetValue<string>());
        Assert.True(input["usePrefixAttributeValue"]!.GetValue<bool>());
        Assert.False(input.ContainsKey("nextToken"));
        Assert.Null(paging!.After);
    }

    [Fact]
    public async Task Bind_PathLabel_IsDecodedOnceFromRawTarget()
    {
        var context = Context("GET", "/things/plant%3Aline%2D1", string.Empty, body: null);

        var (input, paging) = await RequestBinder.BindAsync(context, Model.Operation("DescribeThing"), Model);

        Assert.Equal("plant:line-1", input["thingName"]!.GetValue<string>());
        Assert.Null(paging);
    }

    [Theory]
    [InlineData("/things/%ff")]
    [InlineData("/things/%C3")]
    [InlineData("/things/%ED%A0%80")]
    [InlineData("/things/a%zz")]
    [InlineData("/things/%")]
    public async Task Bind_PathLabelNotUtf8_IsOneInvalidRequest(string rawPath)
    {
        var context = Context("GET", rawPath, string.Empty, body: null);

        var error = await Assert.ThrowsAsync<ServiceException>(() => RequestBinder.BindAsync(context, Model.Operation("DescribeThing"), Model).AsTask());

        Assert.Equal("1 validation error detected: Value at 'thingName' failed to satisfy constraint: Member must be valid percent-encoded UTF-8", error.Message);
    }

    [Theory]
    [InlineData("?thingTypeName=%ff")]
    [InlineData("?thingTypeName=%C3%28")]
    [InlineData("?nextToken=%ED%B0%80")]
    [InlineData("?%ff=1")]
    public async Task Bind_QueryNotUtf8_IsInvalidRequest(string query)
    {
        var context = Context("GET", "/things", query, body: null);

        var error = await Assert.ThrowsAsync<ServiceException>(() => RequestBinder.BindAsync(context, Model.Operation("ListThings"), Model).AsTask());

        Assert.Contains("Member must be valid percent-encoded UTF-8", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"thingTypeName":"a","thingTypeName":"b"}""", "twice")]
    [InlineData("""{"attributePayload":{"attributes":{"a":"\ud800"}}}""", "surrogate")]
    [InlineData("""{"attributePayload":{"attributes":{"a":1,"a":2}}}""", "twice")]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("{} {}", "malformed")]
    public async Task Bind_BodyNotStrictJson_IsInvalidRequest(string body, string expected)
    {
        var context = Context("POST", "/things/ok", string.Empty, body);

        var error = await Assert.ThrowsAsync<ServiceException>(() => RequestBinder.BindAsync(context, Model.Operation("CreateThing"), Model).AsTask());

        Assert.Equal(ErrorCode.InvalidRequest, error.Code);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bind_NullCharacterInAString_IsInvalidRequest()
    {
        var context = Context("POST", "/policies/p", string.Empty, """{"policyDocument":"{}\u0000"}""");

        var error = await Assert.ThrowsAsync<ServiceException>(() => RequestBinder.BindAsync(context, Model.Operation("CreatePolicy"), Model).AsTask());

        Assert.Contains("at 'policyDocument' failed to satisfy constraint: Member must not contain the null character", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("?maxResults=2147483648")]
    [InlineData("?maxResults=-2147483649")]
    public async Task Bind_IntegerBeyond32Bits_IsNotAnInteger(string query)
    {
        var context = Context("GET", "/thing-registration-tasks", query, body: null);

        var error = await Assert.ThrowsAsync<ServiceException>(() => RequestBinder.BindAsync(context, Model.Operation("ListThingRegistrationTasks"), Model).AsTask());

        Assert.Contains("Member must be an integer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bind_ManyViolations_ListsAHundredAndCountsTheRest()
    {
        var body = "{\"thingName\":\"t\",\"thingGroupsToAdd\":[" + string.Join(',', Enumerable.Repeat("\"!\"", 5000)) + "]}";
        var context = Context("PUT", "/thing-groups/updateThingGroupsForThing", string.Empty, body);

        var error = await Assert.ThrowsAsync<ServiceException>(() => RequestBinder.BindAsync(context, Model.Operation("UpdateThingGroupsForThing"), Model).AsTask());

        Assert.StartsWith("5000 validation errors detected: ", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("; (and 4900 more)", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Length < 20_000, $"{error.Message.Length} characters");
    }

    [Fact]
    public async Task Bind_ValueOverItsMaxLength_IsNotPatternMatched()
    {
        var context = Context("POST", "/things/ok", string.Empty, "{\"thingTypeName\":\"" + new string('!', 100_000) + "\"}");

        var error = await Assert.ThrowsAsync<ServiceException>(() => RequestBinder.BindAsync(context, Model.Operation("CreateThing"), Model).AsTask());

        Assert.StartsWith("1 validation error detected: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("Member must have length less than or equal to 128", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bind_WrongJsonTypes_ReportsEachMember()
    {
        var context = Context("POST", "/things/ok", string.Empty, """{"thingTypeName": 5, "attributePayload": {"attributes": ["x"], "merge": "yes"}}""");

        var error = await Assert.ThrowsAsync<ServiceException>(() => RequestBinder.BindAsync(context, Model.Operation("CreateThing"), Model).AsTask());

        Assert.Equal(ErrorCode.InvalidRequest, error.Code);
        Assert.StartsWith("3 validation errors detected: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("at 'thingTypeName' failed to satisfy constraint: Member must be a string", error.Message, StringComparison.Ordinal);
        Assert.Contains("at 'attributePayload.attributes' failed to satisfy constraint: Member must be a map", error.Message, StringComparison.Ordinal);
        Assert.Contains("at 'attributePayload.merge' failed to satisfy constraint: Member must be a boolean", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bind_MapKeyViolation_UsesAwsMapKeyWording()
    {
        var context = Context("POST", "/things/ok", string.Empty, """{"attributePayload": {"attributes": {"bad key": "v"}}}""");

        var error = await Assert.ThrowsAsync<ServiceException>(() => RequestBinder.BindAsync(context, Model.Operation("CreateThing"), Model).AsTask());

        Assert.Contains("Value 'bad key' at 'attributePayload.attributes' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z0-9_.,@/:#-]+]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bind_ListMemberViolation_NamesItsIndex()
    {
        var context = Context("POST", "/untag", string.Empty, """{"resourceArn": "arn:aws:iot:eu-west-1:000000000000:thinggroup/g", "tagKeys": ["ok", ""]}""");

        var error = await Assert.ThrowsAsync<ServiceException>(() => RequestBinder.BindAsync(context, Model.Operation("UntagResource"), Model).AsTask());

        Assert.Contains("at 'tagKeys.2.member' failed to satisfy constraint: Member must have length greater than or equal to 1", error.Message, StringComparison.Ordinal);
    }

    private static DefaultHttpContext Context(string method, string rawPath, string query, string? body)
    {
        var context = new DefaultHttpContext
        {
            RequestServices = new ServiceCollection().AddSingleton(new PageTokens(new byte[PageTokens.SecretLength])).BuildServiceProvider(),
        };
        context.Request.Method = method;
        context.Request.Path = PathString.FromUriComponent(rawPath);
        context.Request.QueryString = new QueryString(query.Length == 0 ? null : query);
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget = rawPath + query;
        if (body is not null)
        {
            context.Request.Body = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(body));
        }

        return context;
    }

    private static JsonObject LoadShapes() => LoadModel()["shapes"]!.AsObject();

    private static JsonObject LoadModel()
    {
        using var stream = typeof(ServiceModel).Assembly.GetManifestResourceStream("Fleetkey.Api.Wire.iot-2015-05-28.json")!;
        return JsonNode.Parse(stream)!.AsObject();
    }
}
