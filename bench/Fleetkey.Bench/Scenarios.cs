using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
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
        "seed-register" => new SeedRegisterScenario(context, SeedRegisterVariant.Root),
        "seed-register-provisioner" => new SeedRegisterScenario(context, SeedRegisterVariant.Provisioner),
        "seed-register-https" => new SeedRegisterScenario(context, SeedRegisterVariant.Https),
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

/// <summary>Whose key seed-register signs with, and over which listener.</summary>
internal enum SeedRegisterVariant
{
    /// <summary>seed-register: the root key (full access, no policy evaluated), plain HTTP.</summary>
    Root,

    /// <summary>seed-register-https: the root key over the HTTPS control plane.</summary>
    Https,

    /// <summary>seed-register-provisioner: a key carrying only the shipped provisioner policy, plain HTTP; every request is authorized by that policy.</summary>
    Provisioner,
}

/// <summary>
/// The seed's registerThing: CreateKeysAndCertificate(setAsActive) + RegisterThing with the seed's template, per device;
/// the variants send exactly the same requests over another listener or signed with another key, to set against seed-register in one run.
/// </summary>
[SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "A scenario's end is ReleaseAsync, which the runner always calls; the provisioner's client is disposed there.")]
internal sealed class SeedRegisterScenario(BenchContext context, SeedRegisterVariant variant) : Scenario(context)
{
    private const string ProvisionerPolicy = "provisioner";

    private BenchClient? _provisioner;
    private long _refused;
    private string? _firstRefusal;

    private BenchClient Client => variant switch
    {
        SeedRegisterVariant.Https => Context.TlsClient,
        SeedRegisterVariant.Provisioner => _provisioner ?? throw new InvalidOperationException($"{Name} has no key: PrepareAsync makes it."),
        _ => Context.Client,
    };

    public override string Name => variant switch
    {
        SeedRegisterVariant.Https => "seed-register-https",
        SeedRegisterVariant.Provisioner => "seed-register-provisioner",
        _ => "seed-register",
    };

    public override string Unit => "devices";

    public override string Description => "DeviceRegistrar.RegisterThingAsync: CreateKeysAndCertificate(setAsActive) + RegisterThing with the seed's template (2 requests a device)" + variant switch
    {
        SeedRegisterVariant.Https => ", over HTTPS (TLS 1.3, kept-alive connections, the server's own certificate)",
        SeedRegisterVariant.Provisioner => $", signed with an access key made for the run (POST /access-keys) carrying only the shipped {ProvisionerPolicy} policy (policies/{ProvisionerPolicy}.json): every request authorized by its policy, where the root key skips evaluation",
        _ => string.Empty,
    };

    public override bool CountMode => Context.Options.Devices is not null;

    public override string? Ceiling => Context.DeviceKeyAlgorithm == "ec-p256" ? CryptoCeilings.EcKeyAndCertificate : CryptoCeilings.RsaKeyAndCertificate;

    public override async Task PrepareAsync(BenchProgress progress, CancellationToken cancellationToken)
    {
        Context.Registered = true;

        // The seed's thing type, group and policy are made with the root key: the provisioner policy allows registering devices, not that.
        await SeedResources.EnsureAsync(variant == SeedRegisterVariant.Https ? Context.TlsClient.Iot : Context.Client.Iot, cancellationToken);
        if (variant == SeedRegisterVariant.Provisioner)
        {
            var phase = progress.Begin($"{Name}: creating an access key with the {ProvisionerPolicy} policy", 0);
            AccessKey key;
            try
            {
                key = await Context.Client.CreateAccessKeyAsync($"fleetkey bench {Context.RunId}{Name}", ProvisionerPolicy, ReadProvisionerPolicy(), cancellationToken);
            }
            catch (IotServiceException exception)
            {
                throw new InvalidOperationException($"{Name} could not create its key with POST /access-keys, signed with {Context.Client.Iot.AccessKeyId}: {exception.ErrorCode}: {exception.Message}", exception);
            }

            _provisioner = new BenchClient(Context.Client.Endpoint, key, Context.Options.Region, Context.Options.Concurrency, Context.Options.RequestTimeout);
            phase.Complete($"{key.AccessKeyId}, policy {ProvisionerPolicy}");
        }
    }

    public override async ValueTask<bool> RunOnceAsync(long sequence, CancellationToken cancellationToken)
    {
        var serial = Context.RunId + Suffix + sequence.ToString("D7", CultureInfo.InvariantCulture);
        DeviceRegistration registration;
        try
        {
            registration = await Client.Registrar.RegisterThingAsync(serial, cancellationToken);
        }
        catch (AccessDeniedException refusal) when (variant == SeedRegisterVariant.Provisioner)
        {
            Interlocked.CompareExchange(ref _firstRefusal, refusal.Message, null);
            Interlocked.Increment(ref _refused);
            throw;
        }

        Context.ObserveDeviceKey(registration.PublicKey);
        Context.Devices.Enqueue(serial);
        return true;
    }

    public override void MeasurementStarting() => ThrowIfRefused("warm-up");

    public override Task<IReadOnlyList<string>> NotesAsync(LoadResult result, CancellationToken cancellationToken)
    {
        ThrowIfRefused("measurement");
        return Task.FromResult<IReadOnlyList<string>>(_provisioner is null ? [] :
        [
            $"Signed with {_provisioner.Iot.AccessKeyId}, made for this run with the {ProvisionerPolicy} policy only; no request refused (a refusal fails the scenario).",
        ]);
    }

    public override async ValueTask ReleaseAsync()
    {
        if (_provisioner is null)
        {
            return;
        }

        var id = _provisioner.Iot.AccessKeyId;
        _provisioner.Dispose();
        _provisioner = null;
        try
        {
            // Against a server given by --endpoint the key would outlive the run.
            await Context.Client.DeleteAccessKeyAsync(id, CancellationToken.None);
        }
        catch (Exception exception) when (exception is IotServiceException or HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"[bench] {Name}: could not delete access key {id}: {exception.Message}");
        }
    }

    private string Suffix => variant switch
    {
        SeedRegisterVariant.Https => "t",
        SeedRegisterVariant.Provisioner => "p",
        _ => string.Empty,
    };

    /// <summary>
    /// A refused request makes the comparison with seed-register meaningless (a refusal is answered before any work), so
    /// the scenario fails with the reason rather than reporting a rate: the shipped policy no longer allows what the seed does.
    /// </summary>
    private void ThrowIfRefused(string phase)
    {
        if (Interlocked.Exchange(ref _refused, 0) is > 0 and var refused)
        {
            throw new InvalidOperationException(
                $"{refused:N0} registrations refused (AccessDeniedException) in the {phase}: policies/{ProvisionerPolicy}.json does not allow all of the seed's registerThing; the first: {_firstRefusal}");
        }
    }

    private static string ReadProvisionerPolicy()
    {
        using var stream = typeof(SeedRegisterScenario).Assembly.GetManifestResourceStream($"Fleetkey.Bench.{ProvisionerPolicy}.json")
            ?? throw new InvalidOperationException($"policies/{ProvisionerPolicy}.json is not embedded in the bench.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
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
