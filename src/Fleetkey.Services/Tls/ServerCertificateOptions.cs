namespace Fleetkey.Services.Tls;

/// <summary>How the listeners' server certificate is made or read, and how often it is checked.</summary>
public sealed class ServerCertificateOptions
{
    /// <summary>The host name clients connect to; a certificate Fleetkey issues names it, localhost and 127.0.0.1.</summary>
    public string PublicHost { get; set; } = "127.0.0.1";

    /// <summary>The operator's PEM certificate (leaf first, then its chain); null for one issued by Fleetkey's CA.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The operator's unencrypted PEM private key, with <see cref="CertificatePath"/>.</summary>
    public string? KeyPath { get; set; }

    /// <summary>Lifetime of a certificate Fleetkey issues itself (90 days, as ACME CAs give).</summary>
    public TimeSpan Validity { get; set; } = TimeSpan.FromDays(90);

    /// <summary>A certificate Fleetkey issued is renewed once less than this remains (a third of its life).</summary>
    public TimeSpan RenewBefore { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often an issued certificate is checked for renewal.</summary>
    public TimeSpan RenewalCheckInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often the operator's files are checked for a rotation.</summary>
    public TimeSpan FileCheckInterval { get; set; } = TimeSpan.FromSeconds(5);
}
