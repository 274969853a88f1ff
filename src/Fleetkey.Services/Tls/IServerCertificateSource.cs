namespace Fleetkey.Services.Tls;

/// <summary>Where the listeners' TLS identity comes from: Fleetkey's own CA, or the operator's files.</summary>
internal interface IServerCertificateSource
{
    /// <summary>How often the monitor asks <see cref="IsStale"/>.</summary>
    TimeSpan CheckInterval { get; }

    /// <summary>Makes or reads the identity; throws with a message naming what is wrong.</summary>
    ServerCertificate Load();

    /// <summary>Whether <paramref name="current"/> should be replaced now (due for renewal, or its files changed).</summary>
    bool IsStale(ServerCertificate current, DateTimeOffset now);
}
