using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Client;

namespace Fleetkey.Bench;

/// <summary>What the scenarios share: the client, the devices registered so far, the CSRs, the registry's size.</summary>
internal sealed class BenchContext(BenchClient client, BenchOptions options, IReadOnlyList<PreparedCsr> csrs, int? serverPid, MqttTarget? mqtt = null, BenchClient? tlsClient = null)
{
    private string? _deviceKeyAlgorithm;

    public BenchClient Client { get; } = client;

    /// <summary>The same control plane over HTTPS, when the bench started the server (it listens on both).</summary>
    public BenchClient TlsClient => tlsClient ?? throw new InvalidOperationException("No HTTPS control plane: seed-register-https needs --start-server (the bench then serves the control plane on http:// and https://).");

    public BenchOptions Options { get; } = options;

    public IReadOnlyList<PreparedCsr> Csrs { get; } = csrs;

    public int? ServerPid { get; } = serverPid;

    /// <summary>The server's MQTT broker, when an MQTT scenario runs.</summary>
    public MqttTarget? Mqtt { get; } = mqtt;

    public void RequireMqtt()
    {
        if (Mqtt is null)
        {
            throw new InvalidOperationException("No MQTT broker: give --mqtt-port with --endpoint (the bench enables it itself with --start-server).");
        }
    }

    /// <summary>Names of this run's devices start with it, so runs against one server never collide.</summary>
    public string RunId { get; } = "dev-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3)) + "-";

    /// <summary>Devices registered and not yet unregistered, in the order they were registered.</summary>
    public ConcurrentQueue<string> Devices { get; } = new();

    /// <summary>Whether seed-register ran (seed-unregister then unregisters its devices instead of registering its own).</summary>
    public bool Registered { get; set; }

    /// <summary>The key algorithm of the keys CreateKeysAndCertificate returned, as seen in the first answer.</summary>
    public string? DeviceKeyAlgorithm => Volatile.Read(ref _deviceKeyAlgorithm);

    public void ObserveDeviceKey(string publicKeyPem)
    {
        if (Volatile.Read(ref _deviceKeyAlgorithm) is null)
        {
            Interlocked.CompareExchange(ref _deviceKeyAlgorithm, KeyAlgorithms.OfPublicKeyPem(publicKeyPem), null);
        }
    }

    private long _sequence = -1;

    public long NextSequence() => Interlocked.Increment(ref _sequence);
}

/// <summary>
/// One thing the bench measures. Count mode (<c>--devices</c>) runs exactly that many operations,
/// for seed-register and csr; otherwise a scenario runs for the duration (or until its work runs out).
/// </summary>
internal abstract class Scenario(BenchContext context)
{
    protected BenchContext Context { get; } = context;

    public abstract string Name { get; }

    /// <summary>What one operation is, for the report (e.g. "devices", "pages").</summary>
    public abstract string Unit { get; }

    public abstract string Description { get; }

    public virtual bool CountMode => false;

    /// <summary>The crypto ceiling this scenario is bound by, if any.</summary>
    public virtual string? Ceiling => null;

    /// <summary>Untimed work before the warm-up.</summary>
    public virtual Task PrepareAsync(BenchProgress progress, CancellationToken cancellationToken) => Task.CompletedTask;

    public abstract ValueTask<bool> RunOnceAsync(long sequence, CancellationToken cancellationToken);

    /// <summary>Called after the warm-up (and the settling), just before the measured load starts.</summary>
    public virtual void MeasurementStarting()
    {
    }

    /// <summary>More of what the measurement saw, for the report (e.g. messages a subscriber received).</summary>
    public virtual Task<IReadOnlyList<string>> NotesAsync(LoadResult result, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>([]);

    /// <summary>Releases what <see cref="PrepareAsync"/> set up (connections, devices' keys).</summary>
    public virtual ValueTask ReleaseAsync() => ValueTask.CompletedTask;

    public static Scenario Create(string name, BenchContext context) => name switch
    {
        "seed-register" => new SeedRegisterScenario(context, overTls: false),
        "seed-register-https" => new SeedRegisterScenario(context, overTls: true),
        "seed-unregister" => new SeedUnregisterScenario(context),
        "csr" => new CsrScenario(context),
        "describe" => new DescribeScenario(context),
        "list" => new ListScenario(context),
        "mqtt-connect" => new MqttConnectScenario(context),
        "mqtt-publish" => new MqttPublishScenario(context),
        "fleet-provisioning" => new FleetProvisioningScenario(context),
        "ocsp" => new OcspScenario(context),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown scenario."),
    };
}

/// <summary>
/// The seed's registerThing: CreateKeysAndCertificate(setAsActive) + RegisterThing with the seed's template, per device;
/// <paramref name="overTls"/>, the same over the HTTPS control plane (kept-alive TLS connections), to set against it in one run.
/// </summary>
internal sealed class SeedRegisterScenario(BenchContext context, bool overTls) : Scenario(context)
{
    private BenchClient Client => overTls ? Context.TlsClient : Context.Client;

    public override string Name => overTls ? "seed-register-https" : "seed-register";

    public override string Unit => "devices";

    public override string Description => "DeviceRegistrar.RegisterThingAsync: CreateKeysAndCertificate(setAsActive) + RegisterThing with the seed's template (2 requests a device)"
        + (overTls ? ", over HTTPS (TLS 1.3, kept-alive connections, the server's own certificate)" : string.Empty);

    public override bool CountMode => Context.Options.Devices is not null;

    public override string? Ceiling => Context.DeviceKeyAlgorithm == "ec-p256" ? CryptoCeilings.EcKeyAndCertificate : CryptoCeilings.RsaKeyAndCertificate;

    public override Task PrepareAsync(BenchProgress progress, CancellationToken cancellationToken)
    {
        Context.Registered = true;
        return SeedResources.EnsureAsync(Client.Iot, cancellationToken);
    }

    public override async ValueTask<bool> RunOnceAsync(long sequence, CancellationToken cancellationToken)
    {
        var serial = Context.RunId + (overTls ? "t" : string.Empty) + sequence.ToString("D7", CultureInfo.InvariantCulture);
        var registration = await Client.Registrar.RegisterThingAsync(serial, cancellationToken);
        Context.ObserveDeviceKey(registration.PublicKey);
        Context.Devices.Enqueue(serial);
        return true;
    }
}

/// <summary>The seed's unregisterThing per device: list principals; per certificate detach, set INACTIVE, force-delete; delete the thing (5 requests a device).</summary>
internal sealed class SeedUnregisterScenario(BenchContext context) : Scenario(context)
{
    public override string Name => "seed-unregister";

    public override string Unit => "devices";

    public override string Description => "DeviceRegistrar.UnregisterThingAsync of devices registered before: ListThingPrincipals, DetachThingPrincipal, UpdateCertificate INACTIVE, DeleteCertificate, DeleteThing (5 requests a device)";

    public override async Task PrepareAsync(BenchProgress progress, CancellationToken cancellationToken)
    {
        if (Context.Registered)
        {
            return;
        }

        // No seed-register before: register devices to unregister, with client-made keys (CreateCertificateFromCsr
        // + RegisterThing), which leaves each device as the seed's flow does, without waiting for server key generation.
        await SeedResources.EnsureAsync(Context.Client.Iot, cancellationToken);
        var count = Context.Options.UnregisterDevices;
        var phase = progress.Begin($"{Name}: registering {count:N0} devices first", count);
        var result = await LoadDriver.RunAsync(
            new LoadPlan(Context.Options.Concurrency, null, count),
            async (sequence, ct) =>
            {
                var serial = Context.RunId + "u" + sequence.ToString("D7", CultureInfo.InvariantCulture);
                var csr = Context.Csrs[(int)(sequence % Context.Csrs.Count)];
                var certificate = await Context.Client.Iot.CreateCertificateFromCsrAsync(new CreateCertificateFromCsrRequest { CertificateSigningRequest = csr.Pem, SetAsActive = true }, ct);
                await Context.Client.Iot.RegisterThingAsync(
                    new RegisterThingRequest
                    {
                        TemplateBody = Context.Client.Registrar.TemplateBody,
                        Parameters = new Dictionary<string, string> { ["ThingName"] = serial, ["SerialNumber"] = serial, ["CertificateId"] = certificate.CertificateId! },
                    },
                    ct);
                Context.Devices.Enqueue(serial);
                return true;
            },
            Context.NextSequence,
            Context.ServerPid,
            phase,
            cancellationToken);
        phase.Complete($"{result.Succeeded:N0} devices, {result.Failed} errors");
        if (result.Failed > 0)
        {
            throw new InvalidOperationException($"Registering devices for {Name} failed: {string.Join("; ", result.Errors)}");
        }
    }

    public override async ValueTask<bool> RunOnceAsync(long sequence, CancellationToken cancellationToken)
    {
        if (!Context.Devices.TryDequeue(out var serial))
        {
            return false;
        }

        var result = await Context.Client.Registrar.UnregisterThingAsync(serial, cancellationToken);
        return result.ThingPrincipals.Count == 1
            ? true
            : throw new InvalidOperationException($"{serial} had {result.ThingPrincipals.Count} principals, not the 1 it was registered with.");
    }
}

/// <summary>CreateCertificateFromCsr(setAsActive) with EC P-256 CSRs made before the run.</summary>
internal sealed class CsrScenario(BenchContext context) : Scenario(context)
{
    public override string Name => "csr";

    public override string Unit => "certificates";

    public override string Description => $"CreateCertificateFromCsr(setAsActive) with EC P-256 CSRs made before the run ({Context.Csrs.Count:N0} distinct, used in turn)";

    public override bool CountMode => Context.Options.Devices is not null;

    public override string? Ceiling => CryptoCeilings.CsrAndCertificate;

    public override async ValueTask<bool> RunOnceAsync(long sequence, CancellationToken cancellationToken)
    {
        var csr = Context.Csrs[(int)(sequence % Context.Csrs.Count)];
        var response = await Context.Client.Iot.CreateCertificateFromCsrAsync(new CreateCertificateFromCsrRequest { CertificateSigningRequest = csr.Pem, SetAsActive = true }, cancellationToken);
        return response.CertificateId is { Length: 64 } ? true : throw new InvalidOperationException("CreateCertificateFromCsr answered without a certificate id.");
    }
}

/// <summary>DescribeThing of a random thing of the registry.</summary>
internal sealed class DescribeScenario(BenchContext context) : Scenario(context)
{
    public override string Name => "describe";

    public override string Unit => "requests";

    public override string Description => $"DescribeThing of a random one of {Context.Options.Things:N0} things";

    public override async ValueTask<bool> RunOnceAsync(long sequence, CancellationToken cancellationToken)
    {
        var name = RegistryFiller.ThingName(Random.Shared.Next(Context.Options.Things));
        var thing = await Context.Client.Iot.DescribeThingAsync(new DescribeThingRequest { ThingName = name }, cancellationToken);
        return thing.ThingName == name ? true : throw new InvalidOperationException($"DescribeThing {name} answered {thing.ThingName}.");
    }
}

/// <summary>ListThings, a page of 100 starting at a random position (a nextToken for a random thing).</summary>
internal sealed class ListScenario(BenchContext context) : Scenario(context)
{
    private const int PageSize = 100;

    // Page tokens are sealed by the server (bound to ListThings and its filters), so the positions a page can
    // start from are collected by walking the registry once, untimed: every 250th thing, with its successor.
    private const int WalkPageSize = 250;

    private readonly List<(string Token, string First)> _starts = [];

    public override string Name => "list";

    public override string Unit => "pages";

    public override string Description => $"ListThings maxResults=100 from a random position of {Context.Options.Things:N0} things (one of the nextTokens a walk of the registry returned)";

    public override async Task PrepareAsync(BenchProgress progress, CancellationToken cancellationToken)
    {
        var phase = progress.Begin($"{Name}: collecting page tokens", Context.Options.Things);
        string? token = null;
        var seen = 0;
        do
        {
            var page = await Context.Client.Iot.ListThingsAsync(new ListThingsRequest { MaxResults = WalkPageSize, NextToken = token }, cancellationToken);
            var things = page.Things ?? [];
            if (token is not null && things.Count > 0)
            {
                _starts.Add((token, things[0].ThingName!));
            }

            seen += things.Count;
            phase.Report(seen, $"{_starts.Count:N0} positions");
            token = page.NextToken;
        }
        while (token is not null);

        // Every position but the last has a full walk page (250) after it; the last may have fewer than 100.
        if (_starts.Count > 0)
        {
            _starts.RemoveAt(_starts.Count - 1);
        }

        phase.Complete($"{_starts.Count:N0} positions");
        if (_starts.Count == 0)
        {
            throw new InvalidOperationException($"ListThings returned fewer than {2 * WalkPageSize} things: nothing to page through.");
        }
    }

    public override async ValueTask<bool> RunOnceAsync(long sequence, CancellationToken cancellationToken)
    {
        var (token, first) = _starts[Random.Shared.Next(_starts.Count)];
        var page = await Context.Client.Iot.ListThingsAsync(new ListThingsRequest { MaxResults = PageSize, NextToken = token }, cancellationToken);
        return page.Things is { Count: PageSize } things && things[0].ThingName == first
            ? true
            : throw new InvalidOperationException($"ListThings from a token answered {page.Things?.Count ?? 0} things starting at {(page.Things is { Count: > 0 } got ? got[0].ThingName : null)}, not {PageSize} from {first}.");
    }
}

/// <summary>What the seed's template needs to exist beforehand: thing type NewDevice, group NewDevices, policy DefaultNewDevicePolicy.</summary>
internal static class SeedResources
{
    // What a device provisioned this way may do: connect as itself, and publish and subscribe under its own topic.
    private const string PolicyDocument = """
        {"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}"},
          {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"arn:aws:iot:*:*:topic/devices/${iot:Connection.Thing.ThingName}/*"},
          {"Effect":"Allow","Action":"iot:Subscribe","Resource":"arn:aws:iot:*:*:topicfilter/devices/${iot:Connection.Thing.ThingName}/*"}]}
        """;

    public static async Task EnsureAsync(IotClient client, CancellationToken cancellationToken)
    {
        await IgnoreExisting(client.CreateThingTypeAsync(new CreateThingTypeRequest { ThingTypeName = "NewDevice" }, cancellationToken));
        await IgnoreExisting(client.CreateThingGroupAsync(new CreateThingGroupRequest { ThingGroupName = "NewDevices" }, cancellationToken));
        await IgnoreExisting(client.CreatePolicyAsync(new CreatePolicyRequest { PolicyName = "DefaultNewDevicePolicy", PolicyDocument = PolicyDocument }, cancellationToken));
    }

    public static async Task IgnoreExisting(Task create)
    {
        try
        {
            await create;
        }
        catch (ResourceAlreadyExistsException)
        {
            // An earlier run made it.
        }
    }
}

/// <summary>An EC P-256 CSR made before the run, as PEM (what the API takes) and DER (what the ceiling parses).</summary>
internal sealed record PreparedCsr(string Pem, byte[] Der)
{
    /// <summary>Makes <paramref name="count"/> CSRs on every core.</summary>
    public static PreparedCsr[] Make(int count)
    {
        var csrs = new PreparedCsr[count];
        Parallel.For(0, count, i =>
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest(string.Create(CultureInfo.InvariantCulture, $"CN=bench-csr-{i}"), key, HashAlgorithmName.SHA256);
            var der = request.CreateSigningRequest();
            csrs[i] = new PreparedCsr(PemEncoding.WriteString("CERTIFICATE REQUEST", der), der);
        });
        return csrs;
    }
}

/// <summary>Names key algorithms the way the server's flags do (rsa-2048, ec-p256, ec-p384).</summary>
internal static class KeyAlgorithms
{
    /// <summary>The algorithm of a PEM public key (SubjectPublicKeyInfo), as CreateKeysAndCertificate returns it.</summary>
    public static string OfPublicKeyPem(string pem)
    {
        var fields = PemEncoding.Find(pem);
        var key = PublicKey.CreateFromSubjectPublicKeyInfo(Convert.FromBase64String(pem[fields.Base64Data]), out _);
        using var ec = key.GetECDsaPublicKey();
        using var rsa = key.GetRSAPublicKey();
        return Name(ec, rsa);
    }

    /// <summary>The algorithm of a certificate's key: for the issuing CA, the first certificate of the chain the server publishes at /ca.pem.</summary>
    public static string OfCertificate(X509Certificate2 certificate)
    {
        using var ec = certificate.GetECDsaPublicKey();
        using var rsa = certificate.GetRSAPublicKey();
        return Name(ec, rsa);
    }

    private static string Name(ECDsa? ec, RSA? rsa) =>
        ec is not null ? $"ec-p{ec.KeySize}" : rsa is not null ? $"rsa-{rsa.KeySize}" : "unknown";
}
