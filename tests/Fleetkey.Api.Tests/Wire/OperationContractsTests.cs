using Fleetkey.Api.Contracts;
using Fleetkey.Api.Wire;
using Fleetkey.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Fleetkey.Api.Tests.Wire;

/// <summary>
/// Every operation the running server maps, read from its route table: its route is the model's, and its
/// input and output have generated contracts that the JSON context can read and write.
/// </summary>
public sealed class OperationContractsTests : IAsyncLifetime
{
    private FleetkeyTestHost _host = null!;

    public async Task InitializeAsync() => _host = await FleetkeyTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public void MappedOperations_EachHasTheModelRouteAndGeneratedContracts()
    {
        var endpoints = _host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<OperationModel>() is not null)
            .ToList();
        var contracts = typeof(ApiJsonContext).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(ApiJsonContext).Namespace)
            .ToDictionary(t => t.Name, StringComparer.Ordinal);
        var problems = new List<string>();

        foreach (var endpoint in endpoints)
        {
            var operation = endpoint.Metadata.GetMetadata<OperationModel>()!;
            Assert.Same(operation, operation.Model.Operation(operation.Name));
            if (RoutePatternFactory.Parse(operation.RoutePattern).RawText != endpoint.RoutePattern.RawText)
            {
                problems.Add($"{operation.Name}: mapped at {endpoint.RoutePattern.RawText}, the model says {operation.RoutePattern}");
            }

            foreach (var shape in new[] { operation.InputShape, operation.OutputShape }.OfType<string>())
            {
                if (!contracts.TryGetValue(shape, out var type))
                {
                    problems.Add($"{operation.Name}: no generated contract {shape}");
                }
                else if (ApiJsonContext.Default.GetTypeInfo(type) is null)
                {
                    problems.Add($"{operation.Name}: {shape} is not in ApiJsonContext");
                }
            }
        }

        Assert.Empty(problems);

        // Both models are served: AWS IoT's operations and Fleetkey's own (enrollments, the device endpoint, health).
        var mapped = endpoints.Select(e => e.Metadata.GetMetadata<OperationModel>()!).DistinctBy(o => o.Name).ToList();
        Assert.Contains(mapped, o => o.Model == ServiceModel.Iot);
        Assert.Equal(
            ServiceModel.Fleetkey.OperationNames().Order(StringComparer.Ordinal),
            mapped.Where(o => o.Model == ServiceModel.Fleetkey).Select(o => o.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void MapAws_HandlerBindingAnotherOperationsInput_IsRefusedAtStartup()
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        using var app = builder.Build();
        var handler = static (AwsRequest<DescribeThingRequest> request) => request.Input.ThingName;

        var error = Assert.Throws<InvalidOperationException>(() => app.MapAws("DeleteThing", handler));

        Assert.Contains("DeleteThingRequest", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GeneratedContracts_MemberNamedByPolicyOrExplicitly_RoundTripsTheWireNames()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(
            new CreateKeysAndCertificateResponse { CertificateId = "c", KeyPair = new KeyPair { PublicKey = "pub", PrivateKey = "priv" } },
            ApiJsonContext.Default.CreateKeysAndCertificateResponse);

        Assert.Equal("""{"certificateId":"c","keyPair":{"PrivateKey":"priv","PublicKey":"pub"}}""", json);
        Assert.DoesNotContain("priv", new KeyPair { PublicKey = "pub", PrivateKey = "priv" }.ToString(), StringComparison.Ordinal);
    }
}
