using System.Text.Json.Nodes;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Errors;
using Microsoft.AspNetCore.Http;
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
        foreach (var pattern in patterns)
        {
            _ = Model.Pattern(pattern).IsMatch("x");
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
        var operations = LoadOperations();

        Assert.Equal(272, operations.Count);
        foreach (var name in operations)
        {
            var route = Model.Operation(name).RoutePattern;
            _ = Microsoft.AspNetCore.Routing.Patterns.RoutePatternFactory.Parse(route);
        }
    }

    [Fact]
    public async Task Bind_QueryHeaderPathAndBody_ProducesTypedInput()
    {
        var context = Context("GET", "/things", "?maxResults=7&attributeName=serial&usePrefixAttributeValue=true", body: null);

        var input = await RequestBinder.BindAsync(context, Model.Operation("ListThings"), Model);

        Assert.Equal(7, input["maxResults"]!.GetValue<long>());
        Assert.Equal("serial", input["attributeName"]!.GetValue<string>());
        Assert.True(input["usePrefixAttributeValue"]!.GetValue<bool>());
        Assert.False(input.ContainsKey("nextToken"));
    }

    [Fact]
    public async Task Bind_PathLabel_IsDecodedOnceFromRawTarget()
    {
        var context = Context("GET", "/things/plant%3Aline%2D1", string.Empty, body: null);

        var input = await RequestBinder.BindAsync(context, Model.Operation("DescribeThing"), Model);

        Assert.Equal("plant:line-1", input["thingName"]!.GetValue<string>());
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
        var context = new DefaultHttpContext();
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

    private static List<string> LoadOperations() => LoadModel()["operations"]!.AsObject().Select(o => o.Key).ToList();

    private static JsonObject LoadModel()
    {
        using var stream = typeof(ServiceModel).Assembly.GetManifestResourceStream("Fleetkey.Api.Wire.iot-2015-05-28.json")!;
        return JsonNode.Parse(stream)!.AsObject();
    }
}
