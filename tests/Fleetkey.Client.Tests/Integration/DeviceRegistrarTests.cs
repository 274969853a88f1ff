using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Fleetkey.Client.Tests.Integration;

/// <summary>The seed's registerThing/unregisterThing in C#, against a real <c>fleetkey serve</c>, state checked through the client.</summary>
public sealed class DeviceRegistrarTests(FleetkeyServer server) : IClassFixture<FleetkeyServer>, IAsyncLifetime
{
    private readonly IotClient _client = server.CreateClient();

    public async Task InitializeAsync()
    {
        try
        {
            await SeedFleet.CreateAsync(_client);
        }
        catch (ResourceAlreadyExistsException)
        {
            // One class instance per test; the server and its fleet are the class's.
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task RegisterThenUnregister_SeveralSerials_ProvisionsThenRemovesEverything()
    {
        var registrar = new DeviceRegistrar(_client);
        string[] serials = ["SN-0001", "SN-0002", "SN-0003", "SN-0004", "SN-0005"];

        var registrations = await Task.WhenAll(serials.Select(s => registrar.RegisterThingAsync(s)));

        Assert.Equal(serials.Length, registrations.Select(r => r.CertificateId).Distinct().Count());
        foreach (var (serial, registration) in serials.Zip(registrations))
        {
            await AssertRegisteredAsync(serial, registration);
        }

        Assert.Equal(serials, (await _client.ListAllThingsInThingGroupAsync(new ListThingsInThingGroupRequest { ThingGroupName = SeedFleet.ThingGroup }).ToListAsync()).Order(StringComparer.Ordinal));

        var unregistrations = await Task.WhenAll(serials.Select(s => registrar.UnregisterThingAsync(s)));

        foreach (var (registration, unregistration) in registrations.Zip(unregistrations))
        {
            Assert.True(unregistration.Deleted);
            Assert.Equal([registration.CertificateArn], unregistration.ThingPrincipals);
        }

        foreach (var (serial, registration) in serials.Zip(registrations))
        {
            await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.DescribeThingAsync(new DescribeThingRequest { ThingName = serial }));
            await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.DescribeCertificateAsync(new DescribeCertificateRequest { CertificateId = registration.CertificateId }));
        }

        Assert.Empty(await _client.ListAllThingsInThingGroupAsync(new ListThingsInThingGroupRequest { ThingGroupName = SeedFleet.ThingGroup }).ToListAsync());
        Assert.Empty(await _client.ListAllTargetsForPolicyAsync(new ListTargetsForPolicyRequest { PolicyName = SeedFleet.Policy }).ToListAsync());

        var again = await registrar.UnregisterThingAsync("SN-0001");
        Assert.Equal((true, 0), (again.Deleted, again.ThingPrincipals.Count));
    }

    [Fact]
    public async Task UnregisterThingAsync_NeverRegistered_IsDeletedWithNoPrincipals()
    {
        var result = await new DeviceRegistrar(_client).UnregisterThingAsync("SN-NEVER");

        Assert.True(result.Deleted);
        Assert.Empty(result.ThingPrincipals);
    }

    [Fact]
    public async Task RegisterThingAsync_OwnTemplate_UsesIt()
    {
        const string Template = """
            {"Parameters":{"ThingName":{"Type":"String"},"SerialNumber":{"Type":"String"},"CertificateId":{"Type":"String"}},
             "Resources":{"device":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"ThingName"},"AttributePayload":{"sn":{"Ref":"SerialNumber"}}}},
                          "cert":{"Type":"AWS::IoT::Certificate","Properties":{"CertificateId":{"Ref":"CertificateId"},"Status":"INACTIVE"}}}}
            """;
        var registrar = new DeviceRegistrar(_client, new DeviceRegistrarOptions { TemplateBody = Template });

        var registration = await registrar.RegisterThingAsync("SN-OWN-1");

        Assert.Equal(new Dictionary<string, string> { ["device"] = FleetkeyServer.Arn("thing", "SN-OWN-1"), ["cert"] = registration.CertificateArn }, registration.ResourceArns);
        var thing = await _client.DescribeThingAsync(new DescribeThingRequest { ThingName = "SN-OWN-1" });
        Assert.Equal((null, "SN-OWN-1"), (thing.ThingTypeName, thing.Attributes?["sn"]));
        Assert.Empty((await _client.ListThingGroupsForThingAsync(new ListThingGroupsForThingRequest { ThingName = "SN-OWN-1" })).ThingGroups!);
        Assert.Equal(CertificateStatus.Inactive, (await _client.DescribeCertificateAsync(new DescribeCertificateRequest { CertificateId = registration.CertificateId })).CertificateDescription?.Status);
    }

    [Fact]
    public async Task RegisterThingAsync_ThroughDependencyInjection_Registers()
    {
        var services = new ServiceCollection();
        services.AddFleetkeyClient(o =>
        {
            o.Endpoint = server.Endpoint;
            o.Region = FleetkeyServer.Region;
            o.AccessKeyId = FleetkeyServer.AccessKeyId;
            o.SecretAccessKey = server.SecretAccessKey;
        });
        await using var provider = services.BuildServiceProvider();

        var registration = await provider.GetRequiredService<DeviceRegistrar>().RegisterThingAsync("SN-DI-1");

        Assert.Equal(FleetkeyServer.Arn("thing", "SN-DI-1"), registration.ResourceArns["thing"]);
        Assert.Equal(SeedFleet.ThingType, (await _client.DescribeThingAsync(new DescribeThingRequest { ThingName = "SN-DI-1" })).ThingTypeName);
    }

    [Fact]
    public async Task RegisterThingAsync_EmptySerial_ThrowsLikeTheSeed()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => new DeviceRegistrar(_client).RegisterThingAsync(""));
        await Assert.ThrowsAsync<ArgumentNullException>(() => new DeviceRegistrar(_client).UnregisterThingAsync(null!));
    }

    private async Task AssertRegisteredAsync(string serial, DeviceRegistration registration)
    {
        // RegisterThing's resourceArns is keyed by the template's logical resource names.
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["thing"] = FleetkeyServer.Arn("thing", serial),
                ["certificate"] = registration.CertificateArn,
                ["policy"] = FleetkeyServer.Arn("policy", SeedFleet.Policy),
            },
            registration.ResourceArns);
        Assert.Equal(FleetkeyServer.Arn("cert", registration.CertificateId), registration.CertificateArn);

        using var certificate = X509Certificate2.CreateFromPem(registration.CertificatePem);
        Assert.Equal(registration.CertificateId, Convert.ToHexStringLower(SHA256.HashData(certificate.RawData)));
        using var privateKey = RSA.Create();
        privateKey.ImportFromPem(registration.PrivateKey);
        using var publicKey = RSA.Create();
        publicKey.ImportFromPem(registration.PublicKey);
        Assert.Equal(certificate.GetRSAPublicKey()!.ExportSubjectPublicKeyInfo(), privateKey.ExportSubjectPublicKeyInfo());
        Assert.Equal(publicKey.ExportSubjectPublicKeyInfo(), privateKey.ExportSubjectPublicKeyInfo());

        var thing = await _client.DescribeThingAsync(new DescribeThingRequest { ThingName = serial });
        Assert.Equal(SeedFleet.ThingType, thing.ThingTypeName);
        Assert.Equal(new Dictionary<string, string> { ["serialNumber"] = serial }, thing.Attributes);
        Assert.Equal([SeedFleet.ThingGroup], (await _client.ListThingGroupsForThingAsync(new ListThingGroupsForThingRequest { ThingName = serial })).ThingGroups!.Select(g => g.GroupName));
        Assert.Equal(CertificateStatus.Active, (await _client.DescribeCertificateAsync(new DescribeCertificateRequest { CertificateId = registration.CertificateId })).CertificateDescription?.Status);
        Assert.Equal([registration.CertificateArn], (await _client.ListThingPrincipalsAsync(new ListThingPrincipalsRequest { ThingName = serial })).Principals);
        Assert.Equal([SeedFleet.Policy], (await _client.ListAttachedPoliciesAsync(new ListAttachedPoliciesRequest { Target = registration.CertificateArn })).Policies!.Select(p => p.PolicyName));
    }
}
