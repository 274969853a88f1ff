using Fleetkey.Core.Errors;
using Fleetkey.Services.Registry;
using Xunit;

namespace Fleetkey.Services.Tests.Registry;

public sealed class PageRequestTests
{
    [Theory]
    [InlineData(null, 100)]
    [InlineData(1, 1)]
    [InlineData(7, 7)]
    [InlineData(250, 250)]
    public void From_ValidMaxResults_SetsLimitAndFetchesOneMore(int? maxResults, int limit)
    {
        var page = PageRequest.From(null, maxResults);

        Assert.Null(page.After);
        Assert.Equal(limit, page.Limit);
        Assert.Equal(limit + 1, page.Fetch);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(251)]
    [InlineData(int.MaxValue)]
    public void From_MaxResultsOutOfRange_ThrowsInvalidRequest(int maxResults)
    {
        ServiceAssert.Throws(
            ErrorCode.InvalidRequest,
            () => PageRequest.From(null, maxResults),
            $"Value '{maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 250");
    }

    [Fact]
    public void From_MaxResultsOutOfRangeWithFieldName_NamesTheField()
    {
        ServiceAssert.Throws(ErrorCode.InvalidRequest, () => PageRequest.From(null, 0, "pageSize"), "at 'pageSize'");
    }

    [Fact]
    public void From_After_IsTheKeyAsGiven()
    {
        Assert.Equal("thing:7", PageRequest.From("thing:7", null).After);
    }
}
