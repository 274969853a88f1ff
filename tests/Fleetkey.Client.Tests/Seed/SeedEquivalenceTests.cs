using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fleetkey.Client.Tests.Integration;
using Fleetkey.Testing;
using Xunit;

namespace Fleetkey.Client.Tests.Seed;

/// <summary>Two fresh <c>fleetkey serve</c> processes: one for the seed's JavaScript, one for the C# <see cref="DeviceRegistrar"/>.</summary>
public sealed class TwoServers : IAsyncLifetime
{
    public FleetkeyServer ForSeed { get; } = new();

    public FleetkeyServer ForRegistrar { get; } = new();

    // xunit makes class fixtures even when every test of the class is skipped: no servers for a skipped test.
    public Task InitializeAsync() => SharedSeed.SkipReason(SeedEquivalenceTests.SeedFile) is null
        ? Task.WhenAll(ForSeed.InitializeAsync(), ForRegistrar.InitializeAsync())
        : Task.CompletedTask;

    public Task DisposeAsync() => Task.WhenAll(ForSeed.DisposeAsync(), ForRegistrar.DisposeAsync());
}

/// <summary>
/// The equivalence test: the seed's <c>register-thing.js</c> (unchanged, aws-sdk v2, run by
/// Node as tests/seed runs it) and <see cref="DeviceRegistrar"/> register the same serial numbers on
/// two fresh servers, and the two fleets are the same — things, types, groups, attributes,
/// certificate states, principals and policy attachments — once certificate ids (and the ARNs that
/// carry them), keys and dates are set aside. Unregistering, and unregistering again, likewise.
/// </summary>
public sealed class SeedEquivalenceTests(TwoServers servers) : IClassFixture<TwoServers>
{
    internal const string SeedFile = "register-thing.js";

    private static readonly string[] Serials = ["SN-EQ-0001", "SN-EQ-0002", "SN-EQ-0003", "SN-EQ-0004", "SN-EQ-0005", "SN-EQ-0006"];

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    [SharedSeedFact(SeedFile)]
    public async Task RegisterThenUnregister_SeedJavaScriptAndDeviceRegistrar_LeaveTheSameFleet()
    {
        var seedClient = servers.ForSeed.CreateClient();
        var registrarClient = servers.ForRegistrar.CreateClient();
        await Task.WhenAll(SeedFleet.CreateAsync(seedClient), SeedFleet.CreateAsync(registrarClient));
        var registrar = new DeviceRegistrar(registrarClient);

        // Register: the seed's results and the registrar's have the same fields and values.
        var seedResults = await RunSeedAsync(servers.ForSeed, "register");
        var registrarResults = new JsonObject();
        foreach (var serial in Serials)
        {
            var r = await registrar.RegisterThingAsync(serial);
            registrarResults[serial] = new JsonObject
            {
                ["certificateArn"] = r.CertificateArn,
                ["certificateId"] = r.CertificateId,
                ["certificatePem"] = r.CertificatePem,
                ["privateKey"] = r.PrivateKey,
                ["publicKey"] = r.PublicKey,
                ["resourceArns"] = new JsonObject(r.ResourceArns.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value))),
            };
        }

        var seedIds = CertificateIds(seedResults);
        var registrarIds = CertificateIds(registrarResults);
        AssertSame(Normalize(RegistrationShape(seedResults), seedIds), Normalize(RegistrationShape(registrarResults), registrarIds), "registration results");
        AssertSame(await FleetAsync(seedClient, seedIds), await FleetAsync(registrarClient, registrarIds), "fleet after registering");

        // Unregister, then unregister again (the thing is gone: deleted, no principals).
        foreach (var pass in new[] { "unregistering", "unregistering again" })
        {
            var seedUnregistered = await RunSeedAsync(servers.ForSeed, "unregister");
            var registrarUnregistered = new JsonObject();
            foreach (var serial in Serials)
            {
                var u = await registrar.UnregisterThingAsync(serial);
                registrarUnregistered[serial] = new JsonObject { ["deleted"] = u.Deleted, ["thingPrincipals"] = new JsonArray([.. u.ThingPrincipals.Select(p => (JsonNode?)p)]) };
            }

            AssertSame(Normalize(seedUnregistered, seedIds), Normalize(registrarUnregistered, registrarIds), $"results of {pass}");
            AssertSame(await FleetAsync(seedClient, seedIds), await FleetAsync(registrarClient, registrarIds), $"fleet after {pass}");
            var expected = pass == "unregistering"
                ? Serials.Select(s => $$"""{"deleted":true,"thingPrincipals":["{{FleetkeyServer.Arn("cert", "certificate-of-" + s)}}"]}""")
                : Serials.Select(_ => """{"deleted":true,"thingPrincipals":[]}""");
            Assert.Equal(expected, Serials.Select(s => Normalize(registrarUnregistered[s]!.ToJsonString(), registrarIds)));
        }
    }

    /// <summary>
    /// Everything the seed's registration touches, as seen through the client: things with type,
    /// attributes, version, groups and principals; types; groups with members; certificates with
    /// status, things and policies; policies with targets and default version. Certificate ids are
    /// normalized before anything is sorted, so that the order does not depend on them.
    /// </summary>
    private static async Task<string> FleetAsync(IotClient client, IReadOnlyDictionary<string, string> certificateIds)
    {
        JsonArray Strings(IEnumerable<string?> values) => new([.. values.Select(v => Normalize(v ?? "(null)", certificateIds)).Order(StringComparer.Ordinal).Select(v => (JsonNode?)v)]);

        var things = new JsonArray();
        await foreach (var thing in client.ListAllThingsAsync())
        {
            var name = thing.ThingName!;
            var described = await client.DescribeThingAsync(new DescribeThingRequest { ThingName = name });
            things.Add(new JsonObject
            {
                ["thingName"] = name,
                ["thingArn"] = described.ThingArn,
                ["thingTypeName"] = described.ThingTypeName,
                ["attributes"] = Sorted(described.Attributes),
                ["version"] = described.Version,
                ["groups"] = Strings(await client.ListAllThingGroupsForThingAsync(new ListThingGroupsForThingRequest { ThingName = name }).Select(g => $"{g.GroupName} {g.GroupArn}").ToListAsync()),
                ["principals"] = Strings(await client.ListAllThingPrincipalsAsync(new ListThingPrincipalsRequest { ThingName = name }).ToListAsync()),
            });
        }

        var types = new JsonArray();
        await foreach (var type in client.ListAllThingTypesAsync())
        {
            types.Add(new JsonObject
            {
                ["thingTypeName"] = type.ThingTypeName,
                ["thingTypeArn"] = type.ThingTypeArn,
                ["deprecated"] = type.ThingTypeMetadata?.Deprecated,
                ["searchableAttributes"] = Strings(type.ThingTypeProperties?.SearchableAttributes ?? []),
            });
        }

        var groups = new JsonArray();
        await foreach (var group in client.ListAllThingGroupsAsync())
        {
            groups.Add(new JsonObject
            {
                ["groupName"] = group.GroupName,
                ["groupArn"] = group.GroupArn,
                ["things"] = Strings(await client.ListAllThingsInThingGroupAsync(new ListThingsInThingGroupRequest { ThingGroupName = group.GroupName! }).ToListAsync()),
            });
        }

        var certificates = new List<JsonObject>();
        await foreach (var certificate in client.ListAllCertificatesAsync())
        {
            certificates.Add(new JsonObject
            {
                ["certificateArn"] = Normalize(certificate.CertificateArn!, certificateIds),
                ["status"] = certificate.Status,
                ["things"] = Strings(await client.ListAllPrincipalThingsAsync(new ListPrincipalThingsRequest { Principal = certificate.CertificateArn! }).ToListAsync()),
                ["policies"] = Strings(await client.ListAllAttachedPoliciesAsync(new ListAttachedPoliciesRequest { Target = certificate.CertificateArn! }).Select(p => p.PolicyArn!).ToListAsync()),
            });
        }

        var policies = new JsonArray();
        await foreach (var policy in client.ListAllPoliciesAsync())
        {
            var got = await client.GetPolicyAsync(new GetPolicyRequest { PolicyName = policy.PolicyName! });
            policies.Add(new JsonObject
            {
                ["policyName"] = policy.PolicyName,
                ["policyArn"] = policy.PolicyArn,
                ["defaultVersionId"] = got.DefaultVersionId,
                ["targets"] = Strings(await client.ListAllTargetsForPolicyAsync(new ListTargetsForPolicyRequest { PolicyName = policy.PolicyName! }).ToListAsync()),
            });
        }

        var fleet = new JsonObject
        {
            ["things"] = things,
            ["thingTypes"] = types,
            ["thingGroups"] = groups,
            ["certificates"] = new JsonArray([.. certificates.OrderBy(c => c["certificateArn"]!.GetValue<string>(), StringComparer.Ordinal)]),
            ["policies"] = policies,
        };
        return fleet.ToJsonString(Indented);
    }

    /// <summary>The results with the certificate and keys reduced to their PEM type: the same server issues both, so only the kind can match.</summary>
    private static string RegistrationShape(JsonObject results)
    {
        var shaped = new JsonObject();
        foreach (var (serial, result) in results.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            var copy = result!.AsObject().DeepClone().AsObject();
            foreach (var pem in new[] { "certificatePem", "privateKey", "publicKey" })
            {
                copy[pem] = copy[pem]!.GetValue<string>().Split('\n')[0].Trim();
            }

            copy["resourceArns"] = Sorted(copy["resourceArns"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>()));
            shaped[serial] = new JsonObject(copy.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));
        }

        return shaped.ToJsonString(Indented);
    }

    private static Dictionary<string, string> CertificateIds(JsonObject results) =>
        results.ToDictionary(r => r.Value!["certificateId"]!.GetValue<string>(), r => r.Key);

    /// <summary>Each certificate id (alone or in an ARN) becomes "certificate-of-SERIAL": ids are random, whose they are is not.</summary>
    private static string Normalize(JsonNode json, IReadOnlyDictionary<string, string> certificateIds) =>
        Normalize(json.ToJsonString(Indented), certificateIds);

    private static string Normalize(string json, IReadOnlyDictionary<string, string> certificateIds) =>
        certificateIds.Aggregate(json, (text, id) => text.Replace(id.Key, "certificate-of-" + id.Value, StringComparison.Ordinal));

    private static void AssertSame(string seed, string registrar, string what) =>
        Assert.True(seed == registrar, $"The seed's JavaScript and DeviceRegistrar differ in the {what}.\n--- seed (register-thing.js)\n{seed}\n--- DeviceRegistrar\n{registrar}");

    private static JsonObject Sorted(IReadOnlyDictionary<string, string>? map) =>
        new((map ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value)));

    /// <summary>Runs tests/Fleetkey.Client.Tests/Seed/seed-registrar.js: the seed's own functions for every serial, on <paramref name="server"/>.</summary>
    private static async Task<JsonObject> RunSeedAsync(FleetkeyServer server, string action)
    {
        var root = FleetkeyServer.RepositoryRoot;
        var seedFile = SharedSeed.PathOf(SeedFile);
        var nodeModules = await SeedNodeModulesAsync(root);

        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList = { Path.Combine(root, "tests", "Fleetkey.Client.Tests", "Seed", "seed-registrar.js"), action },
            Environment =
            {
                ["NODE_PATH"] = nodeModules,
                ["SEED_FILE"] = seedFile,
                ["FLEETKEY_ENDPOINT"] = server.Endpoint.ToString().TrimEnd('/'),
                ["FLEETKEY_ACCESS_KEY_ID"] = FleetkeyServer.AccessKeyId,
                ["FLEETKEY_SECRET_ACCESS_KEY"] = server.SecretAccessKey,
                ["region"] = FleetkeyServer.Region,
            },
        };
        foreach (var serial in Serials)
        {
            start.ArgumentList.Add(serial);
        }

        var (exitCode, output, error) = await RunAsync(start);
        Assert.True(exitCode == 0, $"node seed-registrar.js {action} failed ({exitCode}):\n{error}");
        return JsonNode.Parse(output)!.AsObject();
    }

    /// <summary>tests/seed's aws-sdk v2 (CI installs it with npm ci; installed here the same way when missing).</summary>
    private static async Task<string> SeedNodeModulesAsync(string root)
    {
        var seedProject = Path.Combine(root, "tests", "seed");
        var nodeModules = Path.Combine(seedProject, "node_modules");
        if (!File.Exists(Path.Combine(nodeModules, "aws-sdk", "package.json")))
        {
            var (exitCode, _, error) = await RunAsync(new ProcessStartInfo("npm")
            {
                WorkingDirectory = seedProject,
                ArgumentList = { "ci", "--no-audit", "--no-fund", "--loglevel=error" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            Assert.True(exitCode == 0, $"npm ci in {seedProject} failed:\n{error}");
        }

        return nodeModules;
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(ProcessStartInfo start)
    {
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }
}
