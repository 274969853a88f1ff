using Xunit;

namespace Fleetkey.Client.Tests.Integration;

/// <summary>600 things walked page by page through <see cref="IAsyncEnumerable{T}"/> against a real <c>fleetkey serve</c>.</summary>
public sealed class PaginationTests(FleetkeyServer server) : IClassFixture<FleetkeyServer>, IAsyncLifetime
{
    private const int ThingCount = 600;
    private static readonly string[] Names = [.. Enumerable.Range(0, ThingCount).Select(i => $"paged-{i:D4}")];

    private readonly IotClient _client = server.CreateClient();

    public async Task InitializeAsync()
    {
        // One class instance per test: create the things once per server.
        if ((await _client.ListThingsAsync(new ListThingsRequest { MaxResults = 1 })).Things!.Count > 0)
        {
            return;
        }

        await Parallel.ForEachAsync(Names, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (name, ct) =>
            await _client.CreateThingAsync(
                new CreateThingRequest { ThingName = name, AttributePayload = new AttributePayload { Attributes = new Dictionary<string, string> { ["batch"] = name[^1..] } } },
                ct));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task ListAllThingsAsync_SixHundredThings_YieldsEachOnceInStableOrder()
    {
        var things = await _client.ListAllThingsAsync(new ListThingsRequest { MaxResults = 50 }).ToListAsync();

        Assert.Equal(Names, things.Select(t => t.ThingName).Order(StringComparer.Ordinal));
        Assert.Equal(ThingCount, things.Select(t => t.ThingName).Distinct().Count());
        Assert.All(things, t => Assert.Equal(FleetkeyServer.Arn("thing", t.ThingName!), t.ThingArn));
        Assert.Equal(things.Select(t => t.ThingName), (await _client.ListAllThingsAsync(new ListThingsRequest { MaxResults = 77 }).ToListAsync()).Select(t => t.ThingName));
    }

    [Fact]
    public async Task ListThingsPagesAsync_PageSizeFifty_IsTwelveFullPagesThenNoToken()
    {
        var pages = await _client.ListThingsPagesAsync(new ListThingsRequest { MaxResults = 50 }).ToListAsync();

        Assert.Equal(12, pages.Count);
        Assert.All(pages, p => Assert.Equal(50, p.Things!.Count));
        Assert.All(pages[..^1], p => Assert.False(string.IsNullOrEmpty(p.NextToken)));
        Assert.True(string.IsNullOrEmpty(pages[^1].NextToken));
    }

    [Fact]
    public async Task ListAllThingsAsync_WithFilter_WalksOnlyMatchingThings()
    {
        var batch7 = await _client.ListAllThingsAsync(new ListThingsRequest { AttributeName = "batch", AttributeValue = "7", MaxResults = 7 }).Select(t => t.ThingName!).ToListAsync();

        Assert.Equal(Names.Where(n => n.EndsWith('7')), batch7.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ListAllThingsAsync_TakeTen_FetchesOnePage()
    {
        var handler = new CountingHandler();
        var client = server.CreateClient(handler: handler);

        var first = await client.ListAllThingsAsync(new ListThingsRequest { MaxResults = 100 }).Take(10).ToListAsync();

        Assert.Equal(10, first.Count);
        Assert.Equal(1, handler.Count);
    }
}
