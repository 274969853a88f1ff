using Xunit;

namespace Fleetkey.Api.Tests.Endpoints;

/// <summary>
/// Tests that scrape <c>/metrics</c> run alone, after the others: every in-process host makes a meter named
/// <c>Fleetkey</c>, and a host's exporter listens to every meter of that name in the process, so a host
/// running beside it would mix its own gauges (other counts) into the scrape.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsScrapeDefinition
{
    public const string Name = "metrics scrape";
}
