namespace Fleetkey.Services.Security;

/// <summary>How renewals over EST retire the certificate they replace.</summary>
public sealed class CertificateRenewalOptions
{
    /// <summary>How long a renewed certificate stays ACTIVE unless its successor connects first (7 days by default).</summary>
    public TimeSpan Grace { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// The least time between two renewals of one certificate: a device retrying a lost answer waits this
    /// long, and a stolen certificate cannot mint certificates faster than one a minute.
    /// </summary>
    public TimeSpan MinInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often certificates past their grace period are looked for.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(1);
}
