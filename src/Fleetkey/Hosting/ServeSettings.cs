using System.Net;
using Fleetkey.Mqtt;

namespace Fleetkey.Hosting;

/// <summary>
/// What <c>fleetkey serve</c> was told, from flags or their environment variables. This is the one
/// place flags become settings; the host turns them into validated options.
/// </summary>
internal sealed record ServeSettings
{
    public string DataDirectory { get; init; } = "./fleetkey-data";

    /// <summary>PostgreSQL (a postgres:// URL or an Npgsql connection string) instead of the embedded SQLite.</summary>
    public string? Database { get; init; }

    /// <summary>The control plane's listener URL, or several separated by ';' (an http and an https one, say).</summary>
    public string HttpUrl { get; init; } = "http://127.0.0.1:5080";

    public string DeviceHttpUrl { get; init; } = "https://127.0.0.1:5081";

    /// <summary>The operator's PEM certificate chain for every TLS listener; null for one issued by Fleetkey's CA.</summary>
    public string? TlsCertificatePath { get; init; }

    /// <summary>The unencrypted PEM private key of <see cref="TlsCertificatePath"/>.</summary>
    public string? TlsKeyPath { get; init; }

    /// <summary>Lets an http:// listener bind an address other than loopback (behind a TLS-terminating proxy).</summary>
    public bool AllowPlainHttp { get; init; }

    /// <summary>EST renewal: how long a renewed certificate stays ACTIVE unless its successor connects first.</summary>
    public TimeSpan RenewalGrace { get; init; } = TimeSpan.FromDays(7);

    /// <summary>The control plane's listener URLs.</summary>
    public IReadOnlyList<string> HttpUrls => HttpUrl.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>MQTT over TLS; 0 disables the broker.</summary>
    public int MqttPort { get; init; } = 8883;

    /// <summary>The address the MQTT listener binds: loopback by default, as the HTTP listeners; 0.0.0.0 or :: for every interface.</summary>
    public IPAddress MqttBind { get; init; } = IPAddress.Loopback;

    public string AccountId { get; init; } = "000000000000";

    public string PublicHost { get; init; } = "127.0.0.1";

    /// <summary>Key algorithm of a newly created CA: ec-p256 (default), ec-p384 or rsa-2048.</summary>
    public string CaKeyAlgorithm { get; init; } = "ec-p256";

    /// <summary>Key algorithm of keys CreateKeysAndCertificate generates: rsa-2048 (default, as AWS) or ec-p256.</summary>
    public string DeviceKeyAlgorithm { get; init; } = "rsa-2048";

    /// <summary>Device certificate lifetime in days; null means until 2049-12-31T23:59:59Z, as AWS.</summary>
    public int? DeviceValidityDays { get; init; }

    /// <summary>
    /// How many device keys to keep generated ahead of demand, in the store; null means the default for
    /// the algorithm (<see cref="DefaultKeyPoolSize"/>), 0 turns the pool off.
    /// </summary>
    public int? KeyPoolSize { get; init; }

    /// <summary>
    /// 2,000 RSA-2048 keys (~2.5 MB in the database, ~10 minutes of one idle core to fill) absorb a
    /// production-line burst; EC keys are generated faster than they could be stored and fetched.
    /// </summary>
    public static int DefaultKeyPoolSize(string deviceKeyAlgorithm) =>
        string.Equals(deviceKeyAlgorithm, "rsa-2048", StringComparison.OrdinalIgnoreCase) ? 2000 : 0;

    /// <summary>Device endpoint: authenticated registration attempts per serial number per hour (0: no limit).</summary>
    public int DeviceRatePerSerial { get; init; } = 5;

    /// <summary>Device endpoint: requests per source address per minute (0: no limit).</summary>
    public int DeviceRatePerAddress { get; init; } = 60;

    /// <summary>Device endpoint: days the audit log keeps its rows.</summary>
    public int DeviceAuditRetentionDays { get; init; } = 30;

    /// <summary>Days the control plane's audit trail keeps its records.</summary>
    public int AuditRetentionDays { get; init; } = 365;

    /// <summary>Device endpoint: take the source address from X-Forwarded-For (only behind a proxy that sets it).</summary>
    public bool DeviceTrustForwardedFor { get; init; }

    /// <summary>MQTT: keep a device's first connection open once just-in-time provisioning succeeded.</summary>
    public bool JitpKeepConnection { get; init; }

    /// <summary>MQTT limits (payload, CONNECT size, connect timeout, connections, retained messages); the broker's defaults unless a flag says otherwise.</summary>
    public MqttLimits Mqtt { get; init; } = new();

    /// <summary>Encrypts the CA private keys at rest (from FLEETKEY_CA_PASSPHRASE, never a flag).</summary>
    public string? CaPassphrase { get; init; }
}

/// <summary>The broker's limits that <c>serve</c> has flags for; each defaults to <see cref="MqttBrokerOptions"/>'s value.</summary>
internal sealed record MqttLimits
{
    private static readonly MqttBrokerOptions Defaults = new();

    public int MaxPayloadBytes { get; init; } = Defaults.MaxPayloadBytes;

    public int MaxConnectBytes { get; init; } = Defaults.MaxConnectBytes;

    public int ConnectTimeoutSeconds { get; init; } = (int)Defaults.ConnectTimeout.TotalSeconds;

    public int MaxConnections { get; init; } = Defaults.MaxConnections;

    public int MaxConnectionsPerAddress { get; init; } = Defaults.MaxConnectionsPerAddress;

    public int MaxPendingPerAddress { get; init; } = Defaults.MaxPendingPerAddress;

    public int MaxRetainedMessages { get; init; } = Defaults.MaxRetainedMessages;

    public int MaxRetainedBytes { get; init; } = (int)Defaults.MaxRetainedBytes;

    /// <summary>Applies these limits to the broker's options.</summary>
    public void ApplyTo(MqttBrokerOptions options)
    {
        options.MaxPayloadBytes = MaxPayloadBytes;
        options.MaxConnectBytes = MaxConnectBytes;
        options.ConnectTimeout = TimeSpan.FromSeconds(ConnectTimeoutSeconds);
        options.MaxConnections = MaxConnections;
        options.MaxConnectionsPerAddress = MaxConnectionsPerAddress;
        options.MaxPendingPerAddress = MaxPendingPerAddress;
        options.MaxRetainedMessages = MaxRetainedMessages;
        options.MaxRetainedBytes = MaxRetainedBytes;
    }
}
